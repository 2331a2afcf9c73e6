"""Keep JAX's compiled programs on disk under KERAS_HOME, so a re-run skips most XLA compilation."""

from pathlib import Path
from .settings import current


def compilation_cache_dir() -> Path:
    """$JAX_COMPILATION_CACHE_DIR if set, else <KERAS_HOME or ~/.keras>/jax_cache."""
    return current().jax_cache


def enable_compilation_cache() -> Path:
    """Turn on JAX's persistent compilation cache (programs that took 1 s or more to compile); return its folder."""
    import jax

    folder = compilation_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return folder
