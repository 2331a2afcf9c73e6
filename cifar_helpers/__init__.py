"""Plumbing for the notebooks of "Raising CIFAR-10 accuracy, step by step".

Each notebook imports this package as `ch` and then shows only the change it teaches. The Keras
backend is checked first (KERAS_BACKEND: tensorflow, the default, or jax); TensorFlow, when installed,
is imported quietly (on JAX too: Keras' set_random_seed would import it anyway, with its log lines).
"""

import importlib.util

from .backend import BackendError, check_backend
from .compile_cache import enable_compilation_cache
from .quiet import hide_jax_int64_warning, import_tensorflow

BACKEND = check_backend()
if BACKEND == "tensorflow":
    import_tensorflow()
else:
    # keras.utils.set_random_seed and some preprocessing layers import an installed TensorFlow even on other
    # backends, and its start-up lines ignore TF_CPP_MIN_LOG_LEVEL: import it here, once, quietly.
    if importlib.util.find_spec("tensorflow") is not None:
        import_tensorflow()
    hide_jax_int64_warning()  # newer JAX releases warn at every fit; harmless
    enable_compilation_cache()

from .augment import (  # noqa: E402
    PadAndRandomCrop, PerImageStandardization, RandomCropPerImage, input_pipeline,
)
from .budgets import BUDGETS, BudgetError, budget_settings, exercise_budget, resolve_budget  # noqa: E402
from .checks import InputError, check_images, check_labels  # noqa: E402
from .data import CLASS_NAMES, Cifar10, DataError, data_note, load_cifar10  # noqa: E402
from .devices import setup_devices  # noqa: E402
from .records import load_result, load_results, results_dir  # noqa: E402
from .training import train_and_record, train_more_seeds  # noqa: E402
from .diagnose import read_curves  # noqa: E402
from .split import Split, load_split, split_validation  # noqa: E402
from .start import start_notebook  # noqa: E402
from . import inception, models, noise, plots, references, schedules, speedrun, summary, tables, tta, whitening  # noqa: E402

__all__ = [
    "BACKEND", "BUDGETS", "BackendError", "BudgetError", "CLASS_NAMES", "Cifar10", "DataError", "InputError",
    "PadAndRandomCrop", "PerImageStandardization", "RandomCropPerImage", "Split",
    "budget_settings", "check_backend", "exercise_budget", "check_images", "check_labels", "data_note", "inception",
    "input_pipeline", "load_cifar10", "load_result", "load_results", "load_split", "models", "noise", "plots",
    "read_curves", "resolve_budget", "references", "results_dir", "schedules", "summary", "tables",
    "setup_devices", "speedrun", "split_validation", "start_notebook", "train_and_record", "train_more_seeds", "tta", "whitening",
]
