"""The article's 45,000 / 5,000 / 10,000 split and class-balanced training subsets."""

from dataclasses import dataclass, replace

import numpy as np

from .data import CLASS_NAMES, Cifar10, load_cifar10
from .checks import check_images

SPLIT_SEED = 2017
VALIDATION_SIZE = 5_000


@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays (uint8 NHWC images, int64 labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple = CLASS_NAMES
    source: str = ""

    @property
    def train(self):
        """(x_train, y_train)."""
        return self.x_train, self.y_train

    @property
    def val(self):
        """(x_val, y_val)."""
        return self.x_val, self.y_val

    @property
    def test(self):
        """(x_test, y_test)."""
        return self.x_test, self.y_test

    def sizes(self) -> dict:
        """Number of images in each part."""
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}

    def sized_for(self, settings) -> "Split":
        """The split cut to a budget row's train_size, val_size and eval_size (see budget_settings)."""
        row = vars(settings) if not isinstance(settings, dict) else settings
        missing = [key for key in ("train_size", "val_size", "eval_size") if key not in row]
        if missing:
            raise KeyError(
                f"the settings row has no {missing}: give train_size, val_size and eval_size (None keeps all)"
            )
        return (
            self.with_train_subset(row["train_size"])
            .with_val_subset(row["val_size"])
            .with_eval_subset(row["eval_size"])
        )

    def with_train_subset(self, size, seed: int = 0) -> "Split":
        """The same split with the training part cut to a class-balanced subset of `size` (None keeps all)."""
        if size is None or size >= len(self.y_train):
            return self
        keep = balanced_subset(self.y_train, size, seed)
        return replace(self, x_train=self.x_train[keep], y_train=self.y_train[keep])

    def with_val_subset(self, size, seed: int = 0) -> "Split":
        """Validation cut to a class-balanced subset of `size` (None keeps all); training and test untouched.

        Validation runs after every epoch, so on a CPU a smaller set saves time; it never changes training.
        """
        if size is None or size >= len(self.y_val):
            return self
        keep = balanced_subset(self.y_val, size, seed)
        return replace(self, x_val=self.x_val[keep], y_val=self.y_val[keep])

    def with_eval_subset(self, size, seed: int = 0) -> "Split":
        """Validation and test cut to class-balanced subsets of `size` each (None keeps all: smoke runs only)."""
        if size is None:
            return self
        val = balanced_subset(self.y_val, min(size, len(self.y_val)), seed)
        test = balanced_subset(self.y_test, min(size, len(self.y_test)), seed)
        return replace(
            self, x_val=self.x_val[val], y_val=self.y_val[val], x_test=self.x_test[test], y_test=self.y_test[test]
        )


def split_validation(data: Cifar10, val_size: int = VALIDATION_SIZE, seed: int = SPLIT_SEED) -> Split:
    """Hold out `val_size` training images (class-balanced, fixed by `seed`) as the validation set.

    Introduced in notebook 00.
    """
    check_images(data.x_train, "x_train")
    check_images(data.x_test, "x_test")
    val_index = balanced_subset(data.y_train, val_size, seed)
    train_mask = np.ones(len(data.y_train), dtype=bool)
    train_mask[val_index] = False
    train_index = np.random.default_rng(seed + 1).permutation(np.flatnonzero(train_mask))
    return Split(
        data.x_train[train_index],
        data.y_train[train_index],
        data.x_train[val_index],
        data.y_train[val_index],
        data.x_test,
        data.y_test,
        data.class_names,
        data.source,
    )


def load_split(source=None, seed: int = SPLIT_SEED) -> Split:
    """Load CIFAR-10 and return the 45k / 5k / 10k split every notebook uses.

    Introduced in notebook 01.
    """
    return split_validation(load_cifar10(source), seed=seed)


def balanced_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of `size` items with (as near as possible) equal counts per class, shuffled."""
    classes = np.unique(labels)
    if size % len(classes):
        raise ValueError(f"subset size {size} must be a multiple of the {len(classes)} classes")
    per_class = size // len(classes)
    rng = np.random.default_rng(seed)
    picks = []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"class {label} has {len(members)} items, fewer than the {per_class} asked for")
        picks.append(rng.choice(members, per_class, replace=False))
    return rng.permutation(np.concatenate(picks))
