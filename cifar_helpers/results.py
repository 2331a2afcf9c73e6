"""Train a model, test it, and record the run as JSON under results/<budget>/<notebook>/."""

import datetime
import json
import os
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .budgets import resolve_budget
from .checks import check_images, check_labels, warn_if_unscaled

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "CIFAR_RESULTS_DIR"


class MissingResultError(FileNotFoundError):
    """A notebook asked for a run that has not been recorded yet."""


def results_dir() -> Path:
    """$CIFAR_RESULTS_DIR, else results/ in the project checkout, else ./results."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    if (PROJECT_ROOT / "notebooks").is_dir():
        return PROJECT_ROOT / "results"
    return Path.cwd() / "results"


def make_dataset(images, labels, batch_size: int, shuffle: bool = False, seed: int = 0, num_classes=None):
    """A batched, prefetched tf.data pipeline of (float32 pixels 0..255, labels).

    Give num_classes to get one-hot labels (needed by label smoothing).
    """
    images = check_images(images)
    labels = check_labels(labels, len(images))
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)

    def to_inputs(x, y):
        y = tf.one_hot(y, num_classes) if num_classes else y
        return tf.cast(x, tf.float32), y

    return dataset.batch(batch_size).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def wants_one_hot(model) -> bool:
    """True when the compiled loss is categorical (one-hot targets), e.g. for label smoothing."""
    loss = model.loss
    name = loss if isinstance(loss, str) else type(loss).__name__
    return name in ("categorical_crossentropy", "CategoricalCrossentropy", "categorical_focal_crossentropy",
                    "CategoricalFocalCrossentropy")


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(payload, stream, indent=1)
        stream.write("\n")
    os.chmod(staging, 0o644)  # mkstemp creates 0600; results are shared files
    os.replace(staging, path)


def result_path(budget: str, notebook: str, run: str) -> Path:
    """Where one run's record lives."""
    return results_dir() / resolve_budget(budget) / notebook / f"{run}.json"


def train_and_record(build_model, split, *, notebook: str, run: str, budget: str, epochs: int,
                     batch_size: int = 128, strategy=None, seed: int = 0, callbacks=(),
                     label=None, config=None):
    """Build (seeded, inside the strategy), fit, test and record one run; return (record, model).

    config: the settings that define the run (saved with it, so later notebooks can rebuild it).
    Labels are fed one-hot when the model's loss needs them (label smoothing), else as integers.
    """
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = build_model()
    if not getattr(model, "compiled", False):
        raise ValueError("build_model must return a compiled model (call model.compile inside it).")
    warn_if_unscaled(model)
    num_classes = len(split.class_names) if wants_one_hot(model) else None
    train = make_dataset(*split.train, batch_size, shuffle=True, seed=seed, num_classes=num_classes)
    val = make_dataset(*split.val, batch_size, num_classes=num_classes)
    test = make_dataset(*split.test, batch_size, num_classes=num_classes)
    started = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=2, shuffle=False,
                        callbacks=list(callbacks))  # the dataset already reshuffles every epoch
    wall = time.perf_counter() - started
    scores = model.evaluate(test, verbose=0, return_dict=True)
    record = {
        "notebook": notebook, "run": run, "label": label or run, "budget": resolve_budget(budget),
        "config": dict(config or {}),
        "test_accuracy": float(scores["accuracy"]), "test_loss": float(scores["loss"]),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "epochs": epochs, "train_size": int(len(split.y_train)), "batch_size": batch_size,
        "wall_time_s": round(wall, 1), "seconds_per_epoch": round(wall / max(epochs, 1), 1),
        "params": int(model.count_params()), "seed": seed,
        "device": getattr(strategy, "device_line", f"strategy: {type(strategy).__name__}"),
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json_atomically(result_path(budget, notebook, run), record)
    print(f"{record['label']}: test accuracy {record['test_accuracy']:.4f} "
          f"({record['epochs']} epochs on {record['train_size']} images, {record['wall_time_s']:.0f} s)")
    return record, model


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


def best_epoch(record: dict) -> int:
    """The 1-based epoch with the highest validation accuracy."""
    return int(np.argmax(record["history"]["val_accuracy"])) + 1


def markdown_table(headers, rows) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(headers, rows) -> str:
    """A plain fixed-width table for the terminal."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


RESULT_HEADERS = ("budget", "notebook", "run", "test accuracy", "epochs", "train images", "time (s)")


def result_rows(records) -> list:
    """One row per recorded run, in RESULT_HEADERS order."""
    return [(r["budget"], r["notebook"], r["label"], f"{100 * r['test_accuracy']:.2f}%", r["epochs"],
             r["train_size"], f"{r['wall_time_s']:.0f}") for r in records]


def comparison_markdown(rows, source: str = "article (test)") -> str:
    """A results table for a notebook: rows of (record, the source's percent or None, claim, held).

    held is True, False or None (no claim to check); source names the quoted numbers' column.
    """
    verdicts = {True: "yes", False: "no", None: "-"}
    body = [(r["label"], r["train_size"], r["epochs"], f"{100 * r['test_accuracy']:.2f}%",
             "-" if article is None else f"{article:.2f}%", claim, verdicts[held])
            for r, article, claim, held in rows]
    headers = ("run", "train images", "epochs", "our test accuracy", source, "claim", "held here?")
    return markdown_table(headers, body)
