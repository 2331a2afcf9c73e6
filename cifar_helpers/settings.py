"""Every environment variable the package reads, read in this one module into one Settings object.

`current()` reads them when it is called, not at import: the command line and the tests change them between runs.
"""

import os
from dataclasses import dataclass
from pathlib import Path

JAX_PROCESS_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)


@dataclass(frozen=True)
class Settings:
    """What the environment asks of this process (each field names its variable)."""

    budget: str  # CIFAR_BUDGET ("" when unset: the notebook's own or the default budget)
    data: str  # CIFAR10_DATA: a local copy of CIFAR-10 ("" when unset: download the official files)
    results_dir: str  # CIFAR_RESULTS_DIR: where records are written ("" when unset: the project's results/)
    retrain: bool  # CIFAR_RETRAIN=1: train every run again instead of reusing its record
    progress: bool  # CIFAR_PROGRESS: one line per epoch on the terminal that runs the notebooks
    heartbeat: str  # CIFAR_HEARTBEAT_S: JAX's heartbeat for several processes (checked by resume.py)
    keras_backend: str  # KERAS_BACKEND ("" when unset: keras.json's, else TensorFlow)
    keras_home: Path  # KERAS_HOME, else ~/.keras: Keras' folder (datasets, the runs' backups, keras.json)
    jax_cache: Path  # JAX_COMPILATION_CACHE_DIR, else <keras_home>/jax_cache
    tf_config: str  # TF_CONFIG: several TensorFlow processes
    jax_processes: dict  # KERAS_DISTRIBUTION_*: several JAX processes ({name: value}, values "" when unset)


def flag(value: str) -> bool:
    """True for 1, true or yes (any case)."""
    return value.strip().lower() in ("1", "true", "yes")


def current() -> Settings:
    """The settings the environment holds now."""
    env = os.environ
    keras_home = Path(env.get("KERAS_HOME") or Path.home() / ".keras")
    return Settings(
        budget=env.get("CIFAR_BUDGET", "").strip(),
        data=env.get("CIFAR10_DATA", "").strip(),
        results_dir=env.get("CIFAR_RESULTS_DIR", "").strip(),
        retrain=flag(env.get("CIFAR_RETRAIN", "")),
        progress=bool(env.get("CIFAR_PROGRESS")),
        heartbeat=env.get("CIFAR_HEARTBEAT_S", ""),
        keras_backend=env.get("KERAS_BACKEND", "").strip(),
        keras_home=keras_home,
        jax_cache=Path(env.get("JAX_COMPILATION_CACHE_DIR") or keras_home / "jax_cache"),
        tf_config=env.get("TF_CONFIG", ""),
        jax_processes={name: env.get(name, "").strip() for name in JAX_PROCESS_VARIABLES},
    )
