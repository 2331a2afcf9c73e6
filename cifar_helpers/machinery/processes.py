"""Several processes (one per machine, or several on one): read from the environment which one this is.

JAX reads KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID
(keras.distribution.initialize's own variables); TensorFlow reads TF_CONFIG. Process 0 writes the files.
"""

import contextlib

from ..backend import configured_backend
from ..settings import (  # noqa: F401  (read from the environment there; imported from here by the machinery)
    JAX_VARIABLES,
    configured_processes,
    jax_process_settings,
    process_addresses,
    tf_config,
    tf_config_process,
    tf_config_workers,
)


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
