"""Every figure says what it shows, from the data it draws (so the words change with the data), and a notebook's PNG
output of a described figure carries the words as its alt text."""

import matplotlib

matplotlib.use("Agg")

import sys  # noqa: E402
from functools import partial  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter, PNGFormatter  # noqa: E402
from IPython.core.pylabtools import print_figure, retina_figure, select_figure_formats  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cifar_helpers import figure_text, plots  # noqa: E402
from cifar_helpers.data import CLASS_NAMES  # noqa: E402
from cifar_helpers.diagnose import top_class  # noqa: E402
from conftest import fake_images, fake_labels  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    """Each test's own figures closed after it (not those other test modules keep open, as test_plots.FIGURES)."""
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


def said(fig) -> str:
    """What a figure says it shows."""
    text = figure_text.description(fig)
    assert text and text == text.strip(), "every figure of plots.py is described"
    return text


def run(label, val, train=None, test_accuracy=0.5, depth=None):
    """A recorded run with these validation accuracies (training accuracy 2 points above, unless given)."""
    val = list(val)
    train = list(train) if train is not None else [v + 0.02 for v in val]
    history = {"loss": [1.0] * len(val), "val_loss": [1.1] * len(val), "accuracy": train, "val_accuracy": val}
    return {
        "run": label,
        "label": label,
        "test_accuracy": test_accuracy,
        "history": history,
        "config": {"depth": depth},
    }


def test_history_names_its_runs_and_where_each_ends_and_which_is_highest():
    a, b = run("baseline", [0.40, 0.55, 0.60]), run("crop+flip", [0.35, 0.50, 0.64])
    text = said(plots.plot_history([a, b], title="Data augmentation"))
    assert text.startswith("Data augmentation. Training curves of 2 runs: baseline and crop+flip, over 3 epochs.")
    assert "baseline ends at 60.0% (its best)" in text and "crop+flip ends at 64.0% (its best)" in text
    assert text.endswith("Highest at the end: crop+flip.")
    b["history"]["val_accuracy"] = [0.35, 0.62, 0.58]
    text = said(plots.plot_history([a, b]))
    assert "crop+flip ends at 58.0% (best 62.0% at epoch 2)" in text and text.endswith("Highest at the end: baseline.")


def test_history_says_a_large_gap_between_training_and_validation_accuracy_only():
    overfit = run("baseline", [0.50, 0.60], train=[0.60, 0.85])
    assert "baseline ends at 60.0% (its best), 25.0 points under its training accuracy" in said(
        plots.plot_history([overfit])
    )
    assert "points under" not in said(plots.plot_history([run("baseline", [0.50, 0.60])]))
    assert "one run: baseline, over 2 epochs" in said(plots.plot_history([overfit]))


def test_a_marked_epoch_and_rate_drops_extend_the_description():
    fig = plots.plot_history([run("baseline", np.linspace(0.3, 0.6, 8))])
    before = said(fig)
    plots.mark_epoch(fig, 4, "epoch 4: where the baseline run stops")
    assert said(fig) == before + " A dotted grey line at epoch 4, in the legend: epoch 4: where the baseline run stops."
    plots.mark_rate_drops(fig, [4, 6])
    assert said(fig).endswith("Dotted lines at epochs 5 and 7 mark the first epoch at each new learning rate.")
    one = plots.mark_rate_drops(plots.plot_history([run("a", [0.3, 0.4, 0.5])]), [1.5])
    assert said(one).endswith("A dotted line at epoch 2 marks the first epoch at the new learning rate.")


def test_learning_rates_name_each_schedule_its_rates_and_where_they_drop():
    rates = {"constant": [0.01] * 6, "two drops": [0.01] * 3 + [0.001] * 2 + [0.0005]}
    text = said(plots.plot_learning_rates(rates))
    assert (
        "for 2 schedules: constant: 0.01 throughout; two drops: 0.01, then 0.001 from epoch 4, then 0.0005 from "
        "epoch 6." in text
    )
    rates["two drops"] = [0.01] * 2 + [0.001] * 4
    assert "two drops: 0.01, then 0.001 from epoch 3." in said(plots.plot_learning_rates(rates))
    smooth = said(plots.plot_learning_rates({"cosine": list(0.005 * (1 + np.cos(np.linspace(0, 3, 10))))}))
    assert "cosine: from 0.01 to 5e-05 at epoch 10, changing at 9 epochs" in smooth
    assert "a and b coincide." in said(plots.plot_learning_rates({"a": [0.1, 0.01], "b": [0.1, 0.01]}))


