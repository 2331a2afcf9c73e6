"""Plots build with the expected panels and series, and every figure is one a reader can trust:
labelled axes, whole-number epoch ticks from 1, legends off the data, nothing clipped."""

import matplotlib

matplotlib.use("Agg")

import importlib  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cifar_helpers import colours, plots, schedules  # noqa: E402
from conftest import fake_images, fake_labels  # noqa: E402
from cifar_helpers.data import CLASS_NAMES  # noqa: E402
from cifar_helpers.diagnose import top_class  # noqa: E402


def record(run, n=3, depth=None, test_accuracy=0.5):
    ramp = np.linspace(0, 1, n)
    history = {
        "loss": list(2 - ramp),
        "val_loss": list(2.2 - ramp),
        "accuracy": list(0.3 + 0.4 * ramp),
        "val_accuracy": list(0.25 + 0.4 * ramp),
    }
    return {"run": run, "label": run, "test_accuracy": test_accuracy, "history": history, "config": {"depth": depth}}


def spiky(run, first=35.2, n=6, key="val_loss"):
    """A run whose `key` starts at `first`, then settles near 2 (as a first-epoch validation-loss spike)."""
    result = record(run, n)
    result["history"][key] = [first] + list(np.linspace(2.5, 1.5, n - 1))
    return result


def families():
    plain = [record(f"plain-{d}", depth=d, test_accuracy=0.6 - d / 100) for d in (8, 14, 20, 32)]
    residual = [record(f"resnet-{d}", depth=d, test_accuracy=0.6 + d / 1000) for d in (20, 32, 44, 56)]
    return {"plain (05)": plain, "residual": residual}


def rates():
    return {"constant": [0.01] * 6, "one drop": [0.01] * 3 + [0.001] * 3}


def drawn_figures():
    """Every plot function that draws data on axes, with small generated inputs."""
    probabilities = np.random.default_rng(0).dirichlet(np.ones(10), 50)
    return {
        "history": plots.plot_history([record("a"), record("b", 5)], title="t"),
        "history with drops": plots.mark_rate_drops(plots.plot_history([record("a", 8)]), [4, 6]),
        "history with a spike": plots.plot_history([spiky("a"), spiky("b", 13.3), record("c", 6)]),
        "learning rates": plots.mark_rate_drops(plots.plot_learning_rates(rates()), [3]),
        "depth": plots.plot_depth_comparison(families()),
        "bars": plots.plot_accuracy_bars([record("baseline"), record("crop")], article={"baseline": 69.36}),
        "balance": plots.plot_class_balance({"train": fake_labels(50), "test": fake_labels(20)}, CLASS_NAMES),
        "gradients": plots.plot_gradient_norms({"plain": [1e-3, 1e-2, 1e-1], "residual": [0.1, 0.2, 0.3]}, title="t"),
        "confidence": plots.plot_confidence({"a": top_class(probabilities)}, fake_labels(50)),
        "confusion": plots.plot_confusion_matrix(np.arange(20) % 10, np.zeros(20, int), CLASS_NAMES),
        "gain by epoch": plots.plot_gain_by_epoch(GAINS, 0.5, 5, article={"step 3": {10: 0.6, 20: 1.8}}),
    }


GAINS = {"step 3": 0.1 * np.arange(21), "batch norm": 1 + 0.05 * np.arange(21)}  # epochs 5 to 25


FIGURES = drawn_figures()


def data_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def epoch_axes(fig):
    return [ax for ax in fig.axes if ax.get_xlabel() == "epoch"]


@pytest.mark.parametrize("name", FIGURES)
def test_every_panel_has_both_axes_labelled(name):
    for ax in data_axes(FIGURES[name]):
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), (name, ax.get_title())
    for ax in FIGURES[name].axes:
        assert ax.get_label() != "<colorbar>" or ax.get_ylabel().strip(), "colour bar without a label"


