"""Loading: every local layout, the cache, and a clear error for each kind of bad input."""

import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cifar_helpers import data as d
from conftest import fake_images, fake_labels


def write_batches(folder: Path, per_batch=20, test_count=20):
    """A cifar-10-batches-py folder in the official pickle format, with few images."""
    folder.mkdir(parents=True)
    arrays = {}
    for i, name in enumerate(d.TRAIN_BATCHES + ("test_batch",)):
        count = test_count if name == "test_batch" else per_batch
        images, labels = fake_images(count, seed=i), fake_labels(count)
        flat = images.transpose(0, 3, 1, 2).reshape(count, -1)
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": flat, b"labels": labels.tolist()}, handle)
        arrays[name] = (images, labels)
    return arrays


def write_image_tree(root: Path, per_class=(3, 2)):
    """train/<class>/*.png and test/<class>/*.png with a few images per class."""
    for split, count in zip(("train", "test"), per_class):
        for label, name in enumerate(d.CLASS_NAMES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = np.full((32, 32, 3), label * 20 + i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i:04d}.png")


def test_batches_folder_reads_channels_last(tmp_path):
    arrays = write_batches(tmp_path / d.BATCHES_DIR)
    (x_train, y_train), (x_test, y_test) = d.read_local(tmp_path)
    assert x_train.shape == (100, 32, 32, 3) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train[:20], arrays["data_batch_1"][0])
    np.testing.assert_array_equal(y_test, arrays["test_batch"][1])


def test_official_archive_is_unpacked_once_into_the_cache(tmp_path):
    write_batches(tmp_path / "src" / d.BATCHES_DIR)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / d.BATCHES_DIR, arcname=d.BATCHES_DIR)
    folder = d.extract_official(archive, verify_hash=True, expected_sha256=d.sha256_of(archive))
    assert (folder / "test_batch").exists()
    expected = d.sha256_of(archive)
    archive.write_bytes(b"gone")  # a second call must not read the archive again
    assert d.extract_official(archive, verify_hash=True, expected_sha256=expected) == folder


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("cifar-10-python.tar.gz", b"not really an archive", "not the official CIFAR-10 archive"),
        ("cifar10-jpeg.tar.xz", b"xz", "unpack it first"),
    ],
)
def test_unusable_local_file_is_refused_with_the_fix(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(d.DataError, match=message):
        d.read_local(tmp_path / name)


def test_corrupt_archive_with_matching_hash_names_the_problem(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"\x1f\x8b truncated gzip")
    with pytest.raises(d.DataError, match="could not be unpacked"):
        d.extract_official(archive, verify_hash=True, expected_sha256=d.sha256_of(archive))


def test_missing_path_names_the_fix(tmp_path):
    with pytest.raises(d.DataError, match="CIFAR10_DATA"):
        d.load_cifar10(tmp_path / "nowhere")


def test_image_tree_decodes_labels_in_class_order(tmp_path):
    write_image_tree(tmp_path)
    (x_train, y_train), (x_test, y_test) = d.read_image_tree(tmp_path, expected=(30, 20))
    assert x_train.shape == (30, 32, 32, 3) and y_test.shape == (20,)
    assert list(np.bincount(y_train)) == [3] * 10
    assert x_train[y_train == 4][0, 0, 0, 0] == 80  # class 4's first image was filled with 4*20


def test_image_tree_missing_class_is_named(tmp_path):
    write_image_tree(tmp_path)
    for image in (tmp_path / "train" / "frog").iterdir():
        image.unlink()
    (tmp_path / "train" / "frog").rmdir()
    with pytest.raises(d.DataError, match="missing: \\['frog'\\]"):
        d.read_image_tree(tmp_path, expected=(27, 20))


def test_image_tree_wrong_count_shows_counts_per_class(tmp_path):
    write_image_tree(tmp_path)
    (tmp_path / "test" / "ship" / "0000.png").unlink()
    with pytest.raises(d.DataError, match="holds 19 images, CIFAR-10 has 20.*'ship': 1"):
        d.read_image_tree(tmp_path, expected=(30, 20))


def test_image_tree_is_cached_after_the_first_decode(tmp_path):
    write_image_tree(tmp_path / "tree")
    first = d.read_image_tree_cached(tmp_path / "tree", expected=(30, 20))
    assert len(list(d.cache_dir().glob("cifar10-images-*.npz"))) == 1
    second = d.read_image_tree_cached(tmp_path / "tree", expected=(30, 20))
    np.testing.assert_array_equal(first[0][0], second[0][0])


def test_no_source_and_no_network_explains_what_to_do(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(d.DataError, match="download .* failed .*CIFAR10_DATA"):
        d.load_cifar10()


def test_env_var_is_used_when_no_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(d.DataError, match="elsewhere"):
        d.load_cifar10()


def test_validate_accepts_good_and_rejects_missing_class(tiny_cifar):
    d.validate(tiny_cifar, expected=(200, 50))
    broken = d.Cifar10(
        tiny_cifar.x_train,
        np.where(tiny_cifar.y_train == 3, 2, tiny_cifar.y_train),
        tiny_cifar.x_test,
        tiny_cifar.y_test,
    )
    with pytest.raises(d.DataError, match="cat"):
        d.validate(broken, expected=(200, 50))


def test_validate_rejects_wrong_counts(tiny_cifar):
    with pytest.raises(d.DataError, match="expected uint8 \\(50000, 32, 32, 3\\)"):
        d.validate(tiny_cifar)
