"""The figures the notebooks share: training curves, image grids, confusion matrix, bars.

Every figure here follows the same conventions: both axes of every panel are labelled; epoch axes
count from 1 (the point at epoch k is measured at the end of epoch k) and have integer ticks;
legends sit outside the panels, so they never cover a curve; figures use constrained layout (image
grids and the confusion matrix: tight layout), which makes room for titles, labels and outside
legends, so nothing is clipped. A run keeps one colour in every figure of every notebook, and no
two runs of one figure share one (colours.figure_colours: a fixed palette slot per run label). A
loss panel's y axis ends at its highest ordinary point; only a true outlier, a spike (a loss over
SPIKE_FACTOR times the panel's median and SPIKE_JUMP times its run's neighbouring epochs, often
the first epoch's validation loss), is clipped: drawn as ▲ at the top edge, in its run's colour,
with its true value written above the panel; its line leaves the panel at the top. Ordinary
first-epoch losses stay on the panel. Nothing is dropped. Runs whose training or validation curves
coincide from epoch 1 (one start, then different schedules) stay visible: the run drawn first gets a
wider band beneath the others where they coincide, and its legend label says until which epoch. Every figure
carries a description computed from the data it draws (figure_text.describe): the runs it shows and the numbers a
reader should take from it, the alt text of its image in a notebook and in the book.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator, MultipleLocator
from matplotlib.transforms import offset_copy

from .checks import check_images, check_labels
from .colours import colour_of, figure_colours  # noqa: F401  (colour_of: one label's colour, outside any figure)
from .diagnose import OVERFIT_GAP, confidence_and_accuracy, confidence_bins, confusion_counts, top_class
from .figure_text import capitalised, describe, listed, percent

# (history key, panel title, y label) in reading order: losses on top, accuracies below.
PANELS = (
    ("loss", "training loss", "loss"),
    ("val_loss", "validation loss", "loss"),
    ("accuracy", "training accuracy", "accuracy"),
    ("val_accuracy", "validation accuracy", "accuracy"),
)
DROP_LABEL = "rate drop (first epoch at the new rate)"
LOSS_KEYS = ("loss", "val_loss")
CURVE_GROUPS = {"training": ("loss", "accuracy"), "validation": ("val_loss", "val_accuracy")}  # measured together
SPIKE_FACTOR = 3.0  # a spike is a loss over 3 times the panel's median loss ...
SPIKE_JUMP = 2.5  # ... and over 2.5 times each neighbouring epoch's loss of its run; it is drawn at the top edge
NOTE_PAD = 22  # points between a panel and its title when a note on clipped spikes sits between them
LINE_WIDTH, BAND_STEP = 1.5, 2.5  # a run's line; where later runs cover it, a band BAND_STEP wider per covering run


def run_label(record):
    """The name a run goes by in legends and on axes."""
    return record.get("label", record["run"])


def label_axes(ax, xlabel, ylabel, integer_x=False):
    """Label both axes and add a light grid; integer_x gives a count axis (epochs, layers) whole-number ticks."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def epochs_of(values):
    """The x positions of per-epoch values: epoch 1 is the first point."""
    return range(1, len(values) + 1)