@pytest.mark.parametrize(
    "name", ["history", "history with drops", "history with a spike", "learning rates", "gradients"]
)
def test_count_axes_have_whole_number_ticks(name):
    fig = FIGURES[name]
    fig.canvas.draw()
    for ax in data_axes(fig):
        low, high = sorted(ax.get_xlim())
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks and all(float(t).is_integer() for t in ticks), (name, ticks)


def test_epoch_axes_use_an_integer_locator_and_start_at_1():
    for name in ("history", "history with drops", "learning rates"):
        axes = epoch_axes(FIGURES[name])
        assert axes, name
        for ax in axes:
            locator = ax.xaxis.get_major_locator()
            assert isinstance(locator, matplotlib.ticker.MaxNLocator) and locator._integer
            assert min(min(line.get_xdata()) for line in ax.lines) == 1


@pytest.mark.parametrize("name", FIGURES)
def test_legends_stay_off_the_panels_and_nothing_is_clipped(name):
    fig = FIGURES[name]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert name == "confusion" or legends, "a figure with several series needs a legend"
    page = fig.bbox.padded(1)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1), f"{name}: legend clipped"
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), f"{name}: legend over {ax.get_title()!r}"
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1), f"{name}: {ax.get_title()!r} clipped"


def test_history_has_four_panels_with_one_line_per_run():
    fig = FIGURES["history"]
    titles = ["training loss", "validation loss", "training accuracy", "validation accuracy"]
    assert [ax.get_title() for ax in fig.axes] == titles
    assert all(len(ax.lines) == 2 for ax in fig.axes)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "loss", "accuracy", "accuracy"]


def test_validation_loss_panel_plots_val_loss_from_epoch_1():
    run = record("a", 4)
    fig = plots.plot_history([run])
    line = fig.axes[1].lines[0]
    assert list(line.get_xdata()) == [1, 2, 3, 4]
    np.testing.assert_allclose(line.get_ydata(), run["history"]["val_loss"])


def spike_markers(ax):
    return [line for line in ax.lines if line.get_marker() == "^"]


@pytest.mark.parametrize("key, panel", [("val_loss", 1), ("loss", 0)])
def test_a_loss_spike_is_clipped_to_the_later_epochs_and_marked_with_its_value(key, panel):
    run = spiky("a", key=key)
    ax = plots.plot_history([run, record("b", 6)]).axes[panel]
    low, high = ax.get_ylim()
    assert 2.5 < high < 3.5 and low < 1.5, "the axis fits the later epochs, not the spike"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), run["history"][key])  # the line keeps its true values
    (marker,) = spike_markers(ax)
    assert list(marker.get_xdata()) == [1] and marker.get_ydata()[0] == pytest.approx(high)
    assert not marker.get_clip_on()
    assert [text.get_text() for text in ax.texts] == ["▲ off the scale: 35.2 at epoch 1"]
    matplotlib.pyplot.close("all")


def test_spikes_at_one_epoch_are_marked_side_by_side_and_named_highest_first():
    ax = FIGURES["history with a spike"].axes[1]
    assert [text.get_text() for text in ax.texts] == ["▲ off the scale: 35.2 / 13.3 at epoch 1"]
    markers = spike_markers(ax)
    assert len(markers) == 2 and [m.get_color() for m in markers] == [plots.colour_of("a"), plots.colour_of("b")]
    assert markers[0].get_transform() != markers[1].get_transform(), "two runs' markers may not hide each other"
    fig = FIGURES["history with a spike"]
    fig.canvas.draw()
    training, validation = (ax.title.get_window_extent().y0 for ax in fig.axes[:2])
    assert training == pytest.approx(validation), "both loss titles at one height, above the note"
    assert validation > ax.texts[0].get_window_extent().y1


def test_runs_that_spike_alike_are_named_once():
    ax = plots.plot_history([spiky("a"), spiky("b"), record("c", 6)]).axes[1]
    assert [text.get_text() for text in ax.texts] == ["▲ off the scale: 35.2 at epoch 1"]
    assert len(spike_markers(ax)) == 1
    matplotlib.pyplot.close("all")


