"""Several processes (one per machine, or several on one): read from the environment which one this is.

JAX reads KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID
(keras.distribution.initialize's own variables); TensorFlow reads TF_CONFIG. Process 0 writes the files.
"""

import contextlib
import json

from .backend import configured_backend
from ..settings import current

JAX_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)
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


def this_process_writes(backend=None) -> bool:
    """True unless the environment makes this a process other than 0 (records and outputs are process 0's)."""
    return configured_processes(backend or configured_backend())[1] == 0


def several_processes(placement) -> bool:
    """True when setup_devices' placement spans more than one process."""
    return getattr(placement, "processes", 1) > 1


def jax_processes_scope(placement):
    """The several-process DataParallel's scope on JAX (fit and evaluate span the processes); else nothing."""
    return placement.scope() if getattr(placement, "several_jax_processes", False) else contextlib.nullcontext()


def model_on_this_process(model, placement):
    """`model`, or on several JAX processes a compiled copy on this process's devices alone: Keras' predict
    cannot fetch outputs that span processes, and a copy with the whole model predicts on each one alike."""
    if not getattr(placement, "several_jax_processes", False):
        return model
    copy = type(model).from_config(model.get_config())  # not clone_model: it would rebuild the optimizer as well
    copy.set_weights(model.get_weights())
    copy.compile(loss=model.loss, metrics=["accuracy"])
    return copy
