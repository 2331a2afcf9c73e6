"""Plumbing for the notebooks of "Raising CIFAR-10 accuracy, step by step".

Each notebook imports this package as `ch` and then shows only the change it teaches.
"""

from .quiet import import_tensorflow

import_tensorflow()

from .augment import (  # noqa: E402
    PadAndRandomCrop, PerImageStandardization, RandomCropPerImage, input_pipeline,
)
from .budgets import BUDGETS, BudgetError, budget_settings, resolve_budget  # noqa: E402
from .checks import InputError, check_images, check_labels  # noqa: E402
from .data import CLASS_NAMES, Cifar10, DataError, load_cifar10  # noqa: E402
from .devices import setup_devices  # noqa: E402
from .results import load_result, load_results, results_dir, train_and_record  # noqa: E402
from .diagnose import read_curves  # noqa: E402
from .split import Split, load_split, split_validation  # noqa: E402
from . import inception, models, plots, references, schedules, summary  # noqa: E402

__all__ = [
    "BUDGETS", "BudgetError", "CLASS_NAMES", "Cifar10", "DataError", "InputError", "inception",
    "PadAndRandomCrop", "PerImageStandardization", "RandomCropPerImage", "Split",
    "budget_settings", "check_images", "check_labels", "input_pipeline", "load_cifar10",
    "load_result", "load_results", "load_split", "models", "plots", "read_curves", "resolve_budget",
    "references", "results_dir", "schedules", "summary",
    "setup_devices", "split_validation", "train_and_record",
]