def test_no_spike_no_marker_and_a_spike_not_worth_clipping_is_drawn_as_it_is():
    for ax in FIGURES["history"].axes:
        assert not spike_markers(ax) and not ax.texts
    low_start = record("b", 4)
    low_start["history"]["loss"] = [3.5, 1.0, 0.9, 0.8]
    high_start = record("a", 4)
    high_start["history"]["loss"] = [4.0, 1.9, 1.8, 1.7]  # above 2 x 1.8, but clipping it would not halve the axis
    ax = plots.plot_history([high_start, low_start]).axes[0]
    assert not spike_markers(ax) and ax.get_ylim()[1] > 4.0
    matplotlib.pyplot.close("all")


def test_history_legend_names_each_run_once():
    texts = [t.get_text() for t in FIGURES["history"].legends[0].get_texts()]
    assert texts == ["a", "b"]


def test_depth_comparison_pairs_families_by_depth():
    fig = FIGURES["depth"]
    assert [ax.get_title() for ax in fig.axes] == ["final training loss", "best validation accuracy", "test accuracy"]
    for ax in fig.axes:
        plain, residual = ax.lines
        assert list(plain.get_xdata()) == [8, 14, 20, 32] and list(residual.get_xdata()) == [20, 32, 44, 56]
        assert list(ax.get_xticks()) == [8, 14, 20, 32, 44, 56]
    test_ax = fig.axes[2]
    np.testing.assert_allclose(test_ax.lines[0].get_ydata(), [0.52, 0.46, 0.4, 0.28])
    np.testing.assert_allclose(test_ax.lines[1].get_ydata()[:2], [0.62, 0.632])


def test_depth_comparison_sorts_records_by_depth():
    shuffled = {name: runs[::-1] for name, runs in families().items()}
    fig = plots.plot_depth_comparison(shuffled)
    assert list(fig.axes[0].lines[0].get_xdata()) == [8, 14, 20, 32]


def test_a_drop_after_epoch_e_is_marked_at_epoch_e_plus_1():
    markers = [line for line in FIGURES["history with drops"].axes[0].lines if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in markers] == [5, 7]
    assert all(len([x for x in ax.lines if x.get_linestyle() == ":"]) == 2 for ax in FIGURES["history with drops"].axes)
    assert plots.first_epoch_at_new_rate(7.5) == 8  # a drop part-way through epoch 8


def test_drop_marker_sits_where_the_sampled_rate_first_changes():
    steps = 5
    schedule = schedules.piecewise_by_epoch([2], [0.1, 0.01], steps)
    per_epoch = schedules.rate_at_epochs(schedule, steps, 4)
    first_new = 1 + next(i for i, rate in enumerate(per_epoch) if rate != per_epoch[0])  # 1-based, as plotted
    assert first_new == plots.first_epoch_at_new_rate(2) == 3
    fig = plots.mark_rate_drops(plots.plot_learning_rates({"one drop": per_epoch}), [2])
    step_line, marker = fig.axes[0].lines
    assert marker.get_xdata()[0] == first_new
    assert list(step_line.get_xdata()) == [1, 2, 3, 4]
    assert step_line.get_ydata()[first_new - 1] == pytest.approx(0.01)


def test_a_drop_part_way_through_an_epoch_shows_where_its_marker_sits():
    steps = 10
    per_epoch = schedules.rate_at_epochs(schedules.piecewise_by_epoch([1.5], [0.1, 0.01], steps), steps, 3)
    assert per_epoch == pytest.approx([0.1, 0.01, 0.01])  # epoch 2 ends at the new rate
    assert plots.first_epoch_at_new_rate(1.5) == 2


def test_drop_markers_join_the_legend_once():
    texts = [t.get_text() for t in FIGURES["history with drops"].legends[0].get_texts()]
    assert texts == ["a", plots.DROP_LABEL]
    assert len(FIGURES["history with drops"].legends) == 1


