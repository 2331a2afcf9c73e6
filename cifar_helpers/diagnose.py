"""Read a training history the way answer 2 of the Stack Exchange thread says to: with evidence."""

from dataclasses import dataclass, field

import keras
import numpy as np

OVERFIT_GAP = 0.10  # train accuracy this far above validation accuracy
CLIMBING = 0.005  # accuracy gain per epoch that still counts as "climbing"
LOSS_TURN_UP = 1.05  # final val loss this many times its minimum
UNDERFIT_TRAIN_ACC = 0.75  # a net that fits worse than this on its own training data
RECENT = 3  # epochs that make up "the end of training", at the least (see window)
CHANCE = 0.15  # validation accuracy this close to 1/10 means nothing generalises
LEARNING = 0.15  # training accuracy above this after one epoch: the net has left chance


@dataclass
class Diagnosis:
    """A verdict on one run ('at chance', 'batch-norm lag', 'over-fitting', 'under-fitting', 'still learning',
    'plateaued') and why."""

    verdict: str
    evidence: list = field(default_factory=list)

    def __str__(self):
        return self.verdict + "\n" + "\n".join("  - " + line for line in self.evidence)


def window(epochs: int) -> int:
    """How many final epochs count as "the end of training": the last fifth, at least RECENT."""
    return max(RECENT, epochs // 5)


def slope(values) -> float:
    """Least-squares gain per epoch over the end of training (see window)."""
    tail = np.asarray(values[-window(len(values)) :], dtype=float)
    return float(np.polyfit(np.arange(len(tail)), tail, 1)[0]) if len(tail) > 1 else 0.0


def read_curves(history) -> Diagnosis:
    """Say whether a run over-fits, under-fits or is still learning, citing the numbers.

    Introduced in notebook 01.
    """
    history = history.get("history", history)  # a recorded run or a plain history dict
    for key in ("accuracy", "val_accuracy", "val_loss"):
        if key not in history:
            raise KeyError(f"the history has no {key!r}: fit with validation_data and metrics=['accuracy']")
    train, val, val_loss = history["accuracy"], history["val_accuracy"], history["val_loss"]
    epochs = len(train)
    gap = train[-1] - val[-1]
    best_loss_epoch = int(np.argmin(val_loss)) + 1
    loss_turned_up = best_loss_epoch < epochs and val_loss[-1] > LOSS_TURN_UP * min(val_loss)
    loss_falling = epochs >= 2 and best_loss_epoch == epochs
    train_climbing = slope(train) > CLIMBING
    val_climbing = slope(val) > CLIMBING
    evidence = [
        f"after {epochs} epochs: training accuracy {train[-1]:.3f}, validation accuracy {val[-1]:.3f} (gap {gap:+.3f})",
        f"validation loss was lowest at epoch {best_loss_epoch} ({min(val_loss):.3f}); now {val_loss[-1]:.3f}"
        + (" - it has turned up" if loss_turned_up else ""),
        f"after epoch 1: training accuracy {train[0]:.3f}, validation accuracy {val[0]:.3f}",
        f"over the last {min(window(epochs), epochs)} epochs training accuracy "
        + ("is still climbing" if train_climbing else "is flat")
        + f" ({slope(train):+.3f}/epoch), validation accuracy "
        + ("is still climbing" if val_climbing else "is flat")
        + f" ({slope(val):+.3f}/epoch)",
    ]
    # Learning from the first epoch, yet validated at chance: the signature of batch norm's moving
    # averages lagging behind the weights, not of memorising (which opens the gap over time).
    lagging = train[0] > LEARNING and val[0] <= CHANCE and gap > OVERFIT_GAP
    if epochs >= 2 and max(val) <= CHANCE and not lagging:
        verdict = (
            "at chance: validation accuracy never left 10%; check that the labels still match "
            "the images (shuffled apart?) and that the inputs are scaled"
        )
    elif epochs >= 2 and lagging:
        verdict = (
            "batch-norm lag: training accuracy rose from the first epoch while validation started at chance; "
            "a net with batch norm is evaluated with moving averages (Keras momentum 0.99) that lag the "
            "weights for a few hundred steps; lower the momentum (e.g. 0.9) or train longer before "
            "reading the gap as over-fitting"
        )
    elif gap > OVERFIT_GAP and (loss_turned_up or not val_climbing):
        verdict = "over-fitting: the net memorises the training set; regularise or augment"
    elif train[-1] < UNDERFIT_TRAIN_ACC and not (train_climbing or val_climbing):
        verdict = "under-fitting: it cannot even fit its training data; add capacity or fix the optimisation"
    elif val_climbing:
        verdict = "still learning: validation accuracy is still rising; train longer"
    elif train_climbing or loss_falling:
        rising = "training accuracy is still rising" if train_climbing else "validation loss is still falling"
        verdict = f"still learning: {rising} while validation accuracy is flat; train longer before judging"
    else:  # only here: both accuracies flat at the end of training
        verdict = (
            "plateaued: training and validation accuracy are both flat; change the recipe "
            "(e.g. lower the learning rate)"
        )
    return Diagnosis(verdict, evidence)


def batch_loss(model, images, labels):
    """Mean cross-entropy of one batch in training mode (batch statistics)."""
    predictions = model(keras.ops.convert_to_tensor(images, "float32"), training=True)
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, predictions))


