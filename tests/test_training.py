"""Training runs: recorded with their backend and data, reused when settings match, resumed when interrupted."""

import json

import keras
import numpy as np
import pytest

from cifar_helpers import records
from cifar_helpers.feed import make_batches
from cifar_helpers.split import split_validation
from cifar_helpers.noise import seed_spread
from cifar_helpers.training import EpochLines
from cifar_helpers.machinery.matching import recorded_epoch_lines
from cifar_helpers.machinery.recorded import train_and_record, train_more_seeds
from cifar_helpers.machinery.resume import run_dir


def tiny_model(learning_rate=1e-3):
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def split(tiny_cifar):
    return split_validation(tiny_cifar, val_size=50)


def train(split, epochs=2, build=tiny_model, **options):
    return train_and_record(
        build, split, notebook="99_test", run="tiny", budget="smoke", epochs=epochs, batch_size=32, **options
    )


class StopAfter(keras.callbacks.Callback):
    """Interrupt fit at the end of one epoch, as a closed laptop or a killed kernel would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_train_and_record_writes_the_run(split, capsys):
    record, model = train(split)
    saved = json.loads((records.results_dir() / "smoke" / "99_test" / "tiny.json").read_text())
    assert saved == record
    assert len(saved["history"]["val_accuracy"]) == 2 and saved["train_size"] == 150
    assert 0.0 <= saved["test_accuracy"] <= 1.0 and saved["params"] == model.count_params()
    assert saved["backend"] == keras.backend.backend() and saved["backend_version"] and saved["keras"]
    assert "tiny: test accuracy" in capsys.readouterr().out
    assert records.load_results("smoke")[0]["run"] == "tiny"


def test_a_matching_record_is_reused_with_its_weights(split, capsys):
    first, trained = train(split)
    while_training = [line.split(" (")[0] for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    again, model = train(split)
    out = capsys.readouterr().out
    assert again == first  # the same record: nothing was trained
    # a reused run prints one line, ending with the last epoch's line as it printed while training (times apart)
    (reused,) = [line for line in out.splitlines() if "epoch" in line]
    assert reused.startswith("reused recorded run tiny (weights from the local cache), last of its epochs: ")
    assert reused.split(": ", 1)[1].split(" (")[0] == while_training[-1]
    assert while_training == [
        f"epoch {n}/2: " + ", ".join(f"{name} {first['history'][key][n - 1]:.4f}" for key, name in EpochLines.NAMES)
        for n in (1, 2)
    ]
    np.testing.assert_allclose(model.get_weights()[0], trained.get_weights()[0])


def test_without_cached_weights_a_record_is_reused_unless_the_model_is_needed(split, capsys):
    train(split)
    for path in run_dir("smoke", "99_test", "tiny").iterdir():
        path.unlink()
    capsys.readouterr()
    record, model = train(split)
    assert model is None and "reused recorded run tiny" in capsys.readouterr().out
    record, model = train(split, needs_model=True)
    assert model is not None and "epoch 2/2:" in capsys.readouterr().out


def test_other_settings_or_cifar_retrain_train_again(split, capsys, monkeypatch):
    train(split)
    capsys.readouterr()
    record, _ = train(split, epochs=3)
    assert len(record["history"]["loss"]) == 3 and "reused" not in capsys.readouterr().out
    monkeypatch.setenv("CIFAR_RETRAIN", "1")
    train(split, epochs=3)
    out = capsys.readouterr().out
    assert "reused" not in out and "training tiny anew: CIFAR_RETRAIN=1 asks for it" in out


def test_reuse_only_stops_a_run_that_would_train_and_reuses_one_that_matches(split, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR_REUSE_ONLY", "1")
    with pytest.raises(RuntimeError, match="99_test tiny has no record to reuse here.*CIFAR_REUSE_ONLY=1"):
        train(split)
    assert "training tiny: no record of it yet" in capsys.readouterr().out  # the line above the error says why
    assert not records.result_path("smoke", "99_test", "tiny").exists()
    monkeypatch.delenv("CIFAR_REUSE_ONLY")
    first, _ = train(split)
    monkeypatch.setenv("CIFAR_REUSE_ONLY", "1")
    assert train(split)[0] == first
    for path in run_dir("smoke", "99_test", "tiny").iterdir():  # the record alone, the weights gone
        path.unlink()
    with pytest.raises(RuntimeError, match="no record to reuse"):
        train(split, needs_model=True)
    assert "its model is needed and this machine has no weights for it" in capsys.readouterr().out


def test_an_edited_learning_rate_trains_anew_and_says_what_changed(split, capsys):
    first, _ = train(split)
    capsys.readouterr()
    edited, _ = train(split, build=lambda: tiny_model(learning_rate=1e-2))
    out = capsys.readouterr().out
    assert "training tiny anew: its record was made with other settings: optimizer learning_rate 0.001 -> 0.01" in out
    assert (
        "reused" not in out
        and edited["fingerprint"]["optimizer"]["learning_rate"] != first["fingerprint"]["optimizer"]["learning_rate"]
    )


def test_a_record_made_before_fingerprints_is_stamped_once_without_training(split, capsys):
    first, _ = train(split)
    path = records.result_path("smoke", "99_test", "tiny")
    unstamped = {k: v for k, v in first.items() if k != "fingerprint"}
    records.write_json_atomically(path, unstamped)
    capsys.readouterr()
    again, _ = train(split)
    assert "reused recorded run tiny" in capsys.readouterr().out
    assert json.loads(path.read_text()) == again == {**unstamped, "fingerprint": first["fingerprint"]}


def test_cached_weights_of_other_settings_are_never_loaded(split, capsys):
    train(split)
    stamp = run_dir("smoke", "99_test", "tiny") / "settings.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "epochs": 5}))  # weights from another run
    capsys.readouterr()
    record, model = train(split, needs_model=True)
    out = capsys.readouterr().out
    assert "weights from the local cache" not in out and "epoch 2/2:" in out and model is not None


class FailingScores:
    """Test-time scores that fail once, as a bug in test-time augmentation would, then work."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model, split):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("a bug after the fit")
        return {"probe": 1.0}