def whiten(images):
    values = images.astype(np.float64)
    mean = values.mean(axis=(1, 2, 3), keepdims=True)
    return (values - mean) / values.std(axis=(1, 2, 3), keepdims=True)


def test_whitened_images_share_one_scale():
    originals = fake_images(3)
    whitened = whiten(originals)
    whitened[1] *= 0.3  # a low-contrast image must stay low-contrast on screen, not be stretched
    fig = plots.plot_whitening(originals, whitened)
    shown = [np.asarray(ax.images[0].get_array()) for ax in fig.axes[3:]]
    for image, values in zip(shown, whitened):
        np.testing.assert_allclose(image, np.clip((values + 3) / 6, 0, 1))
    assert shown[1].max() < 0.7 and shown[1].min() > 0.3
    assert "common scale" in fig._suptitle.get_text() and "−3..+3" in fig._suptitle.get_text()


def test_whitening_figure_labels_its_rows():
    fig = plots.plot_whitening(fake_images(2), whiten(fake_images(2)))
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[2].get_ylabel() == "whitened"


def test_image_grid_is_one_row_per_class():
    fig = plots.show_images(fake_images(100), fake_labels(100), CLASS_NAMES, per_class=4)
    assert len(fig.axes) == 40 and fig.axes[0].get_ylabel() == "airplane"


def test_confusion_matrix_rows_sum_to_one():
    shares = FIGURES["confusion"].axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(shares).sum(axis=1), 1.0)


def test_bars_show_article_numbers_beside_ours():
    fig = plots.plot_accuracy_bars([record("baseline")], article={"baseline": 69.36})
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [50.0, 69.36]


def test_class_balance_counts():
    fig = plots.plot_class_balance({"train": fake_labels(50)}, CLASS_NAMES)
    assert [p.get_height() for p in fig.axes[0].patches] == [5] * 10


def test_ablation_bars_leave_room_for_every_label_and_shade_the_spread():
    fig = plots.plot_ablation({"dirac": 6.6, "flip": -0.5, "tta": 1.3}, 0.35)
    ax = fig.axes[0]
    assert (
        ax.get_xlabel() and ax.get_ylabel() and [t.get_text() for t in ax.get_yticklabels()] == ["dirac", "flip", "tta"]
    )
    left, right = ax.get_xlim()
    assert left < -0.5 - 0.5 and right > 6.6 + 0.5  # negative and positive bar labels sit inside the axes
    assert fig.legends and "noise band" in fig.legends[0].get_texts()[0].get_text()
    matplotlib.pyplot.close(fig)


def test_filters_get_one_panel_each_and_the_schedule_plot_counts_steps_and_epochs():
    filters = plots.plot_filters(np.random.default_rng(0).normal(size=(2, 2, 3, 5)))
    assert len(filters.axes) == 5
    fig = plots.plot_rate_by_step(np.linspace(0.1, 1, 20), steps_in_epoch=5)
    labels = {fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()} | {ax.get_xlabel() for ax in fig.axes[0].child_axes}
    assert {"optimizer step", "learning rate", "epoch"} <= labels
    matplotlib.pyplot.close(filters)
    matplotlib.pyplot.close(fig)


def test_mark_epoch_draws_one_line_per_epoch_panel_and_one_legend_entry():
    from cifar_helpers.plots import mark_epoch

    record = {
        "run": "r",
        "label": "r",
        "history": {k: [1.0, 0.9, 0.8] for k in ("loss", "val_loss", "accuracy", "val_accuracy")},
    }
    fig = mark_epoch(plots.plot_history([record]), 2, "step-1 run ends")
    assert all(any(list(line.get_xdata()) == [2, 2] for line in ax.get_lines()) for ax in fig.axes)
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels.count("step-1 run ends") == 1


def line_colours(ax):
    return {line.get_label(): line.get_color() for line in ax.lines}


