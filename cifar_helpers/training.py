"""Train a model, test it and record the run; reuse a matching record; resume an interrupted fit."""

import contextlib
import datetime
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import keras

from .backend import backend_versions
from .checks import warn_if_unscaled
from .data import cache_dir
from .feed import evaluation_batch_size, make_batches
from .fingerprint import fingerprint
from .resume import (LostProcessError, agree_on_resume, backed_up_epoch, backup_callback, leave_before_jax_shutdown,
                     looks_lost, lost_process_message)
from .records import differences, retrain_requested, found_result_path, result_path, results_dir, write_json_atomically

PROGRESS_VAR = "CIFAR_PROGRESS"  # set by `python -m cifar_helpers run`: one line per epoch on its terminal


def wants_one_hot(model) -> bool:
    """True when the compiled loss is categorical (one-hot targets), e.g. for label smoothing."""
    loss = model.loss
    name = loss if isinstance(loss, str) else type(loss).__name__
    return name in ("categorical_crossentropy", "CategoricalCrossentropy", "categorical_focal_crossentropy",
                    "CategoricalFocalCrossentropy")


def run_dir(budget: str, notebook: str, run: str) -> Path:
    """Where an unfinished run keeps its backup, and a finished one its weights (Keras' cache, not the project)."""
    return cache_dir().parent / "cifar_runs" / budget / notebook / run


class EpochLog(keras.callbacks.Callback):
    """Append each finished epoch's logs and elapsed seconds to a JSON file, so a resumed fit keeps the whole history."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.entries = json.loads(path.read_text()) if path.exists() else []
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        self.entries = self.entries[:epoch] + [{"logs": {k: float(v) for k, v in (logs or {}).items()}, "seconds": seconds}]
        write_json_atomically(self.path, self.entries)

    def keep(self, epochs: int) -> None:
        """Forget the epochs after the first `epochs` (a resume from an earlier epoch than this process logged)."""
        if len(self.entries) > epochs:
            self.entries = self.entries[:epochs]
            write_json_atomically(self.path, self.entries)

    def history(self) -> dict:
        """{metric: [value per epoch]} over every epoch logged, across sittings."""
        keys = self.entries[0]["logs"].keys() if self.entries else []
        return {key: [entry["logs"][key] for entry in self.entries] for key in keys}

    def seconds(self) -> float:
        """Training seconds over every epoch logged, across sittings."""
        return sum(entry["seconds"] for entry in self.entries)


class TestEachEpoch(keras.callbacks.Callback):
    """Test accuracy and loss after every epoch, added to that epoch's logs (so the record's history keeps them)."""

    def __init__(self, test_batches):
        super().__init__()
        self.test_batches = test_batches

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.evaluate(self.test_batches, verbose=0, return_dict=True)
        if logs is not None:
            logs.update(test_accuracy=float(scores["accuracy"]), test_loss=float(scores["loss"]))


class EpochLines(keras.callbacks.Callback):
    """One short line per epoch for runs of up to 10 epochs, else about five lines and the last; the record keeps them all."""

    NAMES = (("loss", "loss"), ("accuracy", "accuracy"), ("val_loss", "val loss"), ("val_accuracy", "val accuracy"))

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self.every = 1 if epochs <= 10 else math.ceil(epochs / 5)
        self.started = None

    def shows(self, number: int) -> bool:
        """Whether epoch `number` (from 1) gets a line."""
        return number % self.every == 0 or number == self.epochs

    def line(self, number: int, logs: dict, seconds: float) -> str:
        """The line for epoch `number` (from 1)."""
        values = ", ".join(f"{name} {logs[key]:.4f}" for key, name in self.NAMES if key in logs)
        return f"epoch {number:>{len(str(self.epochs))}}/{self.epochs}: {values} ({seconds:.0f} s)"

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.shows(epoch + 1):
            print(self.line(epoch + 1, logs or {}, time.perf_counter() - self.started))


class TerminalProgress(keras.callbacks.Callback):
    """One line per epoch on the terminal that runs the notebooks (not in the notebook): which run, time so far, time left."""

    def __init__(self, title: str, epochs: int, stream=None):
        super().__init__()
        self.title, self.epochs, self.stream = title, epochs, stream or sys.__stderr__
        self.started, self.first_epoch = None, 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.started is None:  # the first epoch of this sitting (a resumed run starts part-way)
            self.started, self.first_epoch = time.perf_counter(), epoch

    def on_epoch_end(self, epoch, logs=None):
        done, elapsed = epoch + 1 - self.first_epoch, time.perf_counter() - self.started
        left = elapsed / done * (self.epochs - epoch - 1)
        accuracy = (logs or {}).get("val_accuracy")
        shown = f", val accuracy {accuracy:.4f}" if accuracy is not None else ""
        print(f"  {self.title}: epoch {epoch + 1}/{self.epochs}{shown}, {elapsed / 60:.1f} min so far, "
              f"about {left / 60:.1f} min left", file=self.stream, flush=True)


def progress_callbacks(title: str, epochs: int) -> list:
    """[TerminalProgress] when the notebook runner asked for it ($CIFAR_PROGRESS), else []."""
    return [TerminalProgress(title, epochs)] if os.environ.get(PROGRESS_VAR) else []


def recorded_epoch_lines(record: dict) -> list:
    """The lines a recorded run printed while it trained, rebuilt from its history and epoch times."""
    lines, history = EpochLines(record["epochs"]), record["history"]
    seconds = record.get("epoch_seconds") or [record["seconds_per_epoch"]] * record["epochs"]
    return [lines.line(epoch + 1, {key: values[epoch] for key, values in history.items()}, seconds[epoch])
            for epoch in range(len(seconds)) if lines.shows(epoch + 1)]


def placement_line(strategy) -> str:
    """The device line setup_devices printed, or a short stand-in."""
    return getattr(strategy, "device_line", None) or "default device (setup_devices not called)"


def several_processes(placement) -> bool:
    """True when setup_devices' placement spans more than one process."""
    return getattr(placement, "processes", 1) > 1


