"""The figures the notebooks share: training curves, image grids, confusion matrix, bars."""

import matplotlib.pyplot as plt
import numpy as np

from .checks import check_images, check_labels
from .diagnose import confidence_bins

PANELS = (("loss", "training loss"), ("accuracy", "training accuracy"), ("val_accuracy", "validation accuracy"))


def plot_history(records, title=None):
    """The article's three panels (training loss, training accuracy, validation accuracy) per run."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for record in records:
        for ax, (key, _) in zip(axes, PANELS):
            values = record["history"][key]
            ax.plot(range(1, len(values) + 1), values, label=record.get("label", record["run"]))
    for ax, (_, name) in zip(axes, PANELS):
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[2].legend(loc="lower right", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(images, labels, class_names, per_class: int = 8, seed: int = 0):
    """A grid with one row per class and `per_class` random examples in it."""
    images = check_images(images)
    labels = check_labels(labels, len(images))
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(class_names), per_class, figsize=(per_class * 0.9, len(class_names) * 0.95), dpi=64)
    for row, name in enumerate(class_names):
        picks = rng.choice(np.flatnonzero(labels == row), per_class, replace=False)
        for col, index in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(images[index])
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout(pad=0.2)
    return fig


def plot_class_balance(parts: dict, class_names):
    """Images per class for each named part of the data ({name: labels})."""
    fig, ax = plt.subplots(figsize=(10, 3.5))
    width = 0.8 / len(parts)
    for i, (name, labels) in enumerate(parts.items()):
        counts = np.bincount(labels, minlength=len(class_names))
        ax.bar(np.arange(len(class_names)) + i * width, counts, width, label=f"{name} ({len(labels):,})")
    ax.set_xticks(np.arange(len(class_names)) + width * (len(parts) - 1) / 2, class_names, rotation=30)
    ax.set_ylabel("images")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(true_labels, predicted_labels, class_names):
    """Row-normalised confusion matrix: where each true class's images were put."""
    size = len(class_names)
    counts = np.zeros((size, size))
    np.add.at(counts, (np.asarray(true_labels), np.asarray(predicted_labels)), 1)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(size), class_names, rotation=45, ha="right")
    ax.set_yticks(range(size), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(size):
        for j in range(size):
            ax.text(j, i, f"{shares[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "black")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_accuracy_bars(records, article=None):
    """Our test accuracy per run, beside the article's number where it gives one ({run: percent})."""
    article = article or {}
    labels = [r.get("label", r["run"]) for r in records]
    ours = [100 * r["test_accuracy"] for r in records]
    theirs = [article.get(r["run"], np.nan) for r in records]
    x = np.arange(len(records))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(records)), 3.8))
    bars = ax.bar(x - 0.2, ours, 0.4, label="ours (test)")
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    if article:
        bars = ax.bar(x + 0.2, theirs, 0.4, label="article (test)")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(x, labels, rotation=15)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms_by_model: dict, title=None):
    """Gradient norm per conv layer (input to output), one line per model, log scale."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, norms in norms_by_model.items():
        ax.plot(range(1, len(norms) + 1), norms, marker=".", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("conv layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_depth_comparison(families: dict):
    """Final training loss and best validation accuracy against depth, one line per family.

    families: {name: [records with config["depth"]]}.
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, records in families.items():
        records = sorted(records, key=lambda r: r["config"]["depth"])
        depths = [r["config"]["depth"] for r in records]
        loss_ax.plot(depths, [r["history"]["loss"][-1] for r in records], marker="o", label=name)
        acc_ax.plot(depths, [max(r["history"]["val_accuracy"]) for r in records], marker="o", label=name)
    loss_ax.set_title("final training loss")
    acc_ax.set_title("best validation accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("depth (layers)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_confidence(probabilities_by_run: dict, labels, bins: int = 20):
    """Histogram of the top-class probability, and accuracy per confidence bin (reliability)."""
    fig, (hist_ax, rel_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    for name, probabilities in probabilities_by_run.items():
        hist_ax.hist(probabilities.max(axis=1), bins=edges, alpha=0.5, label=name)
        _, accuracy, _ = confidence_bins(probabilities, labels, bins)
        rel_ax.plot(centres, accuracy, marker="o", label=name)
    rel_ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    hist_ax.set_xlabel("confidence (top-class probability)")
    hist_ax.set_ylabel("test images")
    rel_ax.set_xlabel("confidence")
    rel_ax.set_ylabel("accuracy in that bin")
    for ax in (hist_ax, rel_ax):
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