def runs(labels):
    """Records of different lengths (no two coincide), one per label."""
    return [record(label, 3 + i) for i, label in enumerate(labels)]


def fresh_plots():
    """The plots module as a new notebook's kernel imports it: nothing drawn before."""
    return importlib.reload(plots)


def in_a_new_notebook(draw):
    """{label: colour} of the figure `draw(plots)` makes as the first figure of a fresh kernel."""
    return line_colours(draw(fresh_plots()).axes[0])


def test_a_label_has_one_colour_in_every_figure_of_every_notebook():
    notebook_05 = in_a_new_notebook(lambda p: p.plot_history(runs(f"plain-{depth}" for depth in (8, 14, 20, 32))))
    notebook_06 = in_a_new_notebook(lambda p: p.plot_history(runs(["plain-20", "plain-32", "ResNet-20", "ResNet-32"])))
    norms = in_a_new_notebook(lambda p: p.plot_gradient_norms({"ResNet-20": [1, 2], "plain-20": [1, 3], "new": [1]}))
    again = in_a_new_notebook(lambda p: p.plot_history(runs(["new", "ResNet-20"])))
    assert notebook_05["plain-20"] == notebook_06["plain-20"] == norms["plain-20"] == plots.colour_of("plain-20")
    assert notebook_06["ResNet-20"] == norms["ResNet-20"] == again["ResNet-20"]
    assert norms["new"] == again["new"], "a label the table lacks keeps one colour too"
    bars = plots.plot_accuracy_bars([record("ResNet-20"), record("plain-20")])
    assert matplotlib.colors.same_color(bars.axes[0].patches[0].get_facecolor(), notebook_06["ResNet-20"])
    matplotlib.pyplot.close("all")


def test_two_labels_in_one_figure_never_share_a_colour():
    labels = [f"run {i}" for i in range(18)]
    first = in_a_new_notebook(lambda p: p.plot_history(runs(labels)))
    assert len(set(first.values())) == 18, "a figure's first 18 runs get distinct colours"
    second = line_colours(plots.plot_history(runs([labels[0], "run 18"])).axes[0])
    assert second["run 18"] != second[labels[0]]
    table_slot = colours.SLOTS["plain-20"]
    stranger = next(f"x{i}" for i in range(1000) if colours.hashed_slot(f"x{i}") == table_slot)
    crowded = line_colours(plots.plot_history(runs([stranger, "plain-20"])).axes[0])
    assert crowded["plain-20"] == plots.colour_of("plain-20") != crowded[stranger], "the table's label keeps its colour"
    assert not {"#7f7f7f", "#c7c7c7"} & set(colours.PALETTE), "grey is for reference lines"
    matplotlib.pyplot.close("all")


def test_slots_differ_between_runs_that_may_share_a_figure():
    pairs = [("01", "baseline"), ("01", "long"), ("02", "crop"), ("03", "other"), ("03", "more"), ("03", "most")]
    slots = colours.assign_slots(pairs, size=3, shown_with={"02": ("01",)})
    assert slots["crop"] not in {slots["baseline"], slots["long"]}, "02 shows 01's runs: their slots differ"
    assert [slots[label] for label in ("other", "more", "most")] == [0, 1, 2]
    crowded = colours.assign_slots([("04", str(i)) for i in range(5)], size=3)
    assert len(set(crowded.values())) == 3, "past the palette: slots repeat"


def test_labels_take_slots_main_runs_first_then_long_runs_then_exercises(tmp_path):
    for notebook, run, label, finished in [
        ("02_x", "exercise_a", "ex", "1"),
        ("01_y", "base_long", "long", "2"),
        ("01_y", "base", "base", "3"),
        ("01_y", "base_seed1", "base", "4"),
    ]:
        path = tmp_path / "quick" / notebook / f"{run}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"notebook": notebook, "run": run, "label": label, "budget": "quick", "finished": finished})
        )
    assert colours.recorded_labels(tmp_path) == [("01_y", "base"), ("01_y", "long"), ("02_x", "ex")]


