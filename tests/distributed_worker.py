"""One process of test_distributed's run: setup_devices, then train_and_record a tiny net; weights saved to argv[1].

Several processes come from the environment (KERAS_DISTRIBUTION_* on JAX, TF_CONFIG on TensorFlow);
test_distributed also imports tiny_split and train_tiny from here for its one-process run.
"""

import sys

import keras
import numpy as np

GLOBAL_BATCH = 16
EPOCHS = 2


def tiny_split():
    """96 training, 20 validation and 20 test random images (every process makes the same ones)."""
    from cifar_helpers.split import Split

    rng = np.random.default_rng(7)
    parts = [(rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8), np.arange(count, dtype=np.int64) % 10)
             for count in (96, 20, 20)]
    return Split(*parts[0], *parts[1], *parts[2], source="test_distributed")


def tiny_model():
    """A Dense net on 4x4-pooled pixels (490 weights), compiled."""
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.AveragePooling2D(8), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_tiny(placement=None):
    """train_and_record of the tiny net on the tiny split: (record, model)."""
    from cifar_helpers.training import train_and_record

    return train_and_record(tiny_model, tiny_split(), notebook="99_distributed", run="tiny", budget="smoke",
                            epochs=EPOCHS, batch_size=GLOBAL_BATCH, strategy=placement)


if __name__ == "__main__":
    import cifar_helpers as ch

    _, trained = train_tiny(ch.setup_devices())
    np.savez(sys.argv[1], *trained.get_weights())
