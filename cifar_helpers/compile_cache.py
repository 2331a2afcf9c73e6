"""Keep JAX's compiled programs on disk under KERAS_HOME, so a re-run skips most XLA compilation."""

import os
from pathlib import Path


def compilation_cache_dir() -> Path:
    """$JAX_COMPILATION_CACHE_DIR if set, else <KERAS_HOME or ~/.keras>/jax_cache."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "jax_cache"


def enable_compilation_cache() -> Path:
    """Turn on JAX's persistent compilation cache (programs that took 1 s or more to compile); return its folder."""
    import jax

    folder = compilation_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return folder