def test_a_finished_fit_survives_a_failure_after_it(split, capsys):
    scores = FailingScores()
    with pytest.raises(RuntimeError, match="a bug after the fit"):
        train(split, epochs=3, scores=scores)
    capsys.readouterr()
    record, _ = train(split, epochs=3, scores=scores)
    out = capsys.readouterr().out
    assert "the fit finished in an earlier sitting (3 epochs); testing its saved weights" in out
    assert "epoch 1/3:" not in out and len(record["history"]["loss"]) == 3 and record["probe"] == 1.0


def test_the_runner_terminal_gets_one_progress_line_per_epoch(split, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR_PROGRESS", "1")
    lines = []
    monkeypatch.setattr(
        "sys.__stderr__", type("Sink", (), {"write": lambda self, t: lines.append(t), "flush": lambda self: None})()
    )
    train(split, epochs=3)
    shown = [line for line in "".join(lines).splitlines() if line.strip()]
    assert [line.split(",")[0] for line in shown] == [f"  99_test tiny: epoch {n}/3" for n in (1, 2, 3)]
    assert all("min so far, about" in line and line.endswith("min left") for line in shown)
    assert "99_test tiny: epoch" not in capsys.readouterr().out  # the notebook's own output stays compact


def test_an_interrupted_fit_resumes_from_its_last_finished_epoch(split, capsys):
    with pytest.raises(KeyboardInterrupt):
        train(split, epochs=4, callbacks=[StopAfter(1)])
    with pytest.raises(records.MissingResultError):
        records.load_result("smoke", "99_test", "tiny")
    capsys.readouterr()
    record, _ = train(split, epochs=4)
    out = capsys.readouterr().out
    assert "resuming from epoch 2 of 4" in out
    assert "epoch 1/4:" not in out and "epoch 3/4:" in out
    assert len(record["history"]["loss"]) == 4 and len(record["history"]["val_accuracy"]) == 4


def test_epoch_lines_are_short_and_thin_out_on_long_runs(capsys):
    logs = {"loss": 1.23456, "accuracy": 0.5, "val_loss": 1.5, "val_accuracy": 0.45}
    for epochs, shown in (
        (3, [1, 2, 3]),
        (10, list(range(1, 11))),
        (20, [4, 8, 12, 16, 20]),
        (16, [4, 8, 12, 16]),
        (45, [9, 18, 27, 36, 45]),
        (22, [5, 10, 15, 20, 22]),
    ):
        lines = EpochLines(epochs)
        for epoch in range(epochs):
            lines.on_epoch_begin(epoch)
            lines.on_epoch_end(epoch, logs)
        out = capsys.readouterr().out.splitlines()
        assert [int(line.split("/")[0].split()[-1]) for line in out] == shown
    assert out[-1].startswith("epoch 22/22: loss 1.2346, accuracy 0.5000, val loss 1.5000, val accuracy 0.4500 (")


def test_uncompiled_model_is_refused(split):
    with pytest.raises(ValueError, match="compiled"):
        train_and_record(
            lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten()]),
            split,
            notebook="x",
            run="y",
            budget="smoke",
            epochs=1,
        )


def test_one_hot_batches_for_label_smoothing():
    images = np.zeros((4, 32, 32, 3), np.uint8)
    x, y = next(iter(make_batches(images, np.arange(4), batch_size=4, num_classes=10)))
    y = keras.ops.convert_to_numpy(y)
    assert y.shape == (4, 10) and keras.ops.convert_to_numpy(x).dtype.name == "float32"
    np.testing.assert_array_equal(y.argmax(axis=1), np.arange(4))