def stamp_matches(folder: Path, record: dict) -> bool:
    """True when the settings stamped beside cached weights (settings.json) are the record's own."""
    stamp = folder / "settings.json"
    return stamp.exists() and not differences(json.loads(stamp.read_text()), record)


def reuse(record: dict, model, weights, needs_model: bool):
    """(record, model with the recorded weights) when they can be had; None when the run must be trained again.

    weights=None: weights are not looked for (several processes: only process 0's machine may have them,
    and every process must decide alike). Weights whose stamp is another run's are never loaded.
    """
    if weights is not None and weights.exists() and stamp_matches(weights.parent, record):
        model.optimizer.build(model.trainable_variables)  # the saved weights include the optimizer's state
        model.load_weights(weights)
        print(f"reused recorded run {record['run']} (weights from the local cache); as it trained:")
        print(*recorded_epoch_lines(record), sep="\n")
        return record, model
    if needs_model:
        return None
    print(f"reused recorded run {record['run']}; as it trained:")
    print(*recorded_epoch_lines(record), sep="\n")
    return record, None


def train_and_record(build_model, split, *, notebook: str, run: str, budget: str, epochs: int,
                     batch_size: int = 128, strategy=None, seed: int = 0, callbacks=(),
                     label=None, config=None, needs_model: bool = False, scores=None, test_each_epoch: bool = False):
    """Build (seeded, inside the strategy), fit, test and record one run; return (record, model).

    A record of the same run with the same budget, settings, backend and data source is reused
    instead of training (CIFAR_RETRAIN=1 trains anyway); its model comes back only when this
    machine kept its weights, else None (needs_model=True then trains again). An interrupted fit
    resumes from its last finished epoch. config: the settings that define the run (recorded).
    Labels are fed one-hot when the model's loss needs them (label smoothing), else as integers.
    scores: a function (model, split) -> {name: value} of extra test scores to record (e.g. tta.tta_scores).
    test_each_epoch: also test after every epoch (history's test_accuracy, test_loss): a constant-rate run then
    holds each shorter run's test score too.
    """
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    keras.utils.set_random_seed(seed)
    with scope:
        model = build_model()
    if not getattr(model, "compiled", False):
        raise ValueError("build_model must return a compiled model (call model.compile inside it).")
    warn_if_unscaled(model)
    wanted = {"budget": budget, "config": dict(config or {}), "epochs": epochs, "batch_size": batch_size,
              "train_size": int(len(split.y_train)), "val_size": int(len(split.y_val)),
              "test_size": int(len(split.y_test)), "seed": seed, "params": int(model.count_params()),
              "data_source": split.source, **backend_versions()}
    if test_each_epoch:
        wanted["test_each_epoch"] = True
    wanted["fingerprint"] = fingerprint(model)
    folder = run_dir(budget, notebook, run)
    recorded = recorded_run(found_result_path(budget, notebook, run), wanted, strategy, scores)
    if recorded is not None:
        weights = None if several_processes(strategy) else folder / "final.weights.h5"
        reused = reuse(recorded, model, weights, needs_model)
        if reused is not None:
            return reused
    record, model = fit_and_test(model, split, folder, wanted, epochs=epochs, batch_size=batch_size, seed=seed,
                                 callbacks=[*callbacks, *progress_callbacks(f"{notebook} {run}", epochs)],
                                 scores=scores, placement=strategy, test_each_epoch=test_each_epoch)
    record = {"notebook": notebook, "run": run, "label": label or run, **record,
              "device": placement_line(strategy),
              "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if getattr(strategy, "writes_files", True):
        write_json_atomically(result_path(budget, notebook, run), record)
    print(f"{record['label']}: test accuracy {record['test_accuracy']:.4f} "
          f"({record['epochs']} epochs on {record['train_size']} images, {record['wall_time_s']:.0f} s)")
    return record, model


STANDARD_SCORES = ("test_accuracy", "test_loss", "test_size")  # in every record: not a scores function's


def scores_name(scores) -> str:
    """The name a scores function is recorded under (a callable object's: its class name)."""
    return getattr(scores, "__name__", type(scores).__name__)


def has_scores(record: dict, scores) -> bool:
    """True when `record` holds what the scores function computes (a record older than the "scores" field: any extra test_ score)."""
    if scores is None:
        return True
    if "scores" in record:
        return record["scores"] == scores_name(scores)
    return any(key.startswith("test_") and key not in STANDARD_SCORES for key in record)


def recorded_run(path: Path, wanted: dict, placement=None, scores=None):
    """The record at `path` when it can stand in for training `wanted` (and holds the `scores` asked), else None
    (saying why, if one was there).

    A record made before fingerprints existed gets this build's fingerprint, written back when this process
    writes records there (the notebook re-executed with unchanged code).
    """
    if retrain_requested() or not path.exists():
        return None
    record = json.loads(path.read_text())
    changed = differences(record, wanted)
    if changed:
        print(f"training {record['run']} anew: its record was made with other settings: {'; '.join(changed)}")
        return None
    if not has_scores(record, scores):
        print(f"training {record['run']} anew: its record lacks the scores of {scores_name(scores)}")
        return None
    if "fingerprint" not in record and getattr(placement, "writes_files", True) and path.is_relative_to(results_dir()):
        record = {**record, "fingerprint": wanted["fingerprint"]}
        write_json_atomically(path, record)
    return record


def train_more_seeds(build_model, split, first: dict, *, seeds=(1, 2), strategy=None, **options) -> list:
    """`first` (a recorded run) trained again with each of `seeds`, as <run>_seed<N>; returns [first, *those records].

    Everything else (notebook, budget, label, epochs, batch size, config, tests) is taken from `first`, so the
    runs differ only in their seed: what noise.seed_spread needs.
    """
    if first["seed"] in seeds:
        raise ValueError(f"seeds {tuple(seeds)} include the first run's own seed {first['seed']}; pick others")
    return [first] + [
        train_and_record(build_model, split, notebook=first["notebook"], run=f"{first['run']}_seed{seed}",
                         label=first["label"], budget=first["budget"], epochs=first["epochs"],
                         batch_size=first["batch_size"], strategy=strategy, seed=seed, config=first["config"],
                         test_each_epoch=first.get("test_each_epoch", False), **options)[0]
        for seed in seeds]


def process_folder(folder: Path, placement=None) -> Path:
    """This process's run folder: process 0 the run's own, another a sibling on its machine (<run>.process<N>)."""
    index = getattr(placement, "process_id", 0)
    return folder if index == 0 else folder.with_name(f"{folder.name}.process{index}")


@contextlib.contextmanager
def run_folder(folder: Path, wanted: dict, placement=None):
    """Where this process keeps its backup and epoch log while it fits, and process 0 the final weights.

    A backup of other settings is removed first (never resumed from). Another process than 0 removes its
    folder when the run is done (an interrupted one keeps it, to resume from).
    """
    folder = process_folder(folder, placement)
    stamp = folder / "settings.json"
    stale = not stamp.exists() or json.loads(stamp.read_text()) != json.loads(json.dumps(wanted))
    if folder.exists() and stale:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomically(stamp, wanted)
    yield folder
    if not getattr(placement, "writes_files", True):
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def lost_process_guard(placement, folder: Path, epochs: int):
    """With several processes, turn the engine's error for a lost process into LostProcessError's one clear line
    (any other error passes through as it is)."""
    try:
        yield
    except Exception as error:  # the engines raise their own types (XlaRuntimeError, tf.errors.*): judge by text
        if not (several_processes(placement) and looks_lost(error)):
            raise
        message = lost_process_message(error, placement, backed_up_epoch(folder), epochs)
        if keras.backend.backend() == "jax":
            leave_before_jax_shutdown(message)
        raise LostProcessError(message) from error


def jax_processes_scope(placement):
    """The several-process DataParallel's scope on JAX (fit and evaluate span the processes); else nothing."""
    return placement.scope() if getattr(placement, "several_jax_processes", False) else contextlib.nullcontext()


def model_on_this_process(model, placement):
    """`model`, or on several JAX processes a compiled copy on this process's devices alone: Keras' predict
    cannot fetch outputs that span processes, and a copy with the whole model predicts on each one alike."""
    if not getattr(placement, "several_jax_processes", False):
        return model
    copy = type(model).from_config(model.get_config())  # not clone_model: it would rebuild the optimizer as well
    copy.set_weights(model.get_weights())
    copy.compile(loss=model.loss, metrics=["accuracy"])
    return copy


def test_batches(split, batch_size: int, feed: dict):
    """The test images in evaluation batches, fed as the training batches are (feed: num_classes, placement)."""
    return make_batches(*split.test, evaluation_batch_size(len(split.y_test), batch_size, feed["placement"]), **feed)


def fit_and_test(model, split, folder: Path, wanted: dict, *, epochs: int, batch_size: int, seed: int, callbacks,
                 scores=None, placement=None, test_each_epoch=False):
    """Fit with a per-epoch backup (resuming one left by an interrupted sitting), test, keep the final weights.

    placement (setup_devices' answer) with several processes: each feeds its share of the global batch and
    keeps its own backup; they resume together from the last epoch all of them finished (resume.py).
    """
    num_classes = len(split.class_names) if wants_one_hot(model) else None
    feed = {"num_classes": num_classes, "placement": placement}
    with run_folder(folder, wanted, placement) as folder, lost_process_guard(placement, folder, epochs):
        with jax_processes_scope(placement):
            log, fitted = EpochLog(folder / "epochs.json"), folder / "final.weights.h5"
            if len(log.entries) == epochs and fitted.exists() and not several_processes(placement):
                print(f"the fit finished in an earlier sitting ({epochs} epochs); testing its saved weights")
                model.optimizer.build(model.trainable_variables)
                model.load_weights(fitted)
            else:
                resumed = agree_on_resume(folder, placement)
                log.keep(resumed)
                if resumed:
                    print(f"resuming from epoch {resumed} of {epochs} (a previous sitting was interrupted)")
                train = make_batches(*split.train, batch_size, shuffle=True, seed=seed, first_epoch=resumed, **feed)
                val = make_batches(*split.val, evaluation_batch_size(len(split.y_val), batch_size, placement), **feed)
                progress = keras.callbacks.CSVLogger(str(folder / "log.csv"), append=True)  # a line an epoch: `tail` it
                tests = [TestEachEpoch(test_batches(split, batch_size, feed))] if test_each_epoch else []
                model.fit(train, validation_data=val, epochs=epochs, verbose=0, shuffle=False,  # tests first: logged
                          callbacks=[*tests, backup_callback(folder), log, progress, EpochLines(epochs), *callbacks])
                model.save_weights(fitted)  # before testing, which may fail; on every process: JAX saves collectively
            tested = model.evaluate(test_batches(split, batch_size, feed), verbose=0, return_dict=True)
        model = model_on_this_process(model, placement)
        extra = {name: float(value) for name, value in (scores(model, split) if scores else {}).items()}
        if scores:
            extra["scores"] = scores_name(scores)
        (folder / "epochs.json").unlink()
    wall = log.seconds()
    record = {**wanted, "test_accuracy": float(tested["accuracy"]), "test_loss": float(tested["loss"]), **extra,
              "history": log.history(), "wall_time_s": round(wall, 1),
              "seconds_per_epoch": round(wall / max(epochs, 1), 1),
              "epoch_seconds": [round(entry["seconds"], 2) for entry in log.entries]}
    return record, model