def loss_gradients(model, images, labels) -> list:
    """Gradients of batch_loss for every trainable variable: the one step Keras has no neutral API for."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = batch_loss(model, images, labels)
        return tape.gradient(loss, model.trainable_variables)
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        x = keras.ops.convert_to_tensor(images, "float32")

        def loss_of(values):
            predictions, _ = model.stateless_call(values, frozen, x, training=True)
            return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, predictions))

        return jax.grad(loss_of)(trainable)
    raise ValueError(f"gradient norms support the tensorflow and jax backends, not {backend!r}.")


def conv_gradient_norms(model, images, labels) -> list:
    """L2 norm of the loss gradient for each conv kernel, from input to output, on one batch.

    Measured in training mode (batch statistics), as the first optimizer step would see it.

    Introduced in notebook 05.
    """
    gradients = loss_gradients(model, images, labels)
    return [
        float(np.linalg.norm(keras.ops.convert_to_numpy(g)))
        for v, g in zip(model.trainable_variables, gradients)
        if len(v.shape) == 4
    ]


def top_class(probabilities) -> tuple:
    """(classes, confidences): each image's most likely class and its probability, from rows of class probabilities.

    Introduced in notebook 08.
    """
    probabilities = np.asarray(probabilities)
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


def confidence_bins(predictions, labels, bins: int):
    """Per confidence bin (equal widths over 0..1) of (classes, confidences) predictions: (share of images,
    accuracy, mean confidence); NaN where empty."""
    classes, confidence = (np.asarray(part) for part in predictions)
    correct = classes == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    share = np.array([(which == b).mean() for b in range(bins)])
    accuracy = np.array([correct[which == b].mean() if share[b] else np.nan for b in range(bins)])
    mean_confidence = np.array([confidence[which == b].mean() if share[b] else np.nan for b in range(bins)])
    return share, accuracy, mean_confidence


def expected_calibration_error(predictions, labels, bins: int = 15) -> float:
    """ECE of (classes, confidences): the gap between confidence and accuracy, averaged over confidence bins
    (weighted by size)."""
    share, accuracy, confidence = confidence_bins(predictions, labels, bins)
    used = share > 0
    return float(np.sum(share[used] * np.abs(accuracy[used] - confidence[used])))


def confidence_and_accuracy(predictions, labels) -> tuple:
    """(mean confidence, accuracy) of (classes, confidences) predictions."""
    classes, confidence = (np.asarray(part) for part in predictions)
    return float(confidence.mean()), float(np.mean(classes == np.asarray(labels)))


def calibration_scores(model, split, batch_size: int = 500) -> dict:
    """The test set's expected calibration error and mean confidence (for a run's record: train_and_record's scores).

    Introduced in notebook 08.
    """
    predictions = top_class(model.predict(split.x_test.astype("float32"), batch_size=batch_size, verbose=0))
    return {
        "test_ece": expected_calibration_error(predictions, split.y_test),
        "test_mean_confidence": confidence_and_accuracy(predictions, split.y_test)[0],
    }


def confusion_counts(true_labels, predicted_labels, num_classes: int) -> np.ndarray:
    """counts[i, j]: how many images of true class i were predicted as class j.

    Introduced in notebook 01.
    """
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (np.asarray(true_labels), np.asarray(predicted_labels)), 1)
    return counts


def most_confused_pair(counts: np.ndarray):
    """((i, j), n): the two classes mistaken for each other most, counting both directions, and how many images.

    Introduced in notebook 01.
    """
    both = counts + counts.T
    np.fill_diagonal(both, 0)
    i, j = np.unravel_index(np.argmax(both), both.shape)
    return (int(min(i, j)), int(max(i, j))), int(both[i, j])
