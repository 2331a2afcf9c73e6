"""Input checks that turn the classic silent CIFAR-10 mistakes into clear errors."""

import warnings

import numpy as np


class InputError(ValueError):
    """An array handed to a helper has the wrong layout or type; the message says the fix.

    Introduced in notebook 07.
    """


def check_images(images, name: str = "images") -> np.ndarray:
    """Require a uint8 (N, 32, 32, 3) channels-last batch; explain the fix otherwise.

    Introduced in notebook 07.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise InputError(f"{name} has shape {images.shape}; expected a batch (N, 32, 32, 3).")
    if images.shape[1] == 3 and images.shape[-1] != 3:
        raise InputError(
            f"{name} has shape {images.shape}: that is channels-first (N, C, H, W). Keras "
            "models here are channels-last: use np.transpose(images, (0, 2, 3, 1))."
        )
    if images.shape[1:] != (32, 32, 3):
        raise InputError(f"{name} has shape {images.shape}; expected (N, 32, 32, 3).")
    if images.dtype != np.uint8:
        hint = " It looks already scaled to [0, 1]." if images.size and float(images.max()) <= 1.0 else ""
        raise InputError(
            f"{name} is {images.dtype}; the helpers take the raw uint8 pixels (0..255) and the "
            f"model does the scaling.{hint} Pass the arrays from load_cifar10 unchanged."
        )
    return images


def check_labels(labels, count: int, name: str = "labels") -> np.ndarray:
    """Require `count` integer class indices 0..9 (not one-hot)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 10:
        raise InputError(f"{name} look one-hot {labels.shape}; pass integer class indices (labels.argmax(1)).")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (count,):
        raise InputError(f"{name} has shape {labels.shape}; expected ({count},) to match the images.")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise InputError(f"{name} must be integers 0..9; got {labels.dtype} in {labels.min()}..{labels.max()}.")
    return labels.astype(np.int64)


SCALING_LAYERS = ("Rescaling", "Normalization", "PerImageStandardization")


class UnscaledInputWarning(UserWarning):
    """A model takes raw 0..255 pixels straight into its first weighted layer.

    Introduced in notebook 07.
    """


def flat_layers(model):
    """The layers of a model in order, with nested models opened up."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from flat_layers(layer)
        else:
            yield layer


def warn_if_unscaled(model) -> bool:
    """Warn (and return True) when no scaling layer precedes the model's first weighted layer."""
    for layer in flat_layers(model):
        kind = type(layer).__name__
        if kind in SCALING_LAYERS:
            return False
        if layer.trainable_weights:
            warnings.warn(
                f"{model.name}: its first weighted layer ({layer.name}) receives raw pixels 0..255; the "
                "helpers feed uint8 images unscaled. Start the model with keras.layers.Rescaling(1 / 255) "
                "or the layers of ch.input_pipeline().",
                UnscaledInputWarning,
                stacklevel=3,
            )
            return True
    return False
