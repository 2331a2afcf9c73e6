"""The plain training loop every notebook runs: Keras' fit on the training images, evaluate on the test images.

Introduced in notebook 01. ch.train_and_record (machinery/recorded.py) wraps it with records, reuse and resume.
"""

import math
import time

import keras

from .diagnose import top_class
from .feed import evaluation_batch_size, make_batches


def wants_one_hot(model) -> bool:
    """True when the compiled loss is categorical (one-hot targets), e.g. for label smoothing."""
    loss = model.loss
    name = loss if isinstance(loss, str) else type(loss).__name__
    return name in (
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
    )


class TestEachEpoch(keras.callbacks.Callback):
    """Test accuracy and loss after every epoch, added to that epoch's logs (so the record's history keeps them)."""

    def __init__(self, test_batches):
        super().__init__()
        self.test_batches = test_batches

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.evaluate(self.test_batches, verbose=0, return_dict=True)
        if logs is not None:
            logs.update(test_accuracy=float(scores["accuracy"]), test_loss=float(scores["loss"]))


class EpochLines(keras.callbacks.Callback):
    """One short line per epoch for runs of up to 10 epochs, else about five lines and the last (records keep all)."""

    NAMES = (("loss", "loss"), ("accuracy", "accuracy"), ("val_loss", "val loss"), ("val_accuracy", "val accuracy"))

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self.every = 1 if epochs <= 10 else math.ceil(epochs / 5)
        self.started = None

    def shows(self, number: int) -> bool:
        """Whether epoch `number` (from 1) gets a line."""
        return number % self.every == 0 or number == self.epochs

    def line(self, number: int, logs: dict, seconds: float) -> str:
        """The line for epoch `number` (from 1)."""
        values = ", ".join(f"{name} {logs[key]:.4f}" for key, name in self.NAMES if key in logs)
        return f"epoch {number:>{len(str(self.epochs))}}/{self.epochs}: {values} ({seconds:.0f} s)"

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.shows(epoch + 1):
            print(self.line(epoch + 1, logs or {}, time.perf_counter() - self.started))


def test_batches(split, batch_size: int, placement=None, num_classes=None):
    """The test images in evaluation batches (one-hot labels when num_classes is given)."""
    size = evaluation_batch_size(len(split.y_test), batch_size, placement)
    return make_batches(*split.test, size, num_classes=num_classes, placement=placement)


def fit_and_evaluate(
    model,
    split,
    *,
    epochs: int,
    batch_size: int = 128,
    seed: int = 0,
    callbacks=(),
    test_each_epoch: bool = False,
    first_epoch: int = 0,
    placement=None,
):
    """Fit on the training images (validating after each epoch), then test: (history, test scores).

    The batches reshuffle every epoch (seed: the order). first_epoch: where a resumed fit picks up the order;
    placement: setup_devices' answer, when several processes share each global batch.
    """
    num_classes = len(split.class_names) if wants_one_hot(model) else None
    feed = {"num_classes": num_classes, "placement": placement}
    train = make_batches(*split.train, batch_size, shuffle=True, seed=seed, first_epoch=first_epoch, **feed)
    val = make_batches(*split.val, evaluation_batch_size(len(split.y_val), batch_size, placement), **feed)
    test = test_batches(split, batch_size, **feed)
    tests = [TestEachEpoch(test)] if test_each_epoch else []  # first: the callbacks after it see its scores
    history = model.fit(
        train,
        validation_data=val,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=[*tests, *callbacks, EpochLines(epochs)],
    )
    return history.history, model.evaluate(test, verbose=0, return_dict=True)


def predict_test_images(model, split, batch_size: int = 512) -> dict:
    """What `model` says of each test image, as a record keeps it: the class (a digit each) and its probability."""
    if len(split.class_names) > 10:
        count = len(split.class_names)
        raise ValueError(f"test predictions are kept as one digit per image; {count} classes need more than one")
    classes, confidences = top_class(model.predict(split.x_test.astype("float32"), batch_size=batch_size, verbose=0))
    return {
        "class": "".join(str(c) for c in classes),
        "confidence": [round(float(p), 4) for p in confidences],
    }
