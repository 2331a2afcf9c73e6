"""The curve reader on synthetic histories with known shapes, and on recorded runs."""

import json
from pathlib import Path

import numpy as np
import pytest

from cifar_helpers.diagnose import read_curves


def history(train, val, val_loss):
    return {"accuracy": list(train), "val_accuracy": list(val), "val_loss": list(val_loss),
            "loss": [1.0] * len(train)}


def test_overfitting_run_is_named_with_the_epoch_where_val_loss_turns_up():
    epochs = np.arange(20)
    d = read_curves(history(np.minimum(0.3 + 0.05 * epochs, 0.99), np.minimum(0.3 + 0.04 * epochs, 0.6),
                            np.r_[np.linspace(2.0, 1.1, 8), np.linspace(1.15, 2.0, 12)]))
    assert d.verdict.startswith("over-fitting")
    assert "lowest at epoch 8" in str(d) and "turned up" in str(d)


def test_run_still_improving_is_told_to_train_longer():
    epochs = np.arange(10)
    d = read_curves(history(0.3 + 0.04 * epochs, 0.28 + 0.035 * epochs, 2.0 - 0.08 * epochs))
    assert d.verdict.startswith("still learning")


def test_flat_low_training_accuracy_is_underfitting():
    d = read_curves(history([0.3, 0.5, 0.55, 0.56, 0.56, 0.56], [0.3, 0.5, 0.54, 0.55, 0.55, 0.55],
                            [2.0, 1.5, 1.3, 1.28, 1.28, 1.28]))
    assert d.verdict.startswith("under-fitting")


def test_converged_good_fit_is_a_plateau():
    d = read_curves(history([0.5, 0.8, 0.9, 0.9, 0.9, 0.9], [0.5, 0.78, 0.85, 0.85, 0.85, 0.85],
                            [1.5, 0.7, 0.5, 0.5, 0.5, 0.5]))
    assert d.verdict.startswith("plateaued")


def test_recorded_run_is_accepted_and_missing_validation_is_explained():
    run = {"history": history([0.5, 0.6], [0.5, 0.6], [1.0, 0.9])}
    assert read_curves(run).verdict
    with pytest.raises(KeyError, match="validation_data"):
        read_curves({"accuracy": [0.5], "loss": [1.0]})


def test_validation_at_chance_points_at_labels_and_scaling():
    d = read_curves(history([0.10, 0.12, 0.15, 0.19], [0.10, 0.09, 0.11, 0.10], [2.30, 2.31, 2.33, 2.36]))
    assert d.verdict.startswith("at chance") and "labels" in d.verdict


RECORDED_07 = Path(__file__).resolve().parents[1] / "results" / "quick" / "07_stuck_at_60_percent"


@pytest.mark.parametrize("run", ["batch512", "bn", "bn_no_maxnorm", "answer1_strided", "batch64"])
def test_recorded_batch_norm_runs_are_read_as_batch_norm_lag(run):
    record = json.loads((RECORDED_07 / f"{run}.json").read_text())
    assert read_curves(record).verdict.startswith("batch-norm lag"), run


@pytest.mark.parametrize("run, verdict", [("bug_shuffled_labels", "at chance"), ("asker", "still learning"),
                                          ("answer1_small", "still learning"), ("final", "plateaued")])
def test_recorded_runs_without_the_lag_keep_their_reading(run, verdict):
    record = json.loads((RECORDED_07 / f"{run}.json").read_text())
    assert read_curves(record).verdict.startswith(verdict), run


def test_gradient_norms_agree_with_a_finite_difference_on_this_backend():
    import keras
    import numpy as np

    from cifar_helpers import diagnose

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, use_bias=False),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    labels = np.arange(4) % 10
    gradient = keras.ops.convert_to_numpy(diagnose.loss_gradients(model, images, labels)[0])
    kernel = model.trainable_variables[0]
    start, step = keras.ops.convert_to_numpy(kernel), np.zeros(kernel.shape, "float32")
    step[1, 1, 0, 0] = 1e-2
    losses = []
    for sign in (1, -1):
        kernel.assign(start + sign * step)
        losses.append(float(keras.ops.convert_to_numpy(diagnose.batch_loss(model, images, labels))))
    kernel.assign(start)
    assert gradient[1, 1, 0, 0] == pytest.approx((losses[0] - losses[1]) / 2e-2, rel=0.05, abs=1e-4)
    assert diagnose.conv_gradient_norms(model, images, labels) == pytest.approx([np.linalg.norm(gradient)], rel=1e-5)


def test_the_most_confused_pair_counts_both_directions():
    from cifar_helpers.diagnose import confusion_counts, most_confused_pair
    counts = confusion_counts([0, 0, 1, 1, 2, 2, 2], [1, 0, 0, 1, 1, 1, 2], 3)
    assert counts.tolist() == [[1, 1, 0], [1, 1, 0], [0, 2, 1]]
    assert most_confused_pair(counts) == ((0, 1), 2)  # 0<->1 twice (once each way), 2->1 twice: the first found
    assert most_confused_pair(confusion_counts([2, 2, 2, 0], [1, 1, 1, 1], 3)) == ((1, 2), 3)
