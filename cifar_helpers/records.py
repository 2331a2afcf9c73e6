"""Recorded runs: one JSON file per run under results/<budget>/<notebook>/, found, loaded and matched.

The committed records live in the project's results/. `python -m cifar_helpers run` (without --update) points
$CIFAR_RESULTS_DIR at runs/<budget>/results/, so a learner's own runs go there and are read from there first.
"""

import json
import os
import tempfile
from pathlib import Path

from .budgets import resolve_budget
from .fingerprint import canonical, change, changes

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "CIFAR_RESULTS_DIR"
RETRAIN_VAR = "CIFAR_RETRAIN"
# What must be equal for a recorded run to stand in for training it again.
MATCHED_FIELDS = ("budget", "config", "epochs", "batch_size", "train_size", "seed", "params", "backend",
                  "data_source", "val_size", "test_size", "test_each_epoch")


class MissingResultError(FileNotFoundError):
    """A notebook asked for a run that has not been recorded yet."""


def committed_results_dir() -> Path:
    """results/ in the project checkout (the committed records), else ./results."""
    return PROJECT_ROOT / "results" if (PROJECT_ROOT / "notebooks").is_dir() else Path.cwd() / "results"


def results_dir() -> Path:
    """Where this process writes records: $CIFAR_RESULTS_DIR, else the committed results/."""
    return Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else committed_results_dir()


def result_path(budget: str, notebook: str, run: str) -> Path:
    """Where one run's record is written."""
    return results_dir() / resolve_budget(budget) / notebook / f"{run}.json"


def found_result_path(budget: str, notebook: str, run: str) -> Path:
    """Where one run's record is read: this process's own record if there is one, else the committed one."""
    own = result_path(budget, notebook, run)
    committed = committed_results_dir() / resolve_budget(budget) / notebook / f"{run}.json"
    return own if own.exists() or not committed.exists() else committed


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(payload, stream, indent=1)
        stream.write("\n")
    os.chmod(staging, 0o644)  # mkstemp creates 0600; results are shared files
    os.replace(staging, path)


def load_result(budget: str, notebook: str, run: str) -> dict:
    """One recorded run; a clear error naming the notebook to run if it is missing."""
    path = found_result_path(budget, notebook, run)
    if not path.exists():
        raise MissingResultError(
            f"No recorded run {run!r} of {notebook} under the {budget!r} budget. "
            f"Run notebooks/{notebook}.ipynb first with CIFAR_BUDGET={budget}."
        )
    return json.loads(path.read_text())


def load_results(budget=None) -> list:
    """Every recorded run (of one budget, or all), ordered by budget, notebook and finish time.

    This process's own records stand in for the committed records of the same runs.
    """
    paths = {}
    for root in dict.fromkeys((committed_results_dir(), results_dir())):  # own records last: they win
        budgets = [resolve_budget(budget)] if budget else sorted(p.name for p in root.glob("*") if p.is_dir())
        paths |= {p.relative_to(root): p for b in budgets for p in (root / b).glob("*/*.json")}
    records = [json.loads(p.read_text()) for p in paths.values()]
    return sorted(records, key=lambda r: (r["budget"], r["notebook"], r["finished"]))


def notebook_records(budget: str, notebook: str) -> dict:
    """{run: record} for every recorded run of one notebook under one budget (a verdict cell's only input)."""
    return {r["run"]: r for r in load_results(budget) if r["notebook"] == notebook}


def retrain_requested() -> bool:
    """True when $CIFAR_RETRAIN asks to train every run again instead of reusing records."""
    return os.environ.get(RETRAIN_VAR, "").strip().lower() in ("1", "true", "yes")


def differences(record: dict, wanted: dict) -> list:
    """The settings in which `record` differs from `wanted`, in words; none: it can stand in for training.

    A record made before fingerprints existed (no "fingerprint") is matched on the other settings.
    """
    said = [change(key, record.get(key), wanted.get(key))
            for key in MATCHED_FIELDS if canonical(record.get(key)) != canonical(wanted.get(key))]
    if "fingerprint" in record and "fingerprint" in wanted:
        said += changes(canonical(record["fingerprint"]), canonical(wanted["fingerprint"]))
    return said