def test_shuffled_batches_cover_every_image_once_per_epoch():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 32, 32, 3), np.uint8)
    batches = make_batches(images, np.arange(10), batch_size=4, shuffle=True, seed=1)
    seen = np.concatenate([keras.ops.convert_to_numpy(y) for _, y in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the tf.data pipeline is TensorFlow's")
def test_the_pipeline_without_autotuning_gives_the_same_batches_in_the_same_order(monkeypatch):
    import cifar_helpers.feed as feed

    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 32, 32, 3), np.uint8)
    epochs = {}
    for autotune in (True, False):
        monkeypatch.setattr(feed, "TF_DATA_AUTOTUNE", autotune)
        batches = make_batches(images, np.arange(10), batch_size=4, shuffle=True, seed=1)
        assert (batches.options().autotune.enabled is not False) is autotune  # None: the default, on
        epochs[autotune] = [[keras.ops.convert_to_numpy(y).tolist() for _, y in batches] for _ in range(2)]
    assert epochs[True] == epochs[False] and epochs[True][0] != epochs[True][1]  # reshuffled each epoch, alike


def test_extra_scores_and_epoch_times_are_recorded(split):
    record, _ = train(split, scores=lambda model, data: {"test_accuracy_probe": len(data.y_test) / 100})
    assert record["test_accuracy_probe"] == pytest.approx(len(split.y_test) / 100)
    assert len(record["epoch_seconds"]) == 2 and sum(record["epoch_seconds"]) == pytest.approx(
        record["wall_time_s"], abs=0.1
    )


def calibration_probe(model, data):
    return {"test_probe": 0.5}


def test_a_record_without_the_asked_scores_is_trained_anew(split, capsys):
    train(split)  # recorded without scores
    capsys.readouterr()
    record, _ = train(split, scores=calibration_probe)
    assert "training tiny anew: its record lacks the scores of calibration_probe" in capsys.readouterr().out
    assert record["test_probe"] == 0.5 and record["scores"] == "calibration_probe"
    again, _ = train(split, scores=calibration_probe)
    assert "reused recorded run tiny" in capsys.readouterr().out and again == record


def test_more_seeds_differ_from_the_first_run_only_in_their_seed(split):
    first, _ = train(split, config={"width": 1})
    runs = train_more_seeds(tiny_model, split, first, seeds=(1, 2))
    assert [r["run"] for r in runs] == ["tiny", "tiny_seed1", "tiny_seed2"] and [r["seed"] for r in runs] == [0, 1, 2]
    assert all(r["config"] == {"width": 1} and r["epochs"] == 2 and r["batch_size"] == 32 for r in runs)
    assert len(seed_spread(runs).accuracies) == 3
    assert records.load_result("smoke", "99_test", "tiny_seed2") == runs[2]
    with pytest.raises(ValueError, match="own seed 0"):
        train_more_seeds(tiny_model, split, first, seeds=(0, 1))


def test_recorded_epoch_lines_keep_a_long_runs_log_to_about_five_lines():
    epochs = 23
    history = {key: [0.5] * epochs for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
    lines = recorded_epoch_lines({"epochs": epochs, "history": history, "epoch_seconds": [12.0] * epochs})
    assert [line.split(":")[0] for line in lines] == [
        "epoch  5/23",
        "epoch 10/23",
        "epoch 15/23",
        "epoch 20/23",
        "epoch 23/23",
    ]
    assert lines[-1].endswith("val accuracy 0.5000 (12 s)")


def test_testing_after_every_epoch_keeps_each_epochs_score_and_ends_at_the_final_test(split):
    record, model = train(split, epochs=3, test_each_epoch=True)
    tested = record["history"]["test_accuracy"]
    assert len(tested) == 3 and len(record["history"]["test_loss"]) == 3 and record["test_each_epoch"] is True
    assert tested[-1] == pytest.approx(record["test_accuracy"])  # the last epoch's test is the run's test


def test_a_record_tested_once_does_not_stand_in_for_a_run_tested_every_epoch(split, capsys):
    train(split)
    capsys.readouterr()
    record, _ = train(split, test_each_epoch=True)
    assert "test_each_epoch null -> true" in capsys.readouterr().out
    assert "test_accuracy" in record["history"]


def test_kept_predictions_are_the_models_own_and_a_record_without_them_trains_once(split, capsys):
    first, _ = train(split)
    with pytest.raises(records.MissingResultError, match="keep_predictions=True"):
        records.kept_predictions(first)
    capsys.readouterr()
    kept, model = train(split, keep_predictions=True)  # the record lacks them: trained once more, now keeping them
    assert "lacks the test predictions asked for" in capsys.readouterr().out
    classes, confidence = records.kept_predictions(kept)
    probabilities = model.predict(split.x_test.astype("float32"), verbose=0)
    np.testing.assert_array_equal(classes, probabilities.argmax(axis=1))
    np.testing.assert_allclose(confidence, probabilities.max(axis=1), atol=5e-5)
    for path in run_dir("smoke", "99_test", "tiny").iterdir():  # no weights: the record alone answers
        path.unlink()
    again, model = train(split, keep_predictions=True)
    assert model is None and again == kept and "reused recorded run tiny" in capsys.readouterr().out