def test_the_committed_table_gives_rival_runs_different_slots(project_results):
    for label, rivals in colours.rivals(colours.recorded_labels(project_results)).items():
        if len(rivals) >= len(colours.PALETTE):  # more rivals than colours (10's 30 runs): slots repeat, and each
            continue  # figure keeps its colours apart (test_two_labels_in_one_figure_never_share_a_colour)
        taken = {colours.SLOTS[other] for other in rivals if other in colours.SLOTS}
        assert label not in colours.SLOTS or colours.SLOTS[label] not in taken, label


def diverging(run, source, after, n=8):
    """A copy of `source` under another name, whose every value changes after epoch `after`."""
    result = record(run, n)
    result["history"] = {
        key: values[:after] + [v + 0.05 for v in values[after:]] for key, values in source["history"].items()
    }
    return result


def test_a_run_covered_by_later_ones_gets_a_wider_band_beneath_them_and_says_until_when():
    constant = record("0.01 constant", 8)
    one_drop = diverging("0.01 -> 0.001", constant, 5)
    two_drops = diverging("0.01 -> 0.001 -> 0.0005", one_drop, 6)
    fig = plots.plot_history([constant, one_drop, two_drops])
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == [
        "0.01 constant (same as 0.01 -> 0.001 until epoch 5)",
        "0.01 -> 0.001 (same as 0.01 -> 0.001 -> 0.0005 until epoch 6)",
        "0.01 -> 0.001 -> 0.0005",
    ]
    for ax in fig.axes:
        widths = [line.get_linewidth() for line in ax.lines]
        assert widths == [
            plots.LINE_WIDTH + 2 * plots.BAND_STEP,
            plots.LINE_WIDTH,  # covered by both later runs
            plots.LINE_WIDTH + plots.BAND_STEP,
            plots.LINE_WIDTH,
            plots.LINE_WIDTH,
        ]
        assert [len(ax.lines[i].get_xdata()) for i in (0, 2)] == [5, 6], "the band only where the runs coincide"
    matplotlib.pyplot.close(fig)


def test_identical_runs_say_so_and_runs_sharing_one_point_are_left_alone():
    fig = plots.plot_history([record("a", 4), record("b", 4)])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a (same as b at every epoch)", "b"]
    assert plots.shared_epochs(record("a", 3)["history"]["loss"], record("b", 5)["history"]["loss"]) == 1
    assert all(len(ax.lines) == 2 for ax in FIGURES["history"].axes)  # a and b share epoch 1 only: no band
    matplotlib.pyplot.close(fig)


def test_a_legend_of_long_labels_takes_fewer_columns_and_stays_on_the_page():
    long = {f"run {i} (same as run {i + 1} until epoch 15) " + "MMM " * 6: [1, 2] for i in range(4)}
    for fig in (
        plots.plot_gradient_norms(long),
        plots.plot_history([record(label, 3 + i) for i, label in enumerate(long)]),
    ):
        fig.canvas.draw()
        assert fig.legends[0].get_window_extent().width <= fig.bbox.width
        matplotlib.pyplot.close(fig)


def test_filters_are_drawn_with_zero_as_grey_and_their_sign_and_size_kept():
    np.testing.assert_allclose(
        plots.filter_for_display(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), 2.0), [0.0, 0.25, 0.5, 0.75, 1.0]
    )
    pattern = np.zeros((2, 2, 3))
    pattern[0, 0] = [1.0, -0.5, 0.0]
    kernel = np.stack([pattern, 10 * pattern], axis=-1)  # the same pattern, ten times larger
    fig = plots.plot_filters(kernel, title="t")
    small, large = (np.asarray(ax.images[0].get_array()) for ax in fig.axes)
    np.testing.assert_allclose(small, large)  # each on its own scale, stated above it
    assert small[1, 1].tolist() == [0.5, 0.5, 0.5] and small[0, 0].tolist() == [1.0, 0.25, 0.5]
    assert [ax.get_title() for ax in fig.axes] == ["1\n±1", "2\n±10"]
    assert "0 → mid-grey" in fig._suptitle.get_text() and fig._suptitle.get_text().startswith("t\n")
    shared = plots.plot_filters(kernel, shared_scale=True)
    small, large = (np.asarray(ax.images[0].get_array()) for ax in shared.axes)
    np.testing.assert_allclose(small - 0.5, (large - 0.5) / 10)  # one scale: the small filter stays near grey
    assert "of all the filters" in shared._suptitle.get_text()
    matplotlib.pyplot.close("all")