def legend_outside(fig):
    """One figure legend below the panels (each label once, a column per 3 inches, fewer if too wide),
    replacing any old.
    """
    for old in list(fig.legends):
        old.remove()
    entries = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    for columns in range(max(1, min(len(entries), int(fig.get_figwidth() // 3))), 0, -1):
        legend = fig.legend(
            entries.values(), entries.keys(), loc="outside lower center", fontsize="small", ncol=columns
        )
        if columns == 1 or legend.get_window_extent().width <= fig.bbox.width:
            return legend
        legend.remove()  # long labels: try one column fewer


def is_spike(values, index: int, typical: float) -> bool:
    """True for a loss over SPIKE_FACTOR x the typical loss and SPIKE_JUMP x its run's neighbouring epochs."""
    neighbours = [values[j] for j in (index - 1, index + 1) if 0 <= j < len(values) and np.isfinite(values[j])]
    return bool(neighbours) and values[index] > max(SPIKE_FACTOR * typical, SPIKE_JUMP * max(neighbours))


def spike_ceiling(curves) -> float:
    """The highest loss that is not a spike (the panel's median is the typical loss): points above it are clipped."""
    curves = [np.asarray(values, dtype=float) for values in curves]
    every = np.concatenate(curves)
    if not np.isfinite(every).any():
        return np.inf
    typical = np.median(every[np.isfinite(every)])
    return max(
        (
            value
            for values in curves
            for index, value in enumerate(values)
            if np.isfinite(value) and not is_spike(values, index, typical)
        ),
        default=np.inf,
    )


def short(value) -> str:
    """A loss in three figures: 60.5, 11.0, 5.56."""
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def spikes_by_epoch(spikes):
    """{epoch: [(value, label), ...], highest first}: one entry per value (runs that spike alike: the last drawn)."""
    by_epoch = {}
    for epoch, value, label in spikes:
        by_epoch.setdefault(epoch, {})[short(value)] = (value, label)
    return {epoch: sorted(found.values(), reverse=True) for epoch, found in sorted(by_epoch.items())}


def spike_note(by_epoch) -> str:
    """'▲ off the scale: 60.5 / 13.3 at epoch 1, 3.07 at epoch 2': every clipped value, by epoch."""
    return "▲ off the scale: " + ", ".join(
        " / ".join(short(value) for value, _ in found) + f" at epoch {epoch}" for epoch, found in by_epoch.items()
    )


def clip_spikes(ax, curves, labels, colours) -> bool:
    """Fit the y axis to the points below the spike ceiling;
    mark the rest ▲ at the top edge, values above (True if any).
    """
    ceiling = spike_ceiling(curves)
    spikes = [
        (epoch, value, label)
        for values, label in zip(curves, labels)
        for epoch, value in zip(epochs_of(values), values)
        if value > ceiling
    ]
    kept = [value for values in curves for value in values if value <= ceiling]
    if not spikes or not kept:
        return False
    low, high = min(kept), max(kept)
    if high - low > 0.5 * (max(value for _, value, _ in spikes) - low):
        return False  # clipping would not even halve the axis: the spike stays drawn as it is
    pad = 0.05 * (high - low) or 0.05
    top = high + 2 * pad  # room between the highest kept point and the markers
    ax.set_ylim(low - pad, top)
    by_epoch = spikes_by_epoch(spikes)
    for epoch, found in by_epoch.items():
        for i, (_, label) in enumerate(found):
            beside = offset_copy(ax.transData, fig=ax.figure, x=9 * (i - (len(found) - 1) / 2), units="points")
            ax.plot(
                epoch,
                top,
                marker="^",
                markersize=8,
                color=colours[label],
                markeredgecolor="black",
                transform=beside,
                clip_on=False,
                zorder=3,
            )
    ax.annotate(
        spike_note(by_epoch),
        (0.5, 1),
        xycoords="axes fraction",
        xytext=(0, 7),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize="small",
    )
    return True


SAME_VALUE = dict(rtol=1e-6, atol=0)  # two recorded values (or rates) are the same one, to float rounding


def shared_epochs(a, b) -> int:
    """How many first epochs two runs agree on in every recorded value (to float rounding)."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    same = np.isclose(np.asarray(a[:n], dtype=float), np.asarray(b[:n], dtype=float), **SAME_VALUE)
    same = same.reshape(n, -1).all(axis=1)
    return n if same.all() else int(np.argmin(same))


def covered_by_later(curves):
    """Per run: None, or (epochs, runs, j, until)
    where later runs coincide with it from epoch 1 for 2 epochs or more.
    """
    result = []
    for i, curve in enumerate(curves):
        found = [(shared_epochs(curve, other), j) for j, other in enumerate(curves) if j > i]
        found = [(epochs, j) for epochs, j in found if epochs >= 2]
        if not found:
            result.append(None)
            continue
        epochs, j = max(found, key=lambda pair: pair[0])  # the run that covers it longest
        until = "at every epoch" if epochs == len(curve) == len(curves[j]) else f"until epoch {epochs}"
        result.append((epochs, len(found), j, until))
    return result


def coincidence_label(label, labels, covers) -> str:
    """A run's legend label, saying which run hides it and until when
    ({curve group: covered_by_later entry or None}).
    """
    found = {group: cover for group, cover in covers.items() if cover}
    if not found:
        return label
    if len({(j, until) for _, _, j, until in found.values()}) == 1 and len(found) == len(covers):
        _, _, j, until = next(iter(found.values()))
        return f"{label} (same as {labels[j]} {until})"
    return (
        f"{label} ("
        + "; ".join(f"{group} curves same as {labels[j]} {until}" for group, (_, _, j, until) in found.items())
        + ")"
    )


def titled(title) -> str:
    """A description's opening: the figure's title as a sentence, or nothing."""
    return "" if not title else f"{title} " if title.endswith((".", "?", "!")) else f"{title}. "


def runs_of(labels) -> str:
    """'one run: a' or '3 runs: a, b and c'."""
    return f"{'one run' if len(labels) == 1 else f'{len(labels)} runs'}: {listed(labels)}"


def epoch_span(records) -> str:
    """'20 epochs', or '8 to 20 epochs' where the runs differ."""
    counts = sorted({len(record["history"]["val_accuracy"]) for record in records})
    return f"{counts[0]} epoch{'s' * (counts[0] != 1)}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} epochs"


def final_validation(record) -> float:
    """A run's validation accuracy after its last epoch."""
    return record["history"]["val_accuracy"][-1]


def run_ending(record) -> str:
    """'a ends at 62.3% (best 63.0% at epoch 18)', and how far under its training accuracy where the gap is large."""
    history = record["history"]
    values = np.asarray(history["val_accuracy"], dtype=float)
    if not np.isfinite(values).any():
        return f"{run_label(record)} has no validation accuracy to read"
    best = int(np.nanargmax(values))
    text = f"{run_label(record)} ends at {percent(values[-1])}"
    text += " (its best)" if values[-1] >= values[best] else f" (best {percent(values[best])} at epoch {best + 1})"
    gap = history["accuracy"][-1] - values[-1]
    return text + (f", {100 * gap:.1f} points under its training accuracy" if gap > OVERFIT_GAP else "")


def highest(labels, values, form) -> list:
    """The labels whose value is the highest, as `form` writes the values (ties as the figure shows them)."""
    finite = [value for value in values if np.isfinite(value)]
    return [label for label, value in zip(labels, values) if finite and form(value) == form(max(finite))]


def highest_ending(records) -> str:
    """'Highest at the end: b.' ('a and b', on a tie as the figure rounds them); '' for one run."""
    tops = highest([run_label(r) for r in records], [final_validation(r) for r in records], percent)
    return f"Highest at the end: {listed(tops)}." if len(records) > 1 and tops else ""


def history_text(records, title=None) -> str:
    """What plot_history shows: its runs, its panels, where each run's validation accuracy ends and which is highest."""
    labels = [run_label(record) for record in records]
    return " ".join(
        [
            f"{titled(title)}Training curves of {runs_of(labels)}, over {epoch_span(records)}.",
            "Four panels against epoch: training and validation loss above, training and validation accuracy below.",
            "Validation accuracy: " + "; ".join(run_ending(record) for record in records) + ".",
            highest_ending(records),
        ]
    ).strip()


def plot_history(records, title=None):
    """Four panels, one line per run: training and validation loss (top, spikes clipped), accuracy (bottom).

    Introduced in notebook 01.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11.5, 7), layout="constrained")
    labels, noted = [run_label(record) for record in records], False
    colours = figure_colours(labels)
    covers = {
        group: covered_by_later([np.column_stack([r["history"][key] for key in keys]) for r in records])
        for group, keys in CURVE_GROUPS.items()
    }
    legends = [
        coincidence_label(label, labels, {group: covers[group][i] for group in covers})
        for i, label in enumerate(labels)
    ]
    for ax, (key, name, ylabel) in zip(axes.flat, PANELS):
        curves = [record["history"][key] for record in records]
        group = next(group for group, keys in CURVE_GROUPS.items() if key in keys)
        for values, label, legend, cover in zip(curves, labels, legends, covers[group]):
            if cover:  # a wider band beneath the runs drawn over it, where they coincide
                epochs, runs, _, _ = cover
                ax.plot(
                    epochs_of(values)[:epochs],
                    values[:epochs],
                    color=colours[label],
                    linewidth=LINE_WIDTH + BAND_STEP * runs,
                )
            ax.plot(epochs_of(values), values, marker=".", color=colours[label], linewidth=LINE_WIDTH, label=legend)
        ax.set_title(name)
        label_axes(ax, "epoch", ylabel, integer_x=True)
        if key in LOSS_KEYS and clip_spikes(ax, curves, labels, colours):
            noted = True
    if noted:  # the loss panels' titles go above the note, both at one height
        for ax in axes[0]:
            ax.set_title(ax.get_title(), pad=NOTE_PAD)
    legend_outside(fig)
    if title:
        fig.suptitle(title)
    return describe(fig, history_text(records, title))


def first_epoch_at_new_rate(drop_after_epoch: float) -> int:
    """The 1-based epoch whose steps first use the rate that a drop "after epoch e" brings in.

    Introduced in notebook 04.
    """
    # schedules.piecewise_by_epoch puts a drop "after epoch e" so that the first step of epoch
    # e + 1 already uses the new rate (for a fractional e, a step part-way through epoch
    # floor(e) + 1), and rate_at_epochs samples each epoch's rate at its last step. The point
    # plotted at x = k is measured at the end of epoch k, so x = floor(e) + 1 is the first point
    # trained at the new rate: the marker sits on that point, not half an epoch before it.
    return math.floor(drop_after_epoch) + 1


def mark_epoch(fig, epoch: float, label: str):
    """A dotted grey line at `epoch` on every epoch axis of `fig`, named once in the figure's legend.

    Introduced in notebook 01.
    """
    draw_epoch_line(fig, epoch, label)
    return describe(fig, f"A dotted grey line at epoch {epoch:g}, in the legend: {label}.", add=True)


def draw_epoch_line(fig, epoch: float, label: str) -> None:
    """mark_epoch's drawing: the dotted lines and the legend."""
    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.axvline(epoch, color="grey", linestyle=":", label=label)
    legend_outside(fig)


def mark_rate_drops(fig, drops_after_epochs):
    """A dotted line on every epoch axis of `fig` at the first epoch trained at each new learning rate.

    Introduced in notebook 04.
    """
    epochs = sorted({first_epoch_at_new_rate(drop) for drop in drops_after_epochs})
    for epoch in epochs:
        draw_epoch_line(fig, epoch, DROP_LABEL)
    if not epochs:
        return fig
    if len(epochs) == 1:
        text = f"A dotted line at epoch {epochs[0]} marks the first epoch at the new learning rate."
    else:
        text = f"Dotted lines at epochs {listed(epochs)} mark the first epoch at each new learning rate."
    return describe(fig, text, add=True)


def rate(value) -> str:
    """A learning rate in two significant figures: 0.01, 0.0005, 2.5e-05."""
    return f"{value:.2g}"


def rate_changes(rates) -> str:
    """'0.01, then 0.001 from epoch 4'; '0.01 throughout'; a rate changing at more epochs: its ends and how often."""
    changes = [i for i in range(1, len(rates)) if not np.isclose(rates[i], rates[i - 1])]
    if not changes:
        return f"{rate(rates[0])} throughout"
    if len(changes) > 3:
        return f"from {rate(rates[0])} to {rate(rates[-1])} at epoch {len(rates)}, changing at {len(changes)} epochs"
    return rate(rates[0]) + "".join(f", then {rate(rates[i])} from epoch {i + 1}" for i in changes)


def coinciding(series: dict) -> str:
    """'a and b coincide.' for the series that are equal at every point ('' if none)."""
    names = list(series)
    same = [
        f"{a} and {b} coincide."
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if len(series[a]) == len(series[b]) and np.allclose(series[a], series[b], **SAME_VALUE)
    ]
    return " ".join(same)


def learning_rates_text(rates_by_name: dict) -> str:
    """What plot_learning_rates shows: each schedule's rates and the epochs they change at."""
    count = len(rates_by_name)
    return " ".join(
        [
            f"The learning rate in force during each epoch, on a log scale, for {count} schedule{'s' * (count != 1)}:",
            "; ".join(f"{name}: {rate_changes(list(rates))}" for name, rates in rates_by_name.items()) + ".",
            coinciding(rates_by_name),
        ]
    ).strip()


def plot_learning_rates(rates_by_name: dict):
    """The learning rate in force during each epoch ({name: per-epoch rates}), log scale.

    Introduced in notebook 04.
    """
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    colours = figure_colours(rates_by_name)
    for i, (name, rates) in enumerate(rates_by_name.items()):
        # where="post": epoch k's rate holds from x = k to k + 1, so the step down sits at the first
        # epoch that uses the new rate, where mark_rate_drops draws its line. Thinner lines on top
        # keep schedules that coincide visible.
        ax.step(
            epochs_of(rates),
            rates,
            where="post",
            marker="o",
            markersize=3,
            linewidth=max(3.0 - 0.8 * i, 1.0),
            color=colours[name],
            label=name,
        )
    ax.set_yscale("log")
    label_axes(ax, "epoch", "learning rate", integer_x=True)
    legend_outside(fig)
    return describe(fig, learning_rates_text(rates_by_name))


def show_images(images, labels, class_names, per_class: int = 8, seed: int = 0):
    """A grid with one row per class and `per_class` random examples in it.

    Introduced in notebook 00.
    """
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
    return describe(fig, images_text(len(images), class_names, per_class))


def images_text(count: int, class_names, per_class: int) -> str:
    """What show_images shows: how many images, of which classes."""
    return (
        f"A grid of {len(class_names) * per_class} images picked at random from {count:,}: one row per class, "
        f"{per_class} examples each. The rows, top to bottom: {listed(class_names)}."
    )


def whitened_for_display(whitened, limit: float = 3.0):
    """The one linear map used for every whitened image: -limit..+limit to 0..1 (black..white), clipped beyond."""
    return np.clip((np.asarray(whitened, dtype=np.float64) + limit) / (2 * limit), 0.0, 1.0)


def value_range(values, form: str) -> str:
    """'81 to 160' (the lowest and highest, each as `form` writes it), or one number where they look alike."""
    low, high = format(min(values), form), format(max(values), form)
    return low if low == high else f"{low} to {high}"


def without_negative_zero(value, decimals: int = 2) -> float:
    """`value` rounded to `decimals`, with -0.00 made 0.00 (a whitened image's mean is about 0, either side)."""
    return round(float(value), decimals) + 0.0


def whitening_text(originals, whitened, limit: float) -> str:
    """What plot_whitening shows: the images' means and spreads before and after whitening."""
    means = [without_negative_zero(np.mean(image)) for image in whitened]
    return (
        f"{len(originals)} images. Top row: as stored, on one scale 0..255 for all; their mean pixel values run "
        f"{value_range([np.mean(i) for i in originals], '.0f')}, their standard deviations "
        f"{value_range([np.std(i) for i in originals], '.0f')}. Bottom row: the same images whitened, "
        f"on one common scale −{limit:g}..+{limit:g}: means {value_range(means, '.2f')}, standard deviations "
        f"{value_range([np.std(i) for i in whitened], '.2f')}."
    )


def plot_whitening(originals, whitened, limit: float = 3.0):
    """Images as stored (top row) and after per-image whitening (bottom row), the whitened ones on one common scale.

    Introduced in notebook 00.
    """
    count = len(originals)
    fig, axes = plt.subplots(2, count, figsize=(1.75 * count, 4.4), layout="constrained", squeeze=False)
    for i in range(count):
        axes[0, i].imshow(originals[i])  # uint8: 0..255 is black..white for every image
        axes[0, i].set_title(f"mean {originals[i].mean():.0f}, std {originals[i].std():.0f}", fontsize=8)
        axes[1, i].imshow(whitened_for_display(whitened[i], limit))
        axes[1, i].set_title(
            f"mean {without_negative_zero(whitened[i].mean()):.2f}, std {whitened[i].std():.2f}", fontsize=8
        )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("whitened")
    fig.suptitle(
        "Top: pixels as stored, one scale for all: 0..255 → black..white.\n"
        f"Bottom: whitened, one common scale for all: −{limit:g}..+{limit:g} "
        "(in each image's own standard deviations) → black..white, clipped beyond.",
        fontsize=9,
    )
    return describe(fig, whitening_text(originals, whitened, limit))


def class_count_range(counts, class_names) -> str:
    """'4,500 in every class', or '4,468 (cat) to 4,540 (frog) per class'."""
    low, high = int(np.argmin(counts)), int(np.argmax(counts))
    if counts[low] == counts[high]:
        return f"{counts[low]:,} in every class"
    return f"{counts[low]:,} ({class_names[low]}) to {counts[high]:,} ({class_names[high]}) per class"


def class_balance_text(parts: dict, class_names) -> str:
    """What plot_class_balance shows: each part's size, and its fewest and most images per class."""
    return (
        f"Bars of images per class, {len(class_names)} classes, for "
        + listed(f"{name} ({len(labels):,} images)" for name, labels in parts.items())
        + ": "
        + "; ".join(
            f"{name} {class_count_range(np.bincount(labels, minlength=len(class_names)), class_names)}"
            for name, labels in parts.items()
        )
        + "."
    )


def plot_class_balance(parts: dict, class_names):
    """Images per class for each named part of the data ({name: labels}).

    Introduced in notebook 00.
    """
    fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
    width = 0.8 / len(parts)
    for i, (name, labels) in enumerate(parts.items()):
        counts = np.bincount(labels, minlength=len(class_names))
        ax.bar(np.arange(len(class_names)) + i * width, counts, width, label=f"{name} ({len(labels):,})")
    ax.set_xticks(np.arange(len(class_names)) + width * (len(parts) - 1) / 2, class_names, rotation=30)
    label_axes(ax, "class", "images")
    legend_outside(fig)
    return describe(fig, class_balance_text(parts, class_names))


def plot_confusion_matrix(true_labels, predicted_labels, class_names):
    """Row-normalised confusion matrix: where each true class's images were put.

    Introduced in notebook 01.
    """
    size = len(class_names)
    counts = confusion_counts(true_labels, predicted_labels, size)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(size), class_names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(size), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for i in range(size):
        for j in range(size):
            ax.text(
                j,
                i,
                f"{shares[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shares[i, j] > 0.5 else "black",
            )
    fig.colorbar(shown, ax=ax, fraction=0.046, label="share of the true class's images")
    fig.tight_layout()  # constrained layout clips the y label beside an aspect-locked image
    return describe(fig, confusion_text(shares, class_names))


def confusion_text(shares, class_names) -> str:
    """What plot_confusion_matrix shows: the best and worst recognised classes and the most frequent mistake."""
    right = np.diag(shares)
    best, worst = int(np.argmax(right)), int(np.argmin(right))
    wrong = shares - np.diag(right)
    i, j = np.unravel_index(int(np.argmax(wrong)), wrong.shape)
    return (
        f"Confusion matrix of {len(class_names)} classes: rows the true class, columns the predicted one, each cell "
        f"the share of the row's images. Best recognised: {class_names[best]} ({right[best]:.2f} right); worst: "
        f"{class_names[worst]} ({right[worst]:.2f}). The most frequent mistake: {class_names[i]} taken for "
        f"{class_names[j]} ({wrong[i, j]:.2f} of the {class_names[i]} images)."
    )


def tick_step(values) -> int:
    """The y tick step of a percentage bar axis: 5, or 10 where the bars differ by more than 30."""
    return 5 if max(values) - min(values) <= 30 else 10


def axis_floor(values, step: float) -> float:
    """Where a bar axis starts: the multiple of `step` at least 2 under the lowest value (never below 0)."""
    return max(0.0, step * math.floor((min(values) - 2) / step))


def mark_axis_break(ax):
    """Two slashes across the foot of the y axis: the bars are cut off where the axis starts."""
    ax.plot(
        [0, 0],
        [0.06, 0.09],
        transform=ax.transAxes,
        marker=[(-1, -0.5), (1, 0.5)],
        markersize=10,
        linestyle="none",
        color="black",
        markeredgewidth=1.2,
        clip_on=False,
    )


def bars_floor(heights) -> tuple:
    """(where a bar chart's y axis starts, its tick step): just under the lowest finite bar."""
    heights = [height for height in heights if np.isfinite(height)]
    step = tick_step(heights)
    return axis_floor(heights, step), step


def start_bars_near_lowest(ax, heights):
    """Start the y axis just under the lowest bar, leave room above the highest, and say on the axis where it starts."""
    bottom, step = bars_floor(heights)
    top = max(height for height in heights if np.isfinite(height))
    ax.set_ylim(bottom, top + 0.12 * (top - bottom))
    ax.yaxis.set_major_locator(MultipleLocator(step))  # a tick, and its number, where the axis starts
    if bottom > 0:
        mark_axis_break(ax)
        ax.set_ylabel(f"{ax.get_ylabel()}; axis starts at {bottom:g}, not 0")


def accuracy_bars_text(labels, ours, theirs) -> str:
    """What plot_accuracy_bars shows: each run's bar and the article's beside it, the highest, where the axis starts."""
    bars = [
        f"{label} {value:.1f}" + (f" (article {other:.1f})" if np.isfinite(other) else "")
        for label, value, other in zip(labels, ours, theirs)
    ]
    bottom, _ = bars_floor(ours + theirs)
    text = "Bars of test accuracy (%) per run" + (", ours beside the article's" if np.isfinite(theirs).any() else "")
    text += ": " + "; ".join(bars) + "."
    if len(labels) > 1:
        text += f" Highest of ours: {listed(highest(labels, ours, '{:.1f}'.format))}, {max(ours):.1f}."
    return text + (f" The axis starts at {bottom:g}, not 0." if bottom > 0 else "")


def plot_accuracy_bars(records, article=None):
    """Our test accuracy per run, beside the article's number where it gives one ({run: percent}).

    Introduced in notebook 02.
    """
    article = article or {}
    labels = [run_label(r) for r in records]
    names = bar_names(records)
    ours = [100 * r["test_accuracy"] for r in records]
    theirs = [article.get(r["run"], np.nan) for r in records]
    x = np.arange(len(records))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(records)), 4.2), layout="constrained")
    bars = ax.bar(
        x - 0.2, ours, 0.4, color=list(figure_colours(labels).values()), label="ours (test), in each run's colour"
    )
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    if article:
        bars = ax.bar(x + 0.2, theirs, 0.4, color="0.2", label="article (test)")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(x, names, rotation=15)
    label_axes(ax, "run", "test accuracy (%)")
    start_bars_near_lowest(ax, ours + theirs)
    legend_outside(fig)
    return describe(fig, accuracy_bars_text([name.replace("\n", " ") for name in names], ours, theirs))


def bar_names(records) -> list:
    """Each run's name under its bar, with its epochs on a second line where the runs were not trained as long."""
    lengths = [r.get("epochs") for r in records]
    if len(set(lengths)) <= 1:
        return [run_label(r) for r in records]
    return [f"{run_label(r)}\n({epochs} epochs)" for r, epochs in zip(records, lengths)]


def norm_ends(norms) -> str:
    """'0.0012 at layer 1 to 0.1 at layer 8 (first/last 0.012)'."""
    return f"{norms[0]:.2g} at layer 1 to {norms[-1]:.2g} at layer {len(norms)} (first/last {norms[0] / norms[-1]:.2g})"


def gradient_norms_text(norms_by_model: dict, title=None) -> str:
    """What plot_gradient_norms shows: each model's norm at its first and last conv layer."""
    return (
        f"{titled(title)}Gradient norm per conv layer, on a log scale, from layer 1 (nearest the input) to the last, "
        f"for {listed(norms_by_model)}: "
        + "; ".join(f"{label} from {norm_ends(norms)}" for label, norms in norms_by_model.items())
        + "."
    )


def plot_gradient_norms(norms_by_model: dict, title=None):
    """Gradient norm per conv layer (input to output), one line per model, log scale.

    Introduced in notebook 05.
    """
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    colours = figure_colours(norms_by_model)
    for label, norms in norms_by_model.items():
        ax.plot(range(1, len(norms) + 1), norms, marker=".", color=colours[label], label=label)
    ax.set_yscale("log")
    label_axes(ax, "conv layer (1 = nearest the input)", "gradient norm", integer_x=True)
    legend_outside(fig)
    if title:
        ax.set_title(title)
    return describe(fig, gradient_norms_text(norms_by_model, title))


def gains_at(gains, first_epoch: int, every: int = 10) -> str:
    """'+1.08 at epoch 10, +2.54 at 20, ...': a gain curve at every tenth epoch and its last."""
    epochs = [e for e in range(every, first_epoch + len(gains), every)]
    last = first_epoch + len(gains) - 1
    epochs += [] if last in epochs else [last]
    values = [f"{gains[e - first_epoch]:+.2f} at {'epoch ' if i == 0 else ''}{e}" for i, e in enumerate(epochs)]
    return ", ".join(values)


def gain_by_epoch_text(gains: dict, band_points: float, first_epoch: int, article=None, title=None) -> str:
    """What plot_gain_by_epoch shows: each gain curve at every tenth epoch, the band, and the article's points."""
    text = (
        f"{titled(title)}Lines of the test-accuracy points gained, by epoch (at each epoch the mean of the "
        f"{first_epoch} epochs ending there), with the noise band of ±{band_points:.2f} points shaded around 0: "
        + "; ".join(f"{label} {gains_at(curve, first_epoch)}" for label, curve in gains.items())
        + "."
    )
    if article:
        text += (
            " Hollow markers, the article's own logs at its own epochs (validation accuracy): "
            + "; ".join(
                f"{label} " + ", ".join(f"{gain:+.1f} at {epoch}" for epoch, gain in points.items())
                for label, points in article.items()
            )
            + "."
        )
    return text


def plot_gain_by_epoch(gains: dict, band_points: float, first_epoch: int, article=None, title=None):
    """How many points each change gains at every epoch ({label: curve from first_epoch on}), beside the noise band
    and the article's gains at its own epochs ({label: {epoch: points}}).

    Introduced in notebook 03.
    """
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    colours = figure_colours(list(gains) + list(article or {}))
    ax.axhspan(-band_points, band_points, color="grey", alpha=0.2, label=f"noise band: ±{band_points:.2f} points")
    ax.axhline(0, color="black", linewidth=0.8)
    for label, curve in gains.items():
        ax.plot(range(first_epoch, first_epoch + len(curve)), curve, color=colours[label], label=label)
    for label, points in (article or {}).items():
        ax.plot(list(points), list(points.values()), marker="o", markerfacecolor="none", linestyle=":",
                color=colours[label], label=f"{label}: the article (its epochs)")  # fmt: skip
    label_axes(ax, "epoch", f"test-accuracy points gained\n(mean of the last {first_epoch} epochs)", integer_x=True)
    if title:
        ax.set_title(title)
    legend_outside(fig)
    return describe(fig, gain_by_epoch_text(gains, band_points, first_epoch, article, title))


# (panel title, y label, the number taken from a record) for plot_depth_comparison.
DEPTH_PANELS = (
    ("final training loss", "training loss (last epoch)", lambda r: r["history"]["loss"][-1]),
    ("best validation accuracy", "validation accuracy (best epoch)", lambda r: max(r["history"]["val_accuracy"])),
    ("test accuracy", "test accuracy", lambda r: r["test_accuracy"]),
)


def family_trend(records) -> str:
    """'from depth 8 to 32: final training loss 0.51 to 0.92, ...; best test accuracy at depth 8'."""
    records = sorted(records, key=lambda r: r["config"]["depth"])
    first, last = records[0], records[-1]
    measures = [
        (name, f"{measure(first):.2f}", f"{measure(last):.2f}")
        if "loss" in name
        else (name, percent(measure(first)), percent(measure(last)))
        for name, _, measure in DEPTH_PANELS
    ]
    if first is last:
        return f"at depth {first['config']['depth']}: " + ", ".join(f"{name} {a}" for name, a, _ in measures)
    best = max(records, key=lambda r: r["test_accuracy"])
    return (
        f"from depth {first['config']['depth']} to {last['config']['depth']}: "
        + ", ".join(f"{name} {a} to {b}" for name, a, b in measures)
        + f"; best test accuracy at depth {best['config']['depth']}"
    )


def depth_text(families: dict) -> str:
    """What plot_depth_comparison shows: its three panels, and each family's numbers at its shallowest and deepest."""
    return (
        "Three panels against depth (weight layers): final training loss, best validation accuracy and test "
        f"accuracy, one line per family: {listed(families)}. "
        + capitalised("; ".join(f"for {family}, {family_trend(records)}" for family, records in families.items()))
        + "."
    )


def plot_depth_comparison(families: dict):
    """Final training loss, best validation and test accuracy against depth, one line per family ({name: records}).

    Introduced in notebook 05.
    """
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.9), layout="constrained")
    depths = sorted({r["config"]["depth"] for records in families.values() for r in records})
    colours = figure_colours(families)
    for ax, (name, ylabel, measure) in zip(axes, DEPTH_PANELS):
        for family, records in families.items():
            records = sorted(records, key=lambda r: r["config"]["depth"])
            ax.plot(
                [r["config"]["depth"] for r in records],
                [measure(r) for r in records],
                marker="o",
                color=colours[family],
                label=family,
            )
        ax.set_title(name)
        label_axes(ax, "depth (weight layers)", ylabel)
        ax.set_xticks(depths)  # one tick per depth present: equal depths of two families share an x
    legend_outside(fig)
    return describe(fig, depth_text(families))


