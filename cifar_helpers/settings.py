"""Every environment variable the package reads, read in this one module into one Settings object.

`current()` reads them when it is called, not at import: the command line and the tests change them between runs.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

JAX_VARIABLES = (  # several JAX processes: keras.distribution.initialize's own variables
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)
HEARTBEAT_VAR = "CIFAR_HEARTBEAT_S"  # JAX: seconds without a heartbeat before a process counts as lost
HEARTBEAT_S = 30


@dataclass(frozen=True)
class Settings:
    """What the environment asks of this process (each field names its variable)."""

    budget: str  # CIFAR_BUDGET ("" when unset: the notebook's own or the default budget)
    data: str  # CIFAR10_DATA: a local copy of CIFAR-10 ("" when unset: download the official files)
    results_dir: str  # CIFAR_RESULTS_DIR: where records are written ("" when unset: the project's results/)
    retrain: bool  # CIFAR_RETRAIN=1: train every run again instead of reusing its record
    reuse_only: bool  # CIFAR_REUSE_ONLY=1: a run that finds no record to reuse stops with an error instead of training
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
        reuse_only=flag(env.get("CIFAR_REUSE_ONLY", "")),
        progress=bool(env.get("CIFAR_PROGRESS")),
        heartbeat=env.get("CIFAR_HEARTBEAT_S", ""),
        keras_backend=env.get("KERAS_BACKEND", "").strip(),
        keras_home=keras_home,
        jax_cache=Path(env.get("JAX_COMPILATION_CACHE_DIR") or keras_home / "jax_cache"),
        tf_config=env.get("TF_CONFIG", ""),
        jax_processes={name: env.get(name, "").strip() for name in JAX_VARIABLES},
    )


# Several processes (one per machine, or several on one): which one this is. JAX reads KERAS_DISTRIBUTION_*,
# TensorFlow TF_CONFIG; process 0 writes the files.
README_SECTION = 'see "More than one device", docs/multi-device.md'


def tf_config() -> dict:
    """$TF_CONFIG as a dict ({} when it is unset)."""
    raw = current().tf_config
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); {README_SECTION}.") from error


def tf_config_workers() -> int:
    """Number of workers named in $TF_CONFIG (0 when it is unset)."""
    cluster = tf_config().get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def process_addresses() -> list:
    """Each process's address, by process number (the chief first, as tf_config_process counts), from $TF_CONFIG."""
    cluster = tf_config().get("cluster", {})
    return [*cluster.get("chief", []), *cluster.get("worker", [])]


def tf_config_process() -> tuple:
    """(process count, this process's number) from $TF_CONFIG: the chief, or else worker 0, is process 0."""
    config = tf_config()
    task = config.get("task", {})
    has_chief = bool(config.get("cluster", {}).get("chief"))
    if task.get("type") == "chief":
        return tf_config_workers(), 0
    return tf_config_workers(), int(task.get("index", 0)) + (1 if has_chief else 0)


def jax_process_settings():
    """(job addresses, process count, this process's number) from KERAS_DISTRIBUTION_*, or None when none is set."""
    values = current().jax_processes
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ValueError(
            f"Several processes need all three of {', '.join(JAX_VARIABLES)}; {', '.join(missing)} "
            f"is not set ({README_SECTION})."
        )
    addresses, count, index = values.values()
    if not (count.isdigit() and index.isdigit() and int(index) < int(count)):
        raise ValueError(
            f"KERAS_DISTRIBUTION_NUM_PROCESSES={count!r} and KERAS_DISTRIBUTION_PROCESS_ID={index!r} "
            f"must be whole numbers, the id from 0 to the count - 1."
        )
    return addresses, int(count), int(index)


def configured_processes(backend: str) -> tuple:
    """(process count, this process's number) that the environment asks of `backend`; (1, 0) for one process.

    A variable meant for the other backend is refused with a clear error instead of being ignored.
    """
    jax_settings = jax_process_settings()
    if backend == "jax":
        if tf_config():
            raise ValueError(f"TF_CONFIG is TensorFlow's; on JAX set {', '.join(JAX_VARIABLES)} ({README_SECTION}).")
        return jax_settings[1:] if jax_settings else (1, 0)
    if jax_settings:
        raise ValueError(
            f"{', '.join(JAX_VARIABLES)} are read on JAX only (KERAS_BACKEND=jax); on TensorFlow set "
            f"TF_CONFIG ({README_SECTION})."
        )
    workers, index = tf_config_process()
    return (workers, index) if workers else (1, 0)


def heartbeat_seconds() -> int:
    """JAX's heartbeat timeout for several processes: $CIFAR_HEARTBEAT_S, else 30 s (JAX's own default is 100 s)."""
    raw = current().heartbeat or str(HEARTBEAT_S)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{HEARTBEAT_VAR}={raw!r} must be a whole number of seconds, 1 or more.")
    return int(raw)
