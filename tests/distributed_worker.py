"""One process of test_distributed's run: setup_devices, then train_and_record a tiny net; weights saved to argv[1].

Several processes come from the environment (KERAS_DISTRIBUTION_* on JAX, TF_CONFIG on TensorFlow);
argv[2]: the epochs (2 by default); argv[3]: kill this process (SIGKILL) once that epoch is backed up.
"""

import os
import signal
import sys
import time

import keras
import numpy as np

GLOBAL_BATCH = 16
EPOCHS = 2  # by default; test_distributed asks for 4


def tiny_split():
    """96 training, 20 validation and 20 test random images (every process makes the same ones)."""
    from cifar_helpers.split import Split

    rng = np.random.default_rng(7)
    parts = [
        (rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8), np.arange(count, dtype=np.int64) % 10)
        for count in (96, 20, 20)
    ]
    return Split(*parts[0], *parts[1], *parts[2], source="test_distributed")


def tiny_model():
    """A Dense net on 4x4-pooled pixels (490 weights), compiled."""
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.AveragePooling2D(8),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class KillAfter(keras.callbacks.Callback):
    """SIGKILL this process at the end of epoch `epoch` (from 1), after the backup callback has saved it."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            print(f"killing this process after epoch {self.epoch} at {time.time():.3f}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def train_tiny(placement=None, epochs: int = EPOCHS, kill_after=None):
    """train_and_record of the tiny net on the tiny split: (record, model)."""
    from cifar_helpers.machinery.recorded import train_and_record

    return train_and_record(
        tiny_model,
        tiny_split(),
        notebook="99_distributed",
        run="tiny",
        budget="smoke",
        epochs=epochs,
        batch_size=GLOBAL_BATCH,
        strategy=placement,
        callbacks=[KillAfter(kill_after)] if kill_after else [],
    )


if __name__ == "__main__":
    import cifar_helpers as ch

    epochs, kill_after = (
        (int(sys.argv[2]) if len(sys.argv) > 2 else EPOCHS),
        (int(sys.argv[3]) if len(sys.argv) > 3 else None),
    )
    _, trained = train_tiny(ch.setup_devices(), epochs, kill_after)
    np.savez(sys.argv[1], *trained.get_weights())
    test_images = tiny_split().x_test.astype("float32")  # prediction across processes: every process gets all outputs
    np.save(sys.argv[1].replace(".npz", ".predict.npy"), trained.predict(test_images, batch_size=8, verbose=0))
