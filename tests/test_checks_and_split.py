"""Input checks and the train/validation/test split."""

import numpy as np
import pytest

from cifar_helpers.checks import InputError, check_images, check_labels
from cifar_helpers.split import balanced_subset, split_validation
from conftest import fake_images


def test_channels_first_is_refused_with_the_transpose_to_use():
    with pytest.raises(InputError, match=r"channels-first.*np.transpose\(images, \(0, 2, 3, 1\)\)"):
        check_images(np.zeros((4, 3, 32, 32), dtype=np.uint8))


def test_scaled_float_pixels_are_refused():
    with pytest.raises(InputError, match="float32.*already scaled"):
        check_images(fake_images(4).astype("float32") / 255)


def test_one_hot_labels_are_refused():
    with pytest.raises(InputError, match="one-hot"):
        check_labels(np.eye(10)[:4], 4)


def test_label_count_must_match_images():
    with pytest.raises(InputError, match="expected \\(5,\\)"):
        check_labels(np.arange(4), 5)


def test_split_is_disjoint_balanced_and_deterministic(tiny_cifar):
    first = split_validation(tiny_cifar, val_size=50, seed=3)
    again = split_validation(tiny_cifar, val_size=50, seed=3)
    other = split_validation(tiny_cifar, val_size=50, seed=4)
    assert first.sizes() == {"train": 150, "validation": 50, "test": 50}
    assert list(np.bincount(first.y_val)) == [5] * 10
    np.testing.assert_array_equal(first.x_val, again.x_val)
    assert not np.array_equal(first.x_val, other.x_val)
    train_keys = {x.tobytes() for x in first.x_train}
    assert not any(x.tobytes() in train_keys for x in first.x_val)


def test_train_subset_is_balanced_and_keeps_val_and_test(tiny_cifar):
    split = split_validation(tiny_cifar, val_size=50)
    small = split.with_train_subset(40, seed=0)
    assert list(np.bincount(small.y_train)) == [4] * 10
    assert small.x_val is split.x_val and small.x_test is split.x_test
    assert split.with_train_subset(None) is split


@pytest.mark.parametrize("method, test_size", [("with_eval_subset", 20), ("with_val_subset", 50)])
def test_eval_and_val_subsets_cut_only_their_parts(tiny_cifar, method, test_size):
    split = split_validation(tiny_cifar, val_size=50)
    cut = getattr(split, method)
    small = cut(20)
    assert small.sizes() == {"train": 150, "validation": 20, "test": test_size}
    assert list(np.bincount(small.y_val)) == [2] * 10 and small.x_train is split.x_train
    assert list(np.bincount(small.y_test)) == [test_size // 10] * 10
    val_keys = {x.tobytes() for x in split.x_val}
    assert all(x.tobytes() in val_keys for x in small.x_val)
    assert cut(None) is split


def test_val_subset_of_the_whole_validation_set_is_the_split_itself(tiny_cifar):
    split = split_validation(tiny_cifar, val_size=50)
    assert split.with_val_subset(50) is split


def test_balanced_subset_needs_a_multiple_of_the_classes():
    with pytest.raises(ValueError, match="multiple"):
        balanced_subset(np.arange(100) % 10, 15, seed=0)


def test_model_without_scaling_layer_gets_a_warning():
    import keras

    from cifar_helpers.checks import UnscaledInputWarning, warn_if_unscaled

    raw = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3)], name="raw")
    with pytest.warns(UnscaledInputWarning, match="raw pixels 0..255.*Rescaling"):
        assert warn_if_unscaled(raw)
    scaled = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.RandomFlip(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3),
        ]
    )
    assert not warn_if_unscaled(scaled)
    nested = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.RandomFlip(), scaled])
    assert not warn_if_unscaled(nested)


def test_sized_for_cuts_every_part_from_a_budget_row(tiny_cifar):
    from types import SimpleNamespace

    split = split_validation(tiny_cifar, val_size=50)
    small = split.sized_for(SimpleNamespace(train_size=40, val_size=20, eval_size=None, epochs=3))
    assert small.sizes() == {"train": 40, "validation": 20, "test": 50}
    assert split.sized_for(dict(train_size=None, val_size=None, eval_size=None)) is split
    with pytest.raises(KeyError, match="eval_size"):
        split.sized_for(dict(train_size=40, val_size=None))