def calibration_phrase(predictions, labels) -> str:
    """'71.0% against 65.2% (over-confident by 5.8 points)': mean confidence against accuracy."""
    confidence, accuracy = confidence_and_accuracy(predictions, labels)
    how = "over" if confidence > accuracy else "under"
    return (
        f"{percent(confidence)} against {percent(accuracy)} "
        f"({how}-confident by {100 * abs(confidence - accuracy):.1f} points)"
    )


def confidence_text(predictions_by_run: dict, labels, bins: int) -> str:
    """What plot_confidence shows: its two panels, and each run's mean confidence against its accuracy."""
    return (
        f"Two panels for {listed(predictions_by_run)}. Left: how many of the {len(labels):,} test images get each "
        f"top-class probability ({bins} bins). Right: the accuracy in each of those bins, against a dotted diagonal "
        "for perfect calibration. Mean confidence against accuracy: "
        + "; ".join(f"{name} {calibration_phrase(p, labels)}" for name, p in predictions_by_run.items())
        + "."
    )


def plot_confidence(predictions_by_run: dict, labels, bins: int = 20):
    """Histogram of the top-class probability, and accuracy per confidence bin (reliability), for each run's
    class probabilities (one row an image) or its (classes, confidences), as records.kept_predictions gives them.

    Introduced in notebook 08.
    """
    predictions_by_run = {
        name: predictions if isinstance(predictions, tuple) else top_class(predictions)
        for name, predictions in predictions_by_run.items()
    }
    fig, (hist_ax, rel_ax) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    colours = figure_colours(predictions_by_run)
    for name, predictions in predictions_by_run.items():
        hist_ax.hist(predictions[1], bins=edges, alpha=0.5, color=colours[name], label=name)
        _, accuracy, _ = confidence_bins(predictions, labels, bins)
        rel_ax.plot(centres, accuracy, marker="o", color=colours[name], label=name)
    rel_ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    label_axes(hist_ax, "confidence (top-class probability)", "test images")
    label_axes(rel_ax, "confidence (top-class probability)", "accuracy in that bin")
    legend_outside(fig)
    return describe(fig, confidence_text(predictions_by_run, labels, bins))


