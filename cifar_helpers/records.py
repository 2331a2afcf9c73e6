"""Recorded runs: one JSON file per run under results/<budget>/<notebook>/, found, loaded and matched."""

import json
import os
import tempfile
from pathlib import Path

from .budgets import resolve_budget

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "CIFAR_RESULTS_DIR"
RETRAIN_VAR = "CIFAR_RETRAIN"
# What must be equal for a recorded run to stand in for training it again.
MATCHED_FIELDS = ("budget", "config", "epochs", "batch_size", "train_size", "seed", "params", "backend",
                  "data_source", "val_size", "test_size")


class MissingResultError(FileNotFoundError):
    """A notebook asked for a run that has not been recorded yet."""


def results_dir() -> Path:
    """$CIFAR_RESULTS_DIR, else results/ in the project checkout, else ./results."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    if (PROJECT_ROOT / "notebooks").is_dir():
        return PROJECT_ROOT / "results"
    return Path.cwd() / "results"


def result_path(budget: str, notebook: str, run: str) -> Path:
    """Where one run's record lives."""
    return results_dir() / resolve_budget(budget) / notebook / f"{run}.json"


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
    path = result_path(budget, notebook, run)
    if not path.exists():
        raise MissingResultError(
            f"No recorded run {run!r} of {notebook} under the {budget!r} budget. "
            f"Run notebooks/{notebook}.ipynb first with CIFAR_BUDGET={budget}."
        )
    return json.loads(path.read_text())


def load_results(budget=None) -> list:
    """Every recorded run (of one budget, or all), ordered by budget, notebook and finish time."""
    root = results_dir()
    budgets = [resolve_budget(budget)] if budget else sorted(p.name for p in root.glob("*") if p.is_dir())
    records = [json.loads(p.read_text()) for b in budgets for p in (root / b).glob("*/*.json")]
    return sorted(records, key=lambda r: (r["budget"], r["notebook"], r["finished"]))


def retrain_requested() -> bool:
    """True when $CIFAR_RETRAIN asks to train every run again instead of reusing records."""
    return os.environ.get(RETRAIN_VAR, "").strip().lower() in ("1", "true", "yes")


def matching_record(path: Path, wanted: dict):
    """The record at `path` if every MATCHED_FIELDS value equals `wanted`'s, else None."""
    if retrain_requested() or not path.exists():
        return None
    record = json.loads(path.read_text())
    same = all(json.loads(json.dumps(record.get(key))) == json.loads(json.dumps(wanted.get(key)))
               for key in MATCHED_FIELDS)
    return record if same else None
