"""Recorded runs: one JSON file per run under results/<budget>/<notebook>/, found and loaded.

The committed records live in the project's results/. `python -m cifar_helpers run` (without --update) points
$CIFAR_RESULTS_DIR at runs/<budget>/results/, so a learner's own runs go there and are read from there first.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .budgets import resolve_budget
from .settings import current

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "CIFAR_RESULTS_DIR"


class MissingResultError(FileNotFoundError):
    """A notebook asked for a run that has not been recorded yet."""


def committed_results_dir() -> Path:
    """results/ in the project checkout (the committed records), else ./results."""
    return PROJECT_ROOT / "results" if (PROJECT_ROOT / "notebooks").is_dir() else Path.cwd() / "results"


def results_dir() -> Path:
    """Where this process writes records: $CIFAR_RESULTS_DIR, else the committed results/.

    Introduced in notebook 10.
    """
    return Path(current().results_dir) if current().results_dir else committed_results_dir()


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
    """One recorded run; a clear error naming the notebook to run if it is missing.

    Introduced in notebook 02.
    """
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

    Introduced in notebook 09.
    """
    paths = {}
    for root in dict.fromkeys((committed_results_dir(), results_dir())):  # own records last: they win
        budgets = [resolve_budget(budget)] if budget else sorted(p.name for p in root.glob("*") if p.is_dir())
        paths |= {p.relative_to(root): p for b in budgets for p in (root / b).glob("*/*.json")}
    records = [json.loads(p.read_text()) for p in paths.values()]
    return sorted(records, key=lambda r: (r["budget"], r["notebook"], r["finished"]))


def kept_predictions(record: dict):
    """(classes, confidences) a run predicted for the test images, as its record kept them (keep_predictions=True).

    Introduced in notebook 01.
    """
    if "predictions" not in record:
        raise MissingResultError(
            f"The record of {record['notebook']} {record['run']} keeps no test predictions: train it with "
            "keep_predictions=True (ch.train_and_record), which retrains it once."
        )
    kept = record["predictions"]
    return np.array([int(c) for c in kept["class"]]), np.array(kept["confidence"])


def notebook_records(budget: str, notebook: str) -> dict:
    """{run: record} for every recorded run of one notebook under one budget (a verdict cell's only input).

    Introduced in notebook 01.
    """
    return {r["run"]: r for r in load_results(budget) if r["notebook"] == notebook}
