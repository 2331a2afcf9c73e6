"""Feed images and labels to Keras in batches, on whichever backend runs."""

import math

import keras
import numpy as np

from .checks import check_images, check_labels


def one_hot(labels, num_classes: int) -> np.ndarray:
    """float32 one-hot rows for integer labels (what label smoothing needs)."""
    return np.eye(num_classes, dtype="float32")[np.asarray(labels)]


class ArrayBatches(keras.utils.PyDataset):
    """Batches of (float32 pixels 0..255, labels) from NumPy arrays, reshuffled each epoch when asked."""

    def __init__(self, images, labels, batch_size: int, shuffle: bool = False, seed: int = 0):
        super().__init__()
        self.images, self.labels, self.batch_size, self.shuffle = images, labels, batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images)) if shuffle else np.arange(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.images[rows].astype("float32"), self.labels[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(len(self.images))


def tensorflow_batches(images, labels, batch_size: int, shuffle: bool, seed: int):
    """The same batches as a prefetched tf.data pipeline (TensorFlow only: faster on CPU cores)."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    to_float = lambda x, y: (tf.cast(x, tf.float32), y)  # noqa: E731
    return dataset.batch(batch_size).map(to_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def make_batches(images, labels, batch_size: int, shuffle: bool = False, seed: int = 0, num_classes=None):
    """Checked, batched (float32 pixels 0..255, labels) for fit/evaluate; one-hot labels when num_classes is given.

    On TensorFlow a tf.data pipeline (it overlaps batching with training on a CPU, and keeps the
    committed TensorFlow runs reproducible); on other backends a keras.utils.PyDataset.
    """
    images = check_images(images)
    labels = check_labels(labels, len(images))
    labels = one_hot(labels, num_classes) if num_classes else labels
    if keras.backend.backend() == "tensorflow":
        return tensorflow_batches(images, labels, batch_size, shuffle, seed)
    return ArrayBatches(images, labels, batch_size, shuffle, seed)
