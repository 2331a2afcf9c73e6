"""The backend check: a clear error for an unknown or missing backend; TensorFlow only when it is the backend."""

import importlib.util
import os
import subprocess
import sys

import pytest

from cifar_helpers import backend


def run_python(code, **env):
    """Run `code` in a fresh interpreter with extra environment variables; return the finished process."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env={**os.environ, **env}
    )


def test_unknown_backend_names_the_supported_ones(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    with pytest.raises(backend.BackendError, match="KERAS_BACKEND=jax \\(pip install -r requirements-jax.txt\\)"):
        backend.check_backend()


def test_missing_backend_package_names_its_install_line(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        backend.BackendError, match="jax package is not installed. Run `pip install -r requirements-jax.txt`"
    ):
        backend.check_backend("jax")


def test_keras_json_is_read_when_the_variable_is_unset(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert backend.configured_backend() == "tensorflow"
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    assert backend.configured_backend() == "jax"


def test_a_notebook_on_jax_keeps_an_installed_tensorflow_quiet(tmp_path):
    """start_notebook and train_and_record prepare JAX first (quiet.prepare_jax), then seed."""
    pytest.importorskip("jax")
    script = (
        "import importlib.util, sys, cifar_helpers as ch, keras; from cifar_helpers import quiet; "
        "quiet.prepare_jax(); keras.utils.set_random_seed(0); "
        "print(ch.BACKEND, importlib.util.find_spec('tensorflow') is not None, 'tensorflow' in sys.modules)"
    )
    done = run_python(script, KERAS_BACKEND="jax", KERAS_HOME=str(tmp_path))
    backend_name, installed, imported = done.stdout.split()
    assert backend_name == "jax" and imported == installed, done.stderr[-2000:]  # imported only where installed
    assert "absl" not in done.stderr and "oneDNN" not in done.stderr, done.stderr[-2000:]  # and then quietly
    assert (tmp_path / "jax_cache").is_dir()  # the persistent compilation cache is on


def test_an_unsupported_backend_stops_the_import_with_the_message():
    done = run_python("import cifar_helpers", KERAS_BACKEND="torch")
    assert done.returncode != 0 and "is not supported by this collection" in done.stderr


def test_importing_the_package_loads_only_the_backend_check(tmp_path):
    """import cifar_helpers: the backend check and, on TensorFlow, TensorFlow itself; the rest loads on first use."""
    import json

    import keras

    probe = (
        "import json, sys; import cifar_helpers as ch; "
        "ours = sorted(m for m in sys.modules if m.startswith('cifar_helpers')); "
        "print(json.dumps([ours, 'tensorflow' in sys.modules]))"
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    modules, tensorflow = json.loads(out.stdout.strip().splitlines()[-1])
    assert modules == ["cifar_helpers", "cifar_helpers.backend", "cifar_helpers.quiet", "cifar_helpers.settings"]
    assert tensorflow == (keras.backend.backend() == "tensorflow")


def test_a_name_the_package_does_not_have_is_an_attribute_error():
    import cifar_helpers as ch

    assert ch.models.article_cnn is not None and ch.summary.time_line is not None
    with pytest.raises(AttributeError, match="no attribute 'modles'"):
        ch.modles