def filter_for_display(patch, scale: float):
    """A filter as an RGB image on a symmetric scale, per channel: -scale..0..+scale to 0..0.5..1 (0 is mid-grey)."""
    return np.clip(0.5 + 0.5 * np.asarray(patch, dtype=np.float64) / scale, 0.0, 1.0)


MAT_GREY = "0.3"  # around each filter: darker than weight 0 (mid-grey), far from white, apart from black


def mat_around(ax, height: int, width: int, margin: float = 0.3):
    """A dark-grey mat `margin` pixels wide around a filter: one all near white stands out from the page."""
    ax.set_facecolor(MAT_GREY)
    ax.set_xlim(-0.5 - margin, width - 0.5 + margin)
    ax.set_ylim(height - 0.5 + margin, -0.5 - margin)


def filters_text(kernel, scales, title, shared_scale: bool) -> str:
    """What plot_filters shows: how many filters of what size, and their scales."""
    height, width, channels, count = kernel.shape
    scale = (
        f"one scale, ±{scales[0]:.2g}, for all (the largest |weight| of all the filters)"
        if shared_scale
        else f"each on its own largest |weight|, from ±{min(scales):.2g} to ±{max(scales):.2g}"
    )
    return (
        f"{titled(title)}{count} filters of {height}x{width}x{channels} weights, each drawn as an RGB image on a "
        f"dark-grey mat, weight 0 as mid-grey, negative darker, positive brighter; {scale}."
    )