def test_runs_that_train_alike_but_validate_differently_are_said_and_banded_in_the_training_panels_only():
    first = record("BN, no max-norm", 6)
    second = diverging("BN momentum 0.9", first, 4, 6)
    second["history"]["val_loss"] = [v + 0.3 for v in first["history"]["val_loss"]]  # other inference statistics
    fig = plots.plot_history([first, second])
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["BN, no max-norm (training curves same as BN momentum 0.9 until epoch 4)", "BN momentum 0.9"]
    assert [len(ax.lines) for ax in fig.axes] == [3, 2, 3, 2]  # training loss, validation loss, training accuracy, ...
    assert len(fig.axes[0].lines[0].get_xdata()) == 4
    matplotlib.pyplot.close(fig)


def test_ordinary_first_epoch_losses_stay_on_the_panel():
    curves = {
        "ResNet-20": [1.74, 1.19, 0.99, 0.87, 0.80, 0.74, 0.68, 0.63, 0.59, 0.57],  # notebook 06, overnight
        "ResNet-32": [1.78, 1.20, 1.00, 0.89, 0.80, 0.73, 0.69, 0.64, 0.59, 0.57],
        "ResNet-56": [2.11, 1.33, 1.08, 0.96, 0.88, 0.80, 0.74, 0.68, 0.63, 0.60],
    }
    resnets = []
    for label, losses in curves.items():
        resnets.append(record(label, 10))
        resnets[-1]["history"]["loss"] = losses
    ax = plots.plot_history(resnets).axes[0]
    assert not spike_markers(ax) and not ax.texts
    assert ax.get_ylim()[1] >= 2.11, "every first-epoch loss is on the panel"
    matplotlib.pyplot.close("all")


def test_only_a_loss_far_above_the_typical_one_and_its_neighbours_is_clipped():
    descent = record("long descent", 40)
    descent["history"]["val_loss"] = list(np.geomspace(2.3, 0.02, 40))  # to near zero: ordinary, not a spike
    slow = record("slow start", 10)
    slow["history"]["val_loss"] = [3.9, 3.8, 3.2, 3.0] + [0.9] * 6  # high for several epochs: its own curve
    for shown in ([descent], [slow, record("b", 10)]):
        ax = plots.plot_history(shown).axes[1]
        assert not spike_markers(ax) and ax.get_ylim()[1] >= max(shown[0]["history"]["val_loss"])
    spiky_run = record("spike", 10)
    spiky_run["history"]["val_loss"] = [7.5, 2.47, 2.8, 1.86, 1.7, 1.6, 1.55, 1.5, 1.45, 1.4]  # 06's quick ResNet-20
    ax = plots.plot_history([spiky_run, slow]).axes[1]
    assert [text.get_text() for text in ax.texts] == ["▲ off the scale: 7.50 at epoch 1"]
    assert 3.9 <= ax.get_ylim()[1] < 7.5, "the axis ends over the highest ordinary point, under the spike"
    matplotlib.pyplot.close("all")


def band_of(ax):
    """The ablation plot's shaded band: (its patch, left edge, right edge)."""
    (band,) = [patch for patch in ax.patches if "noise band" in patch.get_label()]
    return band, band.get_x(), band.get_x() + band.get_width()


