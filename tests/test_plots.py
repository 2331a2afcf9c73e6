"""Plots build with the expected panels and series."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from cifar_helpers import plots  # noqa: E402
from conftest import fake_images, fake_labels  # noqa: E402
from cifar_helpers.data import CLASS_NAMES  # noqa: E402


def record(run, n=3):
    return {"run": run, "label": run, "test_accuracy": 0.5,
            "history": {"loss": [1.0] * n, "accuracy": [0.5] * n, "val_accuracy": [0.4] * n}}


def test_history_has_three_panels_with_one_line_per_run():
    fig = plots.plot_history([record("a"), record("b", 5)])
    assert [ax.get_title() for ax in fig.axes] == ["training loss", "training accuracy", "validation accuracy"]
    assert all(len(ax.lines) == 2 for ax in fig.axes)


def test_image_grid_is_one_row_per_class():
    fig = plots.show_images(fake_images(100), fake_labels(100), CLASS_NAMES, per_class=4)
    assert len(fig.axes) == 40 and fig.axes[0].get_ylabel() == "airplane"


def test_confusion_matrix_rows_sum_to_one():
    fig = plots.plot_confusion_matrix(np.arange(20) % 10, np.zeros(20, int), CLASS_NAMES)
    shares = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(shares).sum(axis=1), 1.0)


def test_bars_show_article_numbers_beside_ours():
    fig = plots.plot_accuracy_bars([record("baseline")], article={"baseline": 69.36})
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [50.0, 69.36]


def test_class_balance_counts():
    fig = plots.plot_class_balance({"train": fake_labels(50)}, CLASS_NAMES)
    assert [p.get_height() for p in fig.axes[0].patches] == [5] * 10
