"""The curve reader on synthetic histories with known shapes, and on recorded runs."""

import json
from pathlib import Path

import numpy as np
import pytest

from cifar_helpers.diagnose import read_curves


def history(train, val, val_loss):
    return {"accuracy": list(train), "val_accuracy": list(val), "val_loss": list(val_loss), "loss": [1.0] * len(train)}


def test_overfitting_run_is_named_with_the_epoch_where_val_loss_turns_up():
    epochs = np.arange(20)
    d = read_curves(
        history(
            np.minimum(0.3 + 0.05 * epochs, 0.99),
            np.minimum(0.3 + 0.04 * epochs, 0.6),
            np.r_[np.linspace(2.0, 1.1, 8), np.linspace(1.15, 2.0, 12)],
        )
    )
    assert d.verdict.startswith("over-fitting")
    assert "lowest at epoch 8" in str(d) and "turned up" in str(d)


def test_run_still_improving_is_told_to_train_longer():
    epochs = np.arange(10)
    d = read_curves(history(0.3 + 0.04 * epochs, 0.28 + 0.035 * epochs, 2.0 - 0.08 * epochs))
    assert d.verdict.startswith("still learning")


def test_flat_low_training_accuracy_is_underfitting():
    d = read_curves(
        history(
            [0.3, 0.5, 0.55, 0.56, 0.56, 0.56], [0.3, 0.5, 0.54, 0.55, 0.55, 0.55], [2.0, 1.5, 1.3, 1.28, 1.28, 1.28]
        )
    )
    assert d.verdict.startswith("under-fitting")


def test_converged_good_fit_is_a_plateau():
    d = read_curves(
        history([0.5, 0.8, 0.9, 0.9, 0.9, 0.9], [0.5, 0.78, 0.85, 0.85, 0.85, 0.85], [1.5, 0.7, 0.5, 0.5, 0.5, 0.5])
    )
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


@pytest.mark.parametrize(
    "run, verdict",
    [
        ("bug_shuffled_labels", "at chance"),
        ("asker", "still learning"),
        ("answer1_small", "still learning"),
        ("final", "still learning"),
    ],
)
def test_recorded_runs_without_the_lag_keep_their_reading(run, verdict):
    record = json.loads((RECORDED_07 / f"{run}.json").read_text())
    assert read_curves(record).verdict.startswith(verdict), run


def test_gradient_norms_agree_with_a_finite_difference_on_this_backend():
    import keras
    import numpy as np

    from cifar_helpers import diagnose

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3, use_bias=False),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
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


RECORDED_OVERNIGHT = Path(__file__).resolve().parents[1] / "results" / "overnight"


# The committed all-data histories that notebooks 01, 04 and 07 read aloud, each verdict pinned: "plateaued" only
# where training and validation accuracy are both flat over the last fifth of training (at least 3 epochs).
@pytest.mark.parametrize(
    "notebook, run, verdict",
    [
        ("01_baseline_cnn", "baseline", "over-fitting"),  # 60 epochs: validation loss lowest at epoch 10
        ("01_baseline_cnn", "baseline_long", "over-fitting"),
        ("04_learning_rate_schedule", "schedule_0", "plateaued"),  # Adam at a constant 0.01 for 60 epochs: both flat
        ("07_stuck_at_60_percent", "asker_long", "plateaued"),
        ("07_stuck_at_60_percent", "bn_no_maxnorm", "still learning: validation accuracy is still rising"),
        ("07_stuck_at_60_percent", "final", "still learning: training accuracy is still rising"),
        ("07_stuck_at_60_percent", "sanity_overfit", "over-fitting"),
    ],
)
def test_recorded_overnight_verdicts(notebook, run, verdict):
    diagnosis = read_curves(json.loads((RECORDED_OVERNIGHT / notebook / f"{run}.json").read_text()))
    assert diagnosis.verdict.startswith(verdict), str(diagnosis)


def test_plateaued_is_said_only_when_both_accuracies_are_flat():
    for path in sorted(RECORDED_OVERNIGHT.glob("*/*.json")) + sorted(RECORDED_07.glob("*.json")):
        diagnosis = read_curves(json.loads(path.read_text()))
        if diagnosis.verdict.startswith("plateaued"):
            assert "training accuracy is flat" in diagnosis.evidence[-1], path
            assert "validation accuracy is flat" in diagnosis.evidence[-1], path


def test_the_end_of_training_is_its_last_fifth_and_at_least_three_epochs():
    flat_then_noisy = [0.75] * 47 + [0.74, 0.75, 0.77]  # its last 3 epochs alone would read "climbing"
    d = read_curves(history([0.8] * 50, flat_then_noisy, [0.6] * 49 + [0.61]))
    assert "over the last 10 epochs" in str(d) and d.verdict.startswith("plateaued")
    assert "over the last 3 epochs" in str(read_curves(history([0.5] * 10, [0.5] * 10, [1.0] * 10)))
