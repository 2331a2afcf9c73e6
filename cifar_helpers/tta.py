"""Test-time augmentation: average a model's logits over mirrored and shifted copies of each test image."""

import numpy as np

from .checks import check_images, check_labels

LEVELS = {0: "none", 1: "mirror", 2: "mirror + 1-pixel shifts"}


def mirrored_logits(model, images, batch_size: int) -> np.ndarray:
    """Mean logits of the images and their mirror images."""
    plain = model.predict(images.astype("float32"), batch_size=batch_size, verbose=0)
    mirrored = model.predict(images[:, :, ::-1].astype("float32"), batch_size=batch_size, verbose=0)
    return 0.5 * (plain + mirrored)


def shifted(images, rows: int, cols: int) -> np.ndarray:
    """Images shifted by (rows, cols) pixels in {-1, 0, 1}, the border reflected (airbench's TTA views)."""
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    return padded[:, 1 + rows : 33 + rows, 1 + cols : 33 + cols]


def tta_logits(model, images, level: int = 2, batch_size: int = 1000) -> np.ndarray:
    """airbench's weighting: level 0 the plain logits; 1 mirror-averaged; 2 half mirror-averaged, half the
    mirror-averaged mean of the copies shifted one pixel up-left and down-right (6 views in all).

    Introduced in notebook 10."""
    if level not in LEVELS:
        raise ValueError(f"TTA level must be one of {sorted(LEVELS)} ({LEVELS}); got {level!r}")
    images = check_images(images)
    if level == 0:
        return model.predict(images.astype("float32"), batch_size=batch_size, verbose=0)
    logits = mirrored_logits(model, images, batch_size)
    if level == 2:
        moved = [mirrored_logits(model, shifted(images, s, s), batch_size) for s in (-1, 1)]
        logits = 0.5 * logits + 0.5 * np.mean(moved, axis=0)
    return logits


def tta_accuracy(model, images, labels, level: int = 2, batch_size: int = 1000) -> float:
    """Accuracy of the TTA prediction."""
    labels = check_labels(labels, len(images))
    return float(np.mean(tta_logits(model, images, level, batch_size).argmax(axis=1) == labels))


def tta_scores(model, split, batch_size: int = 1000) -> dict:
    """Test accuracy at each TTA level (for the run's record)."""
    return {f"test_accuracy_tta{level}": tta_accuracy(model, *split.test, level, batch_size) for level in LEVELS}