def test_image_grid_says_how_many_images_of_which_classes():
    text = said(plots.show_images(fake_images(60), fake_labels(60), CLASS_NAMES, per_class=4))
    assert text.startswith("A grid of 40 images picked at random from 60: one row per class, 4 examples each.")
    assert text.endswith("airplane, automobile, bird, cat, deer, dog, frog, horse, ship and truck.")
    assert "A grid of 20 images" in said(plots.show_images(fake_images(60), fake_labels(60), CLASS_NAMES, per_class=2))


def test_whitening_says_the_means_and_spreads_before_and_after():
    images = np.stack([np.full((4, 4, 3), 50, np.uint8), np.full((4, 4, 3), 200, np.uint8)])
    images[:, 0] = 0  # some spread
    whitened = [(i - i.mean()) / i.std() for i in images.astype(float)]
    text = said(plots.plot_whitening(images, whitened))
    assert text.startswith("2 images. Top row: as stored, on one scale 0..255 for all; their mean pixel values run")
    assert f"run {images[0].mean():.0f} to {images[1].mean():.0f}," in text
    assert "on one common scale −3..+3: means 0.00, standard deviations 1.00." in text
    assert "−2..+2" in said(plots.plot_whitening(images, whitened, limit=2))


def test_class_balance_says_each_parts_size_and_its_fewest_and_most_per_class():
    train = np.concatenate([fake_labels(100), [3, 3, 6]])
    text = said(plots.plot_class_balance({"train": train, "test": fake_labels(20)}, CLASS_NAMES))
    assert "for train (103 images) and test (20 images):" in text
    assert "train 10 (airplane) to 12 (cat) per class; test 2 in every class." in text


def test_confusion_matrix_names_the_best_and_worst_class_and_the_most_frequent_mistake():
    true = np.repeat(np.arange(10), 10)
    predicted = true.copy()
    predicted[true == 3] = [3, 3, 3, 3, 5, 5, 5, 2, 3, 3]  # cats: 6 right, 3 taken for dogs
    text = said(plots.plot_confusion_matrix(true, predicted, CLASS_NAMES))
    assert "Best recognised: airplane (1.00 right); worst: cat (0.60)." in text
    assert "The most frequent mistake: cat taken for dog (0.30 of the cat images)." in text
    predicted[true == 8] = 0  # every ship an airplane
    assert "worst: ship (0.00). The most frequent mistake: ship taken for airplane (1.00" in said(
        plots.plot_confusion_matrix(true, predicted, CLASS_NAMES)
    )


def test_accuracy_bars_say_each_bar_the_articles_the_highest_and_where_the_axis_starts():
    runs = [run("baseline", [0.6], test_accuracy=0.623), run("crop", [0.7], test_accuracy=0.701)]
    text = said(plots.plot_accuracy_bars(runs, article={"baseline": 69.36}))
    assert "ours beside the article's: baseline 62.3 (article 69.4); crop 70.1." in text
    assert "Highest of ours: crop, 70.1. The axis starts at 60, not 0." in text
    runs[0]["test_accuracy"] = 0.75
    text = said(plots.plot_accuracy_bars(runs))
    assert "per run: baseline 75.0; crop 70.1. Highest of ours: baseline, 75.0." in text and "article" not in text
    runs[0]["epochs"], runs[1]["epochs"] = 60, 10  # trained unalike: each bar says how long
    assert "per run: baseline (60 epochs) 75.0; crop (10 epochs) 70.1." in said(plots.plot_accuracy_bars(runs))