def plot_filters(kernel, title=None, shared_scale: bool = False):
    """The filters of a (h, w, 3, n) conv kernel as RGB images, 0 as grey,
    each on ±its largest |weight| (or one for all).

    Introduced in notebook 10.
    """
    count = kernel.shape[-1]
    scales = np.abs(kernel).reshape(-1, count).max(axis=0)
    if shared_scale:
        scales = np.full(count, scales.max())
    fig, axes = plt.subplots(1, count, figsize=(0.9 * count, 2.1), layout="constrained")
    for k, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(filter_for_display(kernel[..., k], max(scales[k], 1e-12)), interpolation="nearest")
        mat_around(ax, *kernel.shape[:2])
        ax.set_title(f"{k + 1}\n±{scales[k]:.2g}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    scale = "the largest |weight| of all the filters" if shared_scale else "the filter's own largest |weight|"
    fig.suptitle(
        (f"{title}\n" if title else "") + "Each colour channel on a symmetric scale: weight 0 → mid-grey, "
        f"−s → dark, +s → bright,\nwith s (under each number) {scale}. Each filter sits on a dark-grey mat.",
        fontsize=9,
    )
    return describe(fig, filters_text(kernel, scales, title, shared_scale))


def rate_by_step_text(rates, steps_in_epoch: int, title=None) -> str:
    """What plot_rate_by_step shows: the steps and epochs, the rate at the start, at its highest and at the end."""
    peak = int(np.argmax(rates))
    return (
        f"{titled(title)}The learning rate at each of {len(rates):,} optimizer steps "
        f"({len(rates) / steps_in_epoch:g} epochs of {steps_in_epoch:,} steps, on the top axis): it starts at "
        f"{rate(rates[0])}, is highest, {rate(rates[peak])}, at step {peak:,} ({peak / steps_in_epoch:.1f} epochs "
        f"in) and ends at {rate(rates[-1])}."
    )


def plot_rate_by_step(rates, steps_in_epoch: int, title=None):
    """A schedule's learning rate at every optimizer step, with the epochs marked on a second axis.

    Introduced in notebook 10.
    """
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    ax.plot(range(len(rates)), rates, label="learning rate")
    label_axes(ax, "optimizer step", "learning rate", integer_x=True)
    top = ax.secondary_xaxis("top", functions=(lambda s: s / steps_in_epoch, lambda e: e * steps_in_epoch))
    top.set_xlabel("epoch")
    if title:
        ax.set_title(title)
    return describe(fig, rate_by_step_text(rates, steps_in_epoch, title))


def beyond_band(value: float, band_points: float) -> bool:
    """True when a trick's points lost lie outside the ± noise band."""
    return abs(value) > band_points


def ablation_text(points_lost: dict, band_points: float, title=None) -> str:
    """What plot_ablation shows: each trick's points lost, beyond the noise band or within it."""
    groups = [
        (
            kind,
            [f"{name} {value:+.2f}" for name, value in points_lost.items() if beyond_band(value, band_points) == out],
        )
        for out, kind in ((True, "Beyond the band"), (False, "Within it"))
    ]
    return (
        f"{titled(title)}Bars of the test-accuracy points lost without each of {len(points_lost)} tricks, "
        f"top to bottom, with the noise band of ±{band_points:.2f} points shaded around 0. "
        + ". ".join(f"{kind}: {', '.join(bars)}" for kind, bars in groups if bars)
        + "."
    )


def plot_ablation(points_lost: dict, band_points: float, title=None):
    """Horizontal bars: test-accuracy points lost without each trick;
    noise.band's ± band around 0, bars beyond it apart.

    Introduced in notebook 10.
    """
    names = list(points_lost)
    values = [points_lost[name] for name in names]
    half = band_points
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.4), layout="constrained")
    ax.axvspan(
        -half,
        half,
        color="grey",
        alpha=0.2,
        label=f"noise band: ±{band_points:.2f} points (the seeds' spread, at least the test set's sampling floor)",
    )
    for outside, colour, kind in ((True, "C0", "beyond the noise band"), (False, "C7", "within the noise band")):
        rows = [row for row, value in enumerate(values) if beyond_band(value, half) == outside]
        if rows:
            bars = ax.barh(rows, [values[row] for row in rows], color=colour, label=f"bar {kind}")
            ax.bar_label(bars, fmt="%+.2f", fontsize=8, padding=2)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    room = 0.12 * (max(values + [half]) - min(values + [-half]))  # for the bar labels
    ax.set_xlim(min(values + [-half]) - room, max(values + [half]) + room)
    label_axes(ax, "test-accuracy points lost without it", "trick left out")
    if title:
        ax.set_title(title)
    legend_outside(fig)
    return describe(fig, ablation_text(points_lost, band_points, title))
