"""Which Keras 3 backend runs the collection, checked before Keras is imported."""

import importlib
import importlib.util
import json
from .settings import current

INSTALL_LINES = {
    "tensorflow": "pip install -r requirements.txt",
    "jax": "pip install -r requirements-jax.txt",
}
DEFAULT_BACKEND = "tensorflow"


class BackendError(RuntimeError):
    """The chosen Keras backend is unknown to this collection, or its package is not installed."""


def configured_backend() -> str:
    """The backend Keras will load: $KERAS_BACKEND, else keras.json's, else TensorFlow."""
    name = current().keras_backend
    if not name:
        try:
            name = json.loads((current().keras_home / "keras.json").read_text()).get("backend")
        except (OSError, ValueError):
            name = None
    return (name or DEFAULT_BACKEND).strip().lower()


def check_backend(name=None) -> str:
    """Return the backend's name, or stop with an error that names the install line to run."""
    name = name or configured_backend()
    if name not in INSTALL_LINES:
        raise BackendError(
            f"KERAS_BACKEND={name!r} is not supported by this collection. Use KERAS_BACKEND=tensorflow "
            f"(the default; {INSTALL_LINES['tensorflow']}) or KERAS_BACKEND=jax ({INSTALL_LINES['jax']})."
        )
    if importlib.util.find_spec(name) is None:
        raise BackendError(
            f"KERAS_BACKEND={name} but the {name} package is not installed. "
            f"Run `{INSTALL_LINES[name]}` in the project folder, or choose another backend."
        )
    return name


def backend_versions() -> dict:
    """The running backend and its package version, as stored with every recorded run."""
    import keras

    name = keras.backend.backend()
    return {"backend": name, "backend_version": importlib.import_module(name).__version__, "keras": keras.__version__}