def test_ablation_band_is_noise_compares_band_and_bars_beyond_it_stand_apart():
    fig = plots.plot_ablation({"big": 1.0, "better without": -0.3, "small": 0.1}, 0.2)
    ax = fig.axes[0]
    band, left, right = band_of(ax)
    assert (left, right) == pytest.approx((-0.2, 0.2)), "a loss counts beyond ±band, as noise.compare counts it"
    assert "±0.20 points" in band.get_label() and "sampling floor" in band.get_label()
    colours_by_value = {bar.get_width(): bar.get_facecolor() for bar in ax.patches if bar is not band}
    assert colours_by_value[1.0] == colours_by_value[-0.3] != colours_by_value[0.1], "beyond the band, either side"
    texts = [text.get_text() for text in fig.legends[0].get_texts()]
    assert any("beyond" in text for text in texts) and any("within" in text for text in texts)
    matplotlib.pyplot.close(fig)


def test_accuracy_bars_start_just_under_the_lowest_bar_and_say_so():
    ax = plots.plot_accuracy_bars(
        [record("baseline", test_accuracy=0.71), record("crop", test_accuracy=0.687)], article={"baseline": 69.36}
    ).axes[0]
    bottom, top = ax.get_ylim()
    assert bottom == 65 and 71 < top < 75, "the differences fill the panel"
    assert "starts at 65, not 0" in ax.get_ylabel()
    assert 65 in ax.get_yticks(), "the axis's start is numbered"
    breaks = [line for line in ax.lines if not line.get_clip_on() and line.get_transform() == ax.transAxes]
    assert breaks and all(x == 0 for x in breaks[0].get_xdata()), "a break mark on the y axis"
    low = plots.plot_accuracy_bars([record("bug", test_accuracy=0.1), record("fine", test_accuracy=0.7)]).axes[0]
    assert low.get_ylim()[0] == 0 and "starts at" not in low.get_ylabel() and not low.lines
    matplotlib.pyplot.close("all")


def rendered(fig):
    """The figure's pixels as floats in 0..1 (RGB), row 0 at the top."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255


def pixel_at(fig, pixels, ax, x, y):
    """The rendered colour at axes fraction (x, y) of `ax`."""
    column, row = ax.transAxes.transform((x, y))
    return pixels[int(fig.bbox.height - row), int(column)]


def test_a_filter_all_one_sign_stands_out_from_the_page():
    brightness = np.full((2, 2, 3, 1), 0.09)  # notebook 10's first whitening filter: one weight everywhere
    kernel = np.concatenate([brightness, np.random.default_rng(0).normal(size=(2, 2, 3, 2))], axis=-1)
    fig = plots.plot_filters(kernel)
    pixels = rendered(fig)
    ax = fig.axes[0]
    assert pixel_at(fig, pixels, ax, 0.5, 0.5).min() > 0.9, "the filter itself: white, all weights +s"
    around = [pixel_at(fig, pixels, ax, x, y) for x, y in ((0.5, 0.05), (0.05, 0.5), (0.95, 0.5), (0.5, 0.95))]
    assert all(colour.max() < 0.5 for colour in around), "a dark mat sets it apart from the white page"
    assert "mat" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_a_gain_by_epoch_figure_says_each_curve_every_tenth_epoch_and_the_articles_points():
    text = plots.gain_by_epoch_text(GAINS, 0.5, 5, article={"step 3": {10: 0.6, 20: 1.8}})
    assert "noise band of ±0.50 points" in text
    assert "step 3 +0.50 at epoch 10, +1.50 at 20, +2.00 at 25" in text  # epoch 10 is index 5 of 21
    assert "the article's own logs at its own epochs (validation accuracy): step 3 +0.6 at 10, +1.8 at 20." in text
    ax = FIGURES["gain by epoch"].axes[0]
    assert min(ax.lines[1].get_xdata()) == 5, "a curve starts at the first epoch it has a readout for"
