"""Augmentation and input layers: per-image randomness in training, deterministic at inference.

Two Keras traps are handled here once. `keras.layers.RandomCrop` draws ONE crop offset
for the whole batch, and at inference (Keras >= 3.8) returns its input unchanged, so a
model trained on 24x24 crops would silently see 32x32 images at test time. The layers
below crop every image at its own offset, and take the centre crop at inference.
"""

import keras
from keras import layers, ops


def crop_each(images, top, left, height: int, width: int):
    """Crop every image of an NHWC batch at its own (top, left) offset."""
    rows = top[:, None] + ops.arange(height, dtype="int32")[None, :]
    cols = left[:, None] + ops.arange(width, dtype="int32")[None, :]
    images = ops.take_along_axis(images, rows[:, :, None, None], axis=1)
    return ops.take_along_axis(images, cols[:, None, :, None], axis=2)


@keras.saving.register_keras_serializable(package="cifar_helpers")
class RandomCropPerImage(layers.Layer):
    """Random `size` x `size` crop per image while training; the centre crop at inference.

    Introduced in notebook 00.
    """

    def __init__(self, size: int, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        batch = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        if training:
            top = keras.random.randint((batch,), 0, height - self.size + 1, seed=self.seed_generator)
            left = keras.random.randint((batch,), 0, width - self.size + 1, seed=self.seed_generator)
        else:
            top = ops.full((batch,), (height - self.size) // 2, dtype="int32")
            left = ops.full((batch,), (width - self.size) // 2, dtype="int32")
        return crop_each(images, ops.cast(top, "int32"), ops.cast(left, "int32"), self.size, self.size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}


@keras.saving.register_keras_serializable(package="cifar_helpers")
class PadAndRandomCrop(layers.Layer):
    """Pad by `padding` pixels and crop back to the input size at a random offset per image.

    The ResNet paper's augmentation (zero padding); mode="reflect" mirrors the border instead
    (the speedrun's 2-pixel translation). At inference the layer is the identity.

    Introduced in notebook 07.
    """

    def __init__(self, padding: int = 4, seed=None, mode: str = "constant", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("constant", "reflect"):
            raise ValueError(f"mode must be 'constant' (zeros) or 'reflect'; got {mode!r}")
        self.padding = padding
        self.seed = seed
        self.mode = mode
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        height, width = images.shape[1], images.shape[2]
        pad = self.padding
        padded = ops.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode=self.mode)
        batch = ops.shape(images)[0]
        top = keras.random.randint((batch,), 0, 2 * pad + 1, seed=self.seed_generator)
        left = keras.random.randint((batch,), 0, 2 * pad + 1, seed=self.seed_generator)
        return crop_each(padded, ops.cast(top, "int32"), ops.cast(left, "int32"), height, width)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "seed": self.seed, "mode": self.mode}


@keras.saving.register_keras_serializable(package="cifar_helpers")
class PerImageStandardization(layers.Layer):
    """The article's "whitening": (x - mean) / std over each image's pixels and channels.

    Same as tf.image.per_image_standardization, including its floor of 1/sqrt(N) on std.

    Introduced in notebook 00.
    """

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        count = images.shape[1] * images.shape[2] * images.shape[3]
        mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
        std = ops.std(images, axis=(1, 2, 3), keepdims=True)
        return (images - mean) / ops.maximum(std, 1.0 / count**0.5)


def random_flip(seed=None):
    """Horizontal flip with probability 0.5, drawn per image (Keras' own layer)."""
    return layers.RandomFlip("horizontal", seed=seed)


def rescale():
    """Pixels 0..255 to 0..1: the plain input scaling used when whitening is off."""
    return layers.Rescaling(1.0 / 255)


def input_pipeline(crop=None, flip=False, whiten=False, pad_crop=None, seed=None):
    """The preprocessing front of a model as a list of layers, from a few switches.

    crop: output size of a random per-image crop (centre crop at inference), e.g. 24.
    pad_crop: padding for a pad-and-crop back to 32 (ResNet style), e.g. 4.
    flip: random horizontal flips.  whiten: per-image standardisation instead of /255.

    Introduced in notebook 02.
    """
    steps = []
    if crop:
        steps.append(RandomCropPerImage(crop, seed=seed))
    if pad_crop:
        steps.append(PadAndRandomCrop(pad_crop, seed=seed))
    if flip:
        steps.append(random_flip(seed))
    steps.append(PerImageStandardization() if whiten else rescale())
    return steps
