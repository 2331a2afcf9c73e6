"""Plumbing for the notebooks of "Raising CIFAR-10 accuracy, step by step".

Each notebook imports this package as `ch` and then shows only the change it teaches. Importing it checks the
Keras backend (KERAS_BACKEND: tensorflow, the default, or jax) and, on TensorFlow, imports TensorFlow quietly
(Keras would import it next, with its start-up log lines). Everything else loads when a notebook first uses it:
`ch.models`, `ch.plots`, `ch.train_and_record`, ...
"""

import importlib
import importlib.util

from .backend import BackendError, check_backend
from .quiet import import_tensorflow

BACKEND = check_backend()
if BACKEND == "tensorflow":
    import_tensorflow()

# ch.NAME for the names a notebook calls most, from the module that defines them (loaded on first use).
EXPORTS = {
    "augment": ("PadAndRandomCrop", "PerImageStandardization", "RandomCropPerImage", "input_pipeline"),
    "budgets": ("BUDGETS", "BudgetError", "budget_settings", "exercise_budget", "resolve_budget"),
    "checks": ("InputError", "check_images", "check_labels"),
    "data": ("CLASS_NAMES", "Cifar10", "DataError", "data_note", "load_cifar10"),
    "devices": ("setup_devices",),
    "diagnose": ("read_curves",),
    "figure_text": ("describe",),
    "records": ("load_result", "load_results", "results_dir"),
    "split": ("Split", "load_split", "split_validation"),
    "start": ("start_notebook",),
    "machinery.recorded": ("train_and_record", "train_more_seeds"),
}
MODULE_OF = {name: module for module, names in EXPORTS.items() for name in names}
MACHINERY_MODULES = ("summary", "tables")  # ch.summary, ch.tables: the notebooks' tables across runs


def __getattr__(name: str):
    """ch.NAME: an exported name, a module of the package (ch.models) or of its machinery (ch.summary)."""
    if name in MODULE_OF:
        value = getattr(importlib.import_module(f"{__name__}.{MODULE_OF[name]}"), name)
    elif name in MACHINERY_MODULES:
        value = importlib.import_module(f"{__name__}.machinery.{name}")
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = ["BACKEND", "BackendError", "check_backend", *MODULE_OF, *MACHINERY_MODULES]