def test_gradient_norms_say_each_models_first_and_last_layer():
    norms = {"plain-20": [1e-3, 1e-2, 0.1], "ResNet-20": [0.2, 0.25, 0.3]}
    text = said(plots.plot_gradient_norms(norms, title="At initialisation"))
    assert text.startswith("At initialisation. Gradient norm per conv layer")
    assert "plain-20 from 0.001 at layer 1 to 0.1 at layer 3 (first/last 0.01)" in text
    assert "ResNet-20 from 0.2 at layer 1 to 0.3 at layer 3 (first/last 0.67)" in text
    norms["plain-20"] = [1e-4, 0.1]
    assert "plain-20 from 0.0001 at layer 1 to 0.1 at layer 2 (first/last 0.001)" in said(
        plots.plot_gradient_norms(norms)
    )


def test_depth_comparison_says_each_familys_numbers_from_shallowest_to_deepest():
    plain = [run(f"plain{d}", [0.7 - d / 100], test_accuracy=0.69 - d / 100, depth=d) for d in (20, 8, 32)]
    residual = [run(f"resnet{d}", [0.7 + d / 1000], test_accuracy=0.7 + d / 1000, depth=d) for d in (20, 56)]
    text = said(plots.plot_depth_comparison({"plain": plain, "residual": residual}))
    assert "one line per family: plain and residual." in text
    assert (
        "For plain, from depth 8 to 32: final training loss 1.00 to 1.00, best validation accuracy 62.0% to 38.0%, "
        "test accuracy 61.0% to 37.0%; best test accuracy at depth 8" in text
    )
    assert (
        "; for residual, from depth 20 to 56:" in text
        and "test accuracy 72.0% to 75.6%; best test accuracy at depth 56" in text
    )
    assert "For residual, at depth 20: " in said(plots.plot_depth_comparison({"residual": residual[:1]}))


def test_confidence_says_each_runs_mean_confidence_against_its_accuracy():
    labels = np.arange(4) % 2
    sure = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1]])  # 3 of 4 right, each at 0.9
    text = said(plots.plot_confidence({"reduction parallel": top_class(sure)}, labels, bins=10))
    assert "Two panels for reduction parallel. Left: how many of the 4 test images" in text and "(10 bins)" in text
    assert (
        "Mean confidence against accuracy: reduction parallel 90.0% against 75.0% (over-confident by 15.0 points)."
        in text
    )
    unsure = np.array([[0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.4, 0.6]])
    assert "a 60.0% against 100.0% (under-confident by 40.0 points)" in said(
        plots.plot_confidence({"a": top_class(unsure)}, labels)
    )
    assert said(plots.plot_confidence({"a": unsure}, labels)) == said(
        plots.plot_confidence({"a": top_class(unsure)}, labels)
    )


def test_filters_say_how_many_of_what_size_and_their_scales():
    kernel = np.zeros((2, 2, 3, 3))
    kernel[0, 0, 0] = [0.5, -1.0, 2.0]
    text = said(plots.plot_filters(kernel, title="Whitening filters"))
    assert text.startswith("Whitening filters. 3 filters of 2x2x3 weights")
    assert "each on its own largest |weight|, from ±0.5 to ±2." in text
    assert "one scale, ±2, for all" in said(plots.plot_filters(kernel, shared_scale=True))


def test_rate_by_step_says_the_steps_epochs_and_the_rate_at_start_peak_and_end():
    rates = list(np.linspace(0.0, 0.4, 101)) + list(np.linspace(0.4, 0.01, 300))[1:]
    text = said(plots.plot_rate_by_step(rates, 50, title="Warm-up"))
    assert text.startswith("Warm-up. The learning rate at each of 400 optimizer steps (8 epochs of 50 steps")
    assert "it starts at 0, is highest, 0.4, at step 100 (2.0 epochs in) and ends at 0.01." in text
    assert "of 25 steps" in said(plots.plot_rate_by_step(rates, 25))


