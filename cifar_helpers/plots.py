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
wider band beneath the others where they coincide, and its legend label says until which epoch.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator, MultipleLocator
from matplotlib.transforms import offset_copy

from .checks import check_images, check_labels
from .colours import colour_of, figure_colours  # noqa: F401  (colour_of: one label's colour, outside any figure)
from .diagnose import confidence_bins, confusion_counts

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


def shared_epochs(a, b) -> int:
    """How many first epochs two runs agree on in every recorded value (to float rounding)."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    same = np.isclose(np.asarray(a[:n], dtype=float), np.asarray(b[:n], dtype=float), rtol=1e-6, atol=0)
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
    return fig


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
    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.axvline(epoch, color="grey", linestyle=":", label=label)
    legend_outside(fig)
    return fig


def mark_rate_drops(fig, drops_after_epochs):
    """A dotted line on every epoch axis of `fig` at the first epoch trained at each new learning rate.

    Introduced in notebook 04.
    """
    for drop in drops_after_epochs:
        mark_epoch(fig, first_epoch_at_new_rate(drop), DROP_LABEL)
    return fig


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
    return fig


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
    return fig


def whitened_for_display(whitened, limit: float = 3.0):
    """The one linear map used for every whitened image: -limit..+limit to 0..1 (black..white), clipped beyond."""
    return np.clip((np.asarray(whitened, dtype=np.float64) + limit) / (2 * limit), 0.0, 1.0)


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
        axes[1, i].set_title(f"mean {round(whitened[i].mean(), 2) + 0.0:.2f}, std {whitened[i].std():.2f}", fontsize=8)
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
    return fig


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
    return fig


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
    return fig


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


def start_bars_near_lowest(ax, heights):
    """Start the y axis just under the lowest bar, leave room above the highest, and say on the axis where it starts."""
    heights = [height for height in heights if np.isfinite(height)]
    step = tick_step(heights)
    bottom, top = axis_floor(heights, step), max(heights)
    ax.set_ylim(bottom, top + 0.12 * (top - bottom))
    ax.yaxis.set_major_locator(MultipleLocator(step))  # a tick, and its number, where the axis starts
    if bottom > 0:
        mark_axis_break(ax)
        ax.set_ylabel(f"{ax.get_ylabel()}; axis starts at {bottom:g}, not 0")


def plot_accuracy_bars(records, article=None):
    """Our test accuracy per run, beside the article's number where it gives one ({run: percent}).

    Introduced in notebook 02.
    """
    article = article or {}
    labels = [run_label(r) for r in records]
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
    ax.set_xticks(x, labels, rotation=15)
    label_axes(ax, "run", "test accuracy (%)")
    start_bars_near_lowest(ax, ours + theirs)
    legend_outside(fig)
    return fig


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
    return fig


# (panel title, y label, the number taken from a record) for plot_depth_comparison.
DEPTH_PANELS = (
    ("final training loss", "training loss (last epoch)", lambda r: r["history"]["loss"][-1]),
    ("best validation accuracy", "validation accuracy (best epoch)", lambda r: max(r["history"]["val_accuracy"])),
    ("test accuracy", "test accuracy", lambda r: r["test_accuracy"]),
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
    return fig


def plot_confidence(probabilities_by_run: dict, labels, bins: int = 20):
    """Histogram of the top-class probability, and accuracy per confidence bin (reliability).

    Introduced in notebook 08.
    """
    fig, (hist_ax, rel_ax) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    colours = figure_colours(probabilities_by_run)
    for name, probabilities in probabilities_by_run.items():
        hist_ax.hist(probabilities.max(axis=1), bins=edges, alpha=0.5, color=colours[name], label=name)
        _, accuracy, _ = confidence_bins(probabilities, labels, bins)
        rel_ax.plot(centres, accuracy, marker="o", color=colours[name], label=name)
    rel_ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    label_axes(hist_ax, "confidence (top-class probability)", "test images")
    label_axes(rel_ax, "confidence (top-class probability)", "accuracy in that bin")
    legend_outside(fig)
    return fig


def filter_for_display(patch, scale: float):
    """A filter as an RGB image on a symmetric scale, per channel: -scale..0..+scale to 0..0.5..1 (0 is mid-grey)."""
    return np.clip(0.5 + 0.5 * np.asarray(patch, dtype=np.float64) / scale, 0.0, 1.0)


MAT_GREY = "0.3"  # around each filter: darker than weight 0 (mid-grey), far from white, apart from black


def mat_around(ax, height: int, width: int, margin: float = 0.3):
    """A dark-grey mat `margin` pixels wide around a filter: one all near white stands out from the page."""
    ax.set_facecolor(MAT_GREY)
    ax.set_xlim(-0.5 - margin, width - 0.5 + margin)
    ax.set_ylim(height - 0.5 + margin, -0.5 - margin)


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
    return fig


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
    return fig


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
        rows = [row for row, value in enumerate(values) if (abs(value) > half) == outside]
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
    return fig
