"""Staging the notebooks: each figure's description (its PNG output's metadata) becomes its image's alt in the book."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import stage  # book/, put on the path by conftest.py

BOOK = Path(stage.__file__).parent
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="  # 1x1
CURVES = "Training curves of one run: baseline, over 20 epochs. Validation accuracy: baseline ends at 62.3%."
BARS = "Bars of test accuracy (%) per run: baseline 62.3 (article 69.4); crop 70.1. Highest of ours: crop, 70.1."


def image(alt=None):
    """A display_data output holding a PNG, described as the plotting code describes it (or not at all)."""
    metadata = {"image/png": {"alt": alt}} if alt else {}
    return {"output_type": "display_data", "data": {"image/png": PNG, "text/plain": "<Figure>"}, "metadata": metadata}


def code(*outputs, **metadata):
    """A code cell with these outputs."""
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": metadata,
        "outputs": list(outputs),
        "source": "ch.plots.plot_history([baseline])\nplt.show()",
    }


def notebook(*cells):
    """A notebook of these cells."""
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def alt_given(cell):
    """The alt text myst-nb gives a cell's images."""
    return cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")


def test_a_described_figure_gets_its_description_as_the_cells_alt():
    text = {"output_type": "stream", "name": "stdout", "text": "after 20 epochs ...\n"}
    cells = stage.describe_figures(notebook(code(text, image(CURVES)), code(image()), code(text)))["cells"]
    assert alt_given(cells[0]) == CURVES
    assert cells[0]["outputs"][1]["metadata"] == {"image/png": {"alt": CURVES}}, "the output keeps it too"
    assert "mystnb" not in cells[1]["metadata"] and "mystnb" not in cells[2]["metadata"]


def test_a_solutions_own_cell_options_stay_and_an_alt_written_by_hand_wins():
    prompts = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
    solution = code(image(CURVES), mystnb=dict(prompts), tags=["hide-cell", "solution"])
    by_hand = code(image(CURVES), mystnb={"image": {"alt": "Chosen words", "width": "80%"}})
    cells = stage.describe_figures(notebook(solution, by_hand))["cells"]
    assert cells[0]["metadata"]["mystnb"] == {**prompts, "image": {"alt": CURVES}}
    assert cells[0]["metadata"]["tags"] == ["hide-cell", "solution"]
    assert cells[1]["metadata"]["mystnb"]["image"] == {"alt": "Chosen words", "width": "80%"}


def test_a_cells_images_described_differently_are_all_described_in_turn():
    """myst-nb takes one alt per cell, for all its images: each image's description, numbered, in output order."""
    cells = stage.describe_figures(notebook(code(image(BARS), image(CURVES)), code(image(BARS), image(BARS))))
    first, second = cells["cells"]
    assert alt_given(first) == f"Figure 1 of 2: {BARS} Figure 2 of 2: {CURVES}"
    assert alt_given(second) == BARS, "images described alike share the one description"
    assert stage.cell_alt([None, CURVES]) == f"Figure 1 of 2: not described. Figure 2 of 2: {CURVES}"
    assert stage.cell_alt([None, None]) is None and stage.cell_alt([]) is None


def test_myst_nb_reads_the_alt_where_staging_puts_it():
    """The cell-level key of myst-nb's render_image_options is "image", under the cell metadata key "mystnb"."""
    config = pytest.importorskip("myst_nb.core.config", reason="the book's tools are not installed: make install-book")
    cell = stage.describe_figures(notebook(code(image(CURVES))))["cells"][0]
    warnings = []
    options = config.NbParserConfig().get_cell_level_config(
        "render_image_options", cell["metadata"], lambda *warning: warnings.append(warning)
    )
    assert options == {"alt": CURVES} and not warnings


def test_the_built_page_gives_the_figure_its_description(tmp_path):
    """A staged notebook, built with the book's configuration: its <img> has the figure's description as alt."""
    pytest.importorskip("myst_nb", reason="the book's tools are not installed: make install-book")
    source = tmp_path / "figure.ipynb"
    source.write_text(
        json.dumps(notebook({"cell_type": "markdown", "metadata": {}, "source": "# A figure"}, code(image(CURVES))))
    )
    (tmp_path / "src").mkdir()
    stage.stage_notebook(source, tmp_path / "src")
    (tmp_path / "src" / "index.md").write_text("# Book\n\n```{toctree}\nfigure\n```\n")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-c", str(BOOK), str(tmp_path / "src"), str(tmp_path / "html")],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert f'alt="{CURVES}"' in (tmp_path / "html" / "figure.html").read_text()