def test_ablation_says_each_tricks_points_beyond_the_noise_band_or_within_it():
    lost = {"whitening": 5.123, "tta": 0.51, "label smoothing": -0.1}
    text = said(plots.plot_ablation(lost, 0.35))
    assert "without each of 3 tricks, top to bottom, with the noise band of ±0.35 points shaded around 0." in text
    assert text.endswith("Beyond the band: whitening +5.12, tta +0.51. Within it: label smoothing -0.10.")
    assert said(plots.plot_ablation(lost, 1.0)).endswith(
        "Beyond the band: whitening +5.12. Within it: tta +0.51, label smoothing -0.10."
    )


def test_a_notebook_describes_its_own_figure_and_adds_to_one():
    fig, ax = plt.subplots()
    assert figure_text.description(fig) is None
    assert figure_text.describe(fig, "A histogram of brightness.") is fig
    figure_text.describe(fig, "Most images sit between 80 and 160.", add=True)
    assert said(fig) == "A histogram of brightness. Most images sit between 80 and 160."
    figure_text.describe(fig, "Replaced.")
    assert said(fig) == "Replaced."


def inline_formatter(**kwargs):
    """A PNG formatter for figures as IPython's inline backend registers it (print_figure with the backend's kwargs)."""
    formatter = PNGFormatter()
    formatter.for_type(Figure, partial(print_figure, fmt="png", base64=True, **kwargs))
    return formatter


def test_a_described_figures_png_carries_its_description_as_alt_and_an_undescribed_one_nothing():
    formatter = inline_formatter(bbox_inches="tight")
    inline = formatter.lookup_by_type(Figure)
    figure_text.add_alt_text(formatter)
    figure_text.add_alt_text(formatter)  # once is enough
    wrapper = formatter.lookup_by_type(Figure)
    assert isinstance(wrapper, figure_text.WithAltText) and wrapper.wrapped is inline, "the backend's kwargs kept"
    described = plots.plot_gradient_norms({"plain": [0.1, 0.2]})
    png, metadata = formatter(described)
    assert png == inline(described) and metadata == {"alt": said(described)}
    undescribed, _ = plt.subplots()
    assert formatter(undescribed) == inline(undescribed), "no metadata for a figure without a description"


def test_retina_pngs_keep_their_size_beside_the_alt():
    formatter = PNGFormatter()
    formatter.for_type(Figure, partial(retina_figure, base64=True))
    figure_text.add_alt_text(formatter)
    fig = figure_text.describe(plt.subplots(figsize=(2, 1))[0], "A small frame.")
    _, size = retina_figure(fig, base64=True)
    _, metadata = formatter(fig)
    assert set(size) == {"width", "height"} and metadata == {**size, "alt": "A small frame."}


def test_describe_registers_in_a_shell_again_after_the_inline_backend_resets_its_formatters(monkeypatch):
    """The inline backend sets its formatters when it loads (IPython's select_figure_formats, which drops any other):
    describe wraps whichever is there when it runs. The display's metadata is what a notebook stores with the PNG."""
    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    monkeypatch.setitem(sys.modules, "IPython", SimpleNamespace(get_ipython=lambda: shell))
    select_figure_formats(shell, {"png"}, bbox_inches="tight")
    fig = plots.plot_learning_rates({"constant": [0.01] * 3})
    data, metadata = shell.display_formatter.format(fig)
    assert "image/png" in data and metadata == {"image/png": {"alt": said(fig)}}
    select_figure_formats(shell, {"png"})  # e.g. %matplotlib inline again: our wrapper is gone
    assert not isinstance(
        shell.display_formatter.formatters["image/png"].lookup_by_type(Figure), figure_text.WithAltText
    )
    figure_text.describe(fig, "Now in other words.")
    assert shell.display_formatter.format(fig)[1] == {"image/png": {"alt": "Now in other words."}}


def test_without_a_shell_describe_only_keeps_the_words(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", SimpleNamespace(get_ipython=lambda: None))
    assert said(figure_text.describe(plt.subplots()[0], "Words.")) == "Words."
    monkeypatch.delitem(sys.modules, "IPython")
    assert said(figure_text.describe(plt.subplots()[0], "Words.")) == "Words."
