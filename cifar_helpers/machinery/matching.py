"""When a recorded run can stand in for training it again (the settings that must be equal, and what differs),
and reusing it: its record, and its weights where this machine kept them."""

import json
from pathlib import Path

from ..records import results_dir, write_json_atomically
from ..training import EpochLines
from .fingerprint import canonical, change, changes
from .processes import several_processes
from .resume import run_dir
from ..settings import current

RETRAIN_VAR = "CIFAR_RETRAIN"
# What must be equal for a recorded run to stand in for training it again.
MATCHED_FIELDS = (
    "budget",
    "config",
    "epochs",
    "batch_size",
    "train_size",
    "seed",
    "params",
    "backend",
    "data_source",
    "val_size",
    "test_size",
    "test_each_epoch",
)


def differences(record: dict, wanted: dict) -> list:
    """The settings in which `record` differs from `wanted`, in words; none: it can stand in for training.

    A record made before fingerprints existed (no "fingerprint") is matched on the other settings.
    """
    said = [
        change(key, record.get(key), wanted.get(key))
        for key in MATCHED_FIELDS
        if canonical(record.get(key)) != canonical(wanted.get(key))
    ]
    if "fingerprint" in record and "fingerprint" in wanted:
        said += changes(canonical(record["fingerprint"]), canonical(wanted["fingerprint"]))
    return said


def retrain_requested() -> bool:
    """True when $CIFAR_RETRAIN asks to train every run again instead of reusing records."""
    return current().retrain


def recorded_epoch_lines(record: dict) -> list:
    """The lines a recorded run printed while it trained, rebuilt from its history and epoch times."""
    lines, history = EpochLines(record["epochs"]), record["history"]
    seconds = record.get("epoch_seconds") or [record["seconds_per_epoch"]] * record["epochs"]
    return [
        lines.line(epoch + 1, {key: values[epoch] for key, values in history.items()}, seconds[epoch])
        for epoch in range(len(seconds))
        if lines.shows(epoch + 1)
    ]


def reused_line(record: dict, where: str = "") -> str:
    """One line for a reused run: its name and its last epoch's line (the record keeps every epoch)."""
    return f"reused recorded run {record['run']}{where}, last of its epochs: {recorded_epoch_lines(record)[-1]}"


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
        print(reused_line(record, " (weights from the local cache)"))
        return record, model
    if needs_model:
        print(f"training {record['run']} anew: its record matches, but its model is needed and {missing(weights)}")
        return None
    print(reused_line(record))
    return record, None


def missing(weights) -> str:
    """Why the weights beside a matching record cannot be loaded."""
    if weights is None:
        return "several processes do not read cached weights"
    if not weights.exists():
        return "this machine has no weights for it"
    return "the weights here were made with other settings"


STANDARD_SCORES = ("test_accuracy", "test_loss", "test_size")  # in every record: not a scores function's


def scores_name(scores) -> str:
    """The name a scores function is recorded under (a callable object's: its class name)."""
    return getattr(scores, "__name__", type(scores).__name__)


def has_scores(record: dict, scores) -> bool:
    """True when `record` holds what the scores function computes.

    A record older than the "scores" field: any extra test_ score.
    """
    if scores is None:
        return True
    if "scores" in record:
        return record["scores"] == scores_name(scores)
    return any(key.startswith("test_") and key not in STANDARD_SCORES for key in record)


def recorded_run(path: Path, wanted: dict, placement=None, scores=None, keep_predictions: bool = False):
    """The record at `path` when it can stand in for training `wanted` (and holds the `scores` and test predictions
    asked), else None (saying why).

    A record made before fingerprints existed gets this build's fingerprint, written back when this process
    writes records there (the notebook re-executed with unchanged code).
    """
    if retrain_requested():
        print(f"training {path.stem} anew: CIFAR_RETRAIN=1 asks for it")
        return None
    if not path.exists():
        print(f"training {path.stem}: no record of it yet")
        return None
    record = json.loads(path.read_text())
    changed = differences(record, wanted)
    if changed:
        print(f"training {record['run']} anew: its record was made with other settings: {'; '.join(changed)}")
        return None
    if not has_scores(record, scores):
        print(f"training {record['run']} anew: its record lacks the scores of {scores_name(scores)}")
        return None
    if keep_predictions and "predictions" not in record:
        print(f"training {record['run']} anew: its record lacks the test predictions asked for (keep_predictions)")
        return None
    if "fingerprint" not in record and getattr(placement, "writes_files", True) and path.is_relative_to(results_dir()):
        record = {**record, "fingerprint": wanted["fingerprint"]}
        write_json_atomically(path, record)
    return record


def reused_run(path: Path, wanted: dict, model, placement, scores, needs_model: bool, keep_predictions: bool = False):
    """(record, model or None) from a matching record at `path`; None when the run must be trained."""
    recorded = recorded_run(path, wanted, placement, scores, keep_predictions)
    if recorded is None:
        return None
    folder = run_dir(wanted["budget"], recorded["notebook"], recorded["run"])
    weights = None if several_processes(placement) else folder / "final.weights.h5"
    return reuse(recorded, model, weights, needs_model)
