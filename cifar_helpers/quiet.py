"""Keep notebook outputs clean: TensorFlow imported without its start-up log lines,
and JAX's one harmless warning hidden.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration (C++ logs ignore Python's sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow once, quietly: TF_CPP_MIN_LOG_LEVEL=3 unless the user set it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with stderr_silenced():
        import tensorflow

        tensorflow.config.list_physical_devices()  # CUDA probing logs happen here
    return tensorflow


def hide_jax_int64_warning():
    """Hide JAX's "int64 ... truncated to int32" warning:
    Keras asks for int64 step counters, which JAX keeps as int32.
    """
    import warnings

    warnings.filterwarnings("ignore", message=r"Explicitly requested dtype int64", category=UserWarning)


def prepare_jax():
    """On JAX, before a notebook builds or trains: TensorFlow imported quietly where it is installed (Keras'
    set_random_seed and some preprocessing layers import it, with log lines), JAX's int64 warning hidden, and
    JAX's compilation cache on. Nothing on TensorFlow; once per process."""
    import importlib.util

    import keras

    from .compile_cache import enable_compilation_cache

    if keras.backend.backend() != "jax" or getattr(prepare_jax, "done", False):
        return
    if importlib.util.find_spec("tensorflow") is not None:
        import_tensorflow()
    hide_jax_int64_warning()  # newer JAX releases warn at every fit; harmless
    enable_compilation_cache()
    prepare_jax.done = True
