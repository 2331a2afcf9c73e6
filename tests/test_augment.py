"""Augmentation layers: per-image randomness in training, deterministic at inference."""

import keras
import numpy as np
import pytest

from cifar_helpers.augment import PadAndRandomCrop, PerImageStandardization, RandomCropPerImage, input_pipeline


def same_image_batch(count=16):
    """`count` copies of one image whose every pixel value is unique, as float32."""
    image = np.arange(32 * 32 * 3, dtype="float32").reshape(1, 32, 32, 3)
    return np.repeat(image, count, axis=0)


def crop_offsets(batch, crops):
    """Recover each crop's (top, left) from its first pixel value."""
    first = np.asarray(crops)[:, 0, 0, 0].astype(int)
    return {(v // 3 // 32, v // 3 % 32) for v in first}


def test_random_crop_differs_per_image_and_stays_in_bounds():
    batch = same_image_batch()
    crops = RandomCropPerImage(24, seed=1)(batch, training=True)
    assert crops.shape == (16, 24, 24, 3)
    offsets = crop_offsets(batch, crops)
    assert len(offsets) > 1, "every image in the batch got the same crop (Keras RandomCrop's behaviour)"
    assert all(0 <= top <= 8 and 0 <= left <= 8 for top, left in offsets)
    for crop in np.asarray(crops):  # each crop is a contiguous window of the original
        top, left = next(iter(crop_offsets(batch, crop[None])))
        np.testing.assert_array_equal(crop, batch[0, top : top + 24, left : left + 24])


def test_random_crop_is_the_centre_crop_at_inference():
    batch = same_image_batch(2)
    np.testing.assert_array_equal(RandomCropPerImage(24)(batch, training=False), batch[:, 4:28, 4:28])


def test_keras_random_crop_trap_is_real():
    """Documents why RandomCropPerImage exists: Keras' layer passes 32x32 through at inference."""
    out = keras.layers.RandomCrop(24, 24)(same_image_batch(2), training=False)
    assert out.shape == (2, 32, 32, 3)


def test_pad_and_crop_shifts_each_image_and_is_identity_at_inference():
    batch = same_image_batch()
    shifted = np.asarray(PadAndRandomCrop(4, seed=2)(batch, training=True))
    assert shifted.shape == batch.shape
    zeros_per_image = (shifted == 0).reshape(16, -1).sum(1)
    assert len(set(zeros_per_image.tolist())) > 1
    np.testing.assert_array_equal(PadAndRandomCrop(4)(batch, training=False), batch)


def test_whitening_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    images[1] = 7.0  # a flat image: std 0, the 1/sqrt(N) floor applies
    ours = np.asarray(PerImageStandardization()(images))
    np.testing.assert_allclose(ours, tf.image.per_image_standardization(images).numpy(), atol=1e-5)


def test_pipeline_is_deterministic_at_inference_and_random_in_training():
    model = keras.Sequential([keras.Input((32, 32, 3))] + input_pipeline(crop=24, flip=True, whiten=True, seed=0))
    batch = same_image_batch(8)
    np.testing.assert_array_equal(model(batch, training=False), model(batch, training=False))
    assert not np.array_equal(model(batch, training=True), model(batch, training=True))
    assert model(batch, training=False).shape == (8, 24, 24, 3)
