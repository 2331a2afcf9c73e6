"""Patch whitening, done right: a first convolution whose filters decorrelate the 2x2 patches of the images.

Notebook 00 standardises each image as a whole (the article's "whitening"). The speedrun's first
layer goes further: it measures the covariance of every 2x2x3 patch of the training images and uses
its eigenvectors, scaled by 1 / sqrt(eigenvalue), as fixed convolution filters, so that the 12
channels it outputs are uncorrelated with unit variance. Each filter also appears negated (24 in
all), so the GELU after it keeps both signs.
"""

import numpy as np

EPSILON = 5e-4  # airbench's floor under the eigenvalues: the flattest directions are not blown up


def patches(images, size: int = 2) -> np.ndarray:
    """Every size x size patch of an NHWC batch, one row each, flattened in (row, column, channel) order."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"patches needs an NHWC batch; got shape {images.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(images, (size, size), axis=(1, 2))  # N, H', W', C, s, s
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, size * size * images.shape[-1])


def whitening_filters(images, size: int = 2, eps: float = EPSILON):
    """(eigenvalues, filters): the patch covariance's eigenvalues, largest first, and a (size, size, C, size*size*C)
    kernel whose k-th filter is the k-th eigenvector / sqrt(eigenvalue + eps).

    Introduced in notebook 10."""
    flat = patches(np.asarray(images, dtype="float64"), size)
    covariance = flat.T @ flat / len(flat)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    filters = eigenvectors / np.sqrt(eigenvalues + eps)
    return eigenvalues, filters.reshape(size, size, images.shape[-1], -1)


def whitening_kernel(images, size: int = 2, eps: float = EPSILON) -> np.ndarray:
    """The frozen first layer's kernel: the whitening filters followed by their negatives (2 * size*size*C filters).

    Introduced in notebook 10.
    """
    _, filters = whitening_filters(images, size, eps)
    return np.concatenate([filters, -filters], axis=-1).astype("float32")


def patch_covariance_after(kernel, images) -> np.ndarray:
    """The covariance of the first half of the kernel's outputs on `images` (identity when it whitens them).

    Introduced in notebook 10.
    """
    size, channels = kernel.shape[0], kernel.shape[-1] // 2
    outputs = patches(np.asarray(images, dtype="float64"), size) @ kernel[..., :channels].reshape(-1, channels)
    return outputs.T @ outputs / len(outputs)
