"""Shared fixtures: small generated CIFAR-like data, and a scratch results/cache folder."""

import numpy as np
import pytest

import cifar_helpers  # noqa: F401  (imports TensorFlow quietly once)
from cifar_helpers import records

COMMITTED_RESULTS = records.committed_results_dir  # the project's own results/


@pytest.fixture(autouse=True)
def scratch_dirs(tmp_path, monkeypatch):
    """Keep every test's results and caches out of the project and the user's home (committed records included)."""
    monkeypatch.setenv("CIFAR_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(records, "committed_results_dir", lambda: tmp_path / "committed-results")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("CIFAR10_DATA", raising=False)
    monkeypatch.delenv("CIFAR_BUDGET", raising=False)


def fake_images(count, seed=0):
    """`count` random uint8 32x32x3 images."""
    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)


def fake_labels(count):
    """Labels 0..9 repeating, so every class is present."""
    return np.arange(count, dtype=np.int64) % 10


@pytest.fixture
def tiny_cifar():
    """A Cifar10 with 200 training and 50 test images (shape and dtype as the real one)."""
    from cifar_helpers.data import Cifar10

    return Cifar10(fake_images(200), fake_labels(200), fake_images(50, seed=1), fake_labels(50))


@pytest.fixture
def project_results(monkeypatch):
    """Read and write the project's own committed results/ (for tests that check them)."""
    monkeypatch.delenv("CIFAR_RESULTS_DIR", raising=False)
    monkeypatch.setattr(records, "committed_results_dir", COMMITTED_RESULTS)
    return COMMITTED_RESULTS()
