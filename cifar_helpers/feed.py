"""Feed images and labels to Keras in batches, on whichever backend runs."""

import math

import keras
import numpy as np

from .checks import check_images, check_labels


def one_hot(labels, num_classes: int) -> np.ndarray:
    """float32 one-hot rows for integer labels (what label smoothing needs)."""
    return np.eye(num_classes, dtype="float32")[np.asarray(labels)]


class ArrayBatches(keras.utils.PyDataset):
    """Batches of (float32 pixels 0..255, labels) from NumPy arrays, reshuffled each epoch when asked.

    With several processes, every process shuffles alike (same seed), keeps its own block of each global
    batch, and stops after the last whole one, so all processes take the same number of steps.
    """

    def __init__(
        self,
        images,
        labels,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        process_id: int = 0,
        processes: int = 1,
        first_epoch: int = 0,
    ):
        super().__init__()
        self.images, self.labels, self.batch_size, self.shuffle = images, labels, batch_size, shuffle
        self.process_id, self.processes = process_id, processes
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images)) if shuffle else np.arange(len(images))
        for _ in range(first_epoch):  # a resumed run: the orders the finished epochs used, drawn and passed over
            self.on_epoch_end()

    def __len__(self):
        if self.processes > 1:
            return len(self.images) // self.batch_size
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        share = self.batch_size // self.processes
        rows = rows[self.process_id * share : (self.process_id + 1) * share] if self.processes > 1 else rows
        return self.images[rows].astype("float32"), self.labels[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(len(self.images))


# tf.data's autotuning of the TensorFlow pipeline: off, because on 2 CPU cores Keras' fit loop waits at the end of
# about half the epochs for the autotune thread to wake (20-25 s, the machine idle; scripts/iterator_wait.py: 442 s
# for 6 epochs of 03's network with it, 307 s without, the same accuracies). True gives tf.data.AUTOTUNE back.
TF_DATA_AUTOTUNE = False


def tensorflow_batches(
    images, labels, batch_size: int, shuffle: bool, seed: int, drop_remainder: bool = False, first_epoch: int = 0
):
    """The same batches as a prefetched tf.data pipeline (TensorFlow only: faster on CPU cores).

    drop_remainder leaves out the last partial batch (several workers: tf.distribute shards the global batches).
    first_epoch: a resumed run starts with the order of that epoch (each new iterator reshuffles).
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    to_float = lambda x, y: (tf.cast(x, tf.float32), y)  # noqa: E731
    batches = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if TF_DATA_AUTOTUNE:
        batches = batches.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    else:  # the same batches in the same order, from fixed settings and no autotuning thread
        options = tf.data.Options()
        options.autotune.enabled = False
        batches = batches.map(to_float, num_parallel_calls=2).prefetch(2).with_options(options)
    for _ in range(2 * first_epoch if shuffle else 0):  # Keras' TensorFlow fit opens it twice an epoch (tested)
        iter(batches)
    return batches


def check_global_batch(batch_size: int, replicas: int) -> None:
    """Stop with a clear error unless the global batch splits evenly over every device of every process."""
    if batch_size % replicas:
        raise ValueError(
            f"The global batch of {batch_size} does not split evenly over {replicas} devices: "
            f"pick a batch size that is a multiple of {replicas}."
        )


def evaluation_batch_size(count: int, batch_size: int, placement=None) -> int:
    """The batch size for evaluating `count` images: batch_size on one process; with several, the largest
    multiple of the device count, up to batch_size, that divides `count` (no partial batch: equal steps).
    """
    if getattr(placement, "processes", 1) == 1:
        return batch_size
    replicas = placement.replicas
    fits = [size for size in range(replicas, batch_size + 1, replicas) if count % size == 0]
    if not fits:
        raise ValueError(
            f"{count} evaluation images cannot be cut into equal batches over {replicas} devices: "
            f"use a validation and test size that is a multiple of {replicas}."
        )
    return fits[-1]


def make_batches(
    images,
    labels,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    num_classes=None,
    placement=None,
    first_epoch: int = 0,
):
    """Checked, batched (float32 pixels 0..255, labels) for fit/evaluate; one-hot labels when num_classes is given.

    On TensorFlow a tf.data pipeline (it overlaps batching with training on a CPU, and keeps the
    committed TensorFlow runs reproducible); on other backends a keras.utils.PyDataset.
    placement (setup_devices' answer) with several processes: batch_size is the global batch, every
    process gets its share, and the last partial batch is left out so that all take the same steps.
    first_epoch: a resumed run's first epoch (0-based), whose shuffled order it starts with.
    """
    images = check_images(images)
    labels = check_labels(labels, len(images))
    labels = one_hot(labels, num_classes) if num_classes else labels
    processes = getattr(placement, "processes", 1)
    if processes > 1:
        check_global_batch(batch_size, placement.replicas)
        if shuffle and len(images) < batch_size:  # training: the partial batch is left out, so nothing would be left
            raise ValueError(
                f"{len(images)} training images make no whole global batch of {batch_size}: with several "
                f"processes train on at least {batch_size} images, or use a smaller batch."
            )
    if keras.backend.backend() == "tensorflow":
        return tensorflow_batches(images, labels, batch_size, shuffle, seed, processes > 1, first_epoch)
    return ArrayBatches(
        images, labels, batch_size, shuffle, seed, getattr(placement, "process_id", 0), processes, first_epoch
    )
