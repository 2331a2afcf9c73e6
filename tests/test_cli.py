"""The command line: notebook selection, the smoke/--update guard, failure reporting, results."""

import json
import shutil
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cifar_helpers.machinery import cli, summary
from cifar_helpers.records import write_json_atomically, results_dir


def make_notebook(folder, name, *sources):
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / name)
    return folder / name


def test_names_resolve_by_number_stem_or_file(tmp_path):
    a = make_notebook(tmp_path, "01_first.ipynb", "1")
    b = make_notebook(tmp_path, "02_second.ipynb", "2")
    assert cli.find_notebooks([], tmp_path) == [a, b]
    assert cli.find_notebooks(["02", "01_first", "01_first.ipynb"], tmp_path) == [b, a, a]


def test_unknown_notebook_lists_the_known_ones(tmp_path):
    make_notebook(tmp_path, "01_first.ipynb", "1")
    with pytest.raises(SystemExit, match="unknown notebook '07'. Known notebooks: 01_first"):
        cli.find_notebooks(["07"], tmp_path)


def test_update_with_smoke_is_refused():
    with pytest.raises(SystemExit, match="would overwrite the committed outputs"):
        cli.main(["run", "--budget", "smoke", "--update", "00"])


def test_failing_cell_stops_the_run_and_shows_cell_and_error(tmp_path):
    path = make_notebook(
        tmp_path, "01_fails.ipynb", "x = 1", "raise ValueError('the data are channels-first')", "never = 1"
    )
    with pytest.raises(cli.NotebookFailed) as failure:
        cli.execute_notebook(path, tmp_path / "out.ipynb", progress=False)
    message = str(failure.value)
    assert "01_fails.ipynb: cell 1 failed" in message
    assert "raise ValueError('the data are channels-first')" in message
    assert "ValueError: the data are channels-first" in message
    assert not (tmp_path / "out.ipynb").exists()


def test_successful_notebook_is_written_with_outputs(tmp_path):
    path = make_notebook(tmp_path, "01_ok.ipynb", "print(6 * 7)")
    cli.execute_notebook(path, tmp_path / "out" / "01_ok.ipynb", progress=False)
    executed = nbformat.read(tmp_path / "out" / "01_ok.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "42"


def test_kernel_prints_no_transport_warning(tmp_path, capfd):
    path = make_notebook(tmp_path, "01_ok.ipynb", "1")
    cli.execute_notebook(path, tmp_path / "out.ipynb", progress=False)
    assert "without encryption" not in capfd.readouterr().err


def test_results_command_prints_a_markdown_table(capsys):
    record = {
        "budget": "quick",
        "notebook": "01_x",
        "run": "base",
        "label": "base",
        "test_accuracy": 0.5,
        "epochs": 2,
        "train_size": 10,
        "wall_time_s": 3.0,
        "finished": "2026-01-01T00:00:00+00:00",
    }
    write_json_atomically(results_dir() / "quick" / "01_x" / "base.json", record)
    assert cli.main(["results", "--markdown"]) == 0
    assert "| quick | 01_x | base | 50.00% | 2 | 10 | 3 |" in capsys.readouterr().out


def test_readme_block_is_replaced_between_markers():
    text = "intro\n<!-- steps:start -->\nold\n<!-- steps:end -->\nrest\n"
    assert (
        cli.readme_with_results(text, "| new |") == "intro\n<!-- steps:start -->\n| new |\n<!-- steps:end -->\nrest\n"
    )
    with pytest.raises(SystemExit, match="markers"):
        cli.readme_with_results("no markers", "x")
    other = "a\n<!-- x:start -->\n<!-- x:end -->\nb"
    assert (
        cli.readme_with_results(other, "| t |", "<!-- x:start -->", "<!-- x:end -->")
        == "a\n<!-- x:start -->\n| t |\n<!-- x:end -->\nb"
    )


QUICK_BASELINE = {
    "budget": "quick",
    "notebook": "01_baseline_cnn",
    "run": "baseline",
    "label": "baseline",
    "test_accuracy": 0.5,
    "epochs": 2,
    "train_size": 10,
    "wall_time_s": 3.0,
    "finished": "2026-01-01T00:00:00+00:00",
    "history": {"val_accuracy": [0.4, 0.5]},
}


@pytest.fixture
def generated_files(tmp_path, monkeypatch):
    """README, headline PNG and results page written into tmp_path, not the project."""
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- steps:start -->\n<!-- steps:end -->\nrest\n")
    monkeypatch.setattr(cli, "README", readme)
    monkeypatch.setattr(cli, "HEADLINE", tmp_path / "docs" / "headline.png")
    monkeypatch.setattr(cli, "RESULTS_PAGE", tmp_path / "docs" / "results.md")
    return readme


def test_readme_option_writes_the_steps_table_the_headline_and_the_results_page(generated_files):
    write_json_atomically(results_dir() / "quick" / "01_baseline_cnn" / "baseline.json", QUICK_BASELINE)
    assert cli.main(["results", "--readme"]) == 0
    text = generated_files.read_text()
    assert text.startswith("intro\n<!-- steps:start -->\n| step |") and text.endswith("<!-- steps:end -->\nrest\n")
    assert "| 1 baseline | article's CNN, Adam 0.001 | 69.36% (test) | baseline (10 x 2) | 50.00% |" in text
    assert "ours, full" not in text, "a budget without records gets no column"
    page = cli.RESULTS_PAGE.read_text()
    assert page.startswith("# All recorded runs\n") and cli.GENERATED in page
    assert [line for line in page.splitlines() if line.startswith("## ")] == [
        "## `full`",
        "## `overnight`",
        "## `quick`",
    ]
    assert "No `full` run is recorded yet" in page and "No `overnight` run is recorded yet" in page
    quick = page.split("## `quick`", 1)[1]
    assert "| notebook | run | test accuracy | epochs | train images | time (s) |" in quick
    assert "| 01_baseline_cnn | baseline | 50.00% | 2 | 10 | 3 |" in quick
    assert cli.headline_digest(cli.HEADLINE) == summary.steps_chart_digest(cli.COMMITTED_BUDGETS)


def test_stale_generated_files_are_told_apart_from_fresh_ones(generated_files):
    """A new record changes the steps table, the headline's digest and the results page:
    the committed-file tests fail.
    """
    write_json_atomically(results_dir() / "quick" / "01_baseline_cnn" / "baseline.json", QUICK_BASELINE)
    cli.main(["results", "--readme"])
    readme, digest, page = generated_files.read_text(), cli.headline_digest(cli.HEADLINE), cli.RESULTS_PAGE.read_text()
    assert steps_block(readme) == cli.steps_markdown().strip() and digest == summary.steps_chart_digest(
        cli.COMMITTED_BUDGETS
    )
    assert page == cli.results_page()
    write_json_atomically(
        results_dir() / "quick" / "01_baseline_cnn" / "baseline.json", QUICK_BASELINE | {"test_accuracy": 0.6}
    )
    assert steps_block(readme) != cli.steps_markdown().strip()
    assert digest != summary.steps_chart_digest(cli.COMMITTED_BUDGETS)
    assert page != cli.results_page()


def test_the_digest_ignores_what_the_chart_does_not_draw(generated_files):
    """A record of a notebook outside the steps leaves the headline's digest alone (but not the results page)."""
    write_json_atomically(results_dir() / "quick" / "01_baseline_cnn" / "baseline.json", QUICK_BASELINE)
    digest = summary.steps_chart_digest(cli.COMMITTED_BUDGETS)
    write_json_atomically(
        results_dir() / "quick" / "07_stuck_at_60_percent" / "askers_net.json",
        QUICK_BASELINE | {"notebook": "07_stuck_at_60_percent", "run": "askers_net"},
    )
    assert summary.steps_chart_digest(cli.COMMITTED_BUDGETS) == digest


def test_a_png_without_a_digest_reads_as_none(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert cli.headline_digest(tmp_path / "plain.png") is None


def steps_block(text):
    return text.split(cli.STEPS_START, 1)[1].split(cli.STEPS_END, 1)[0].strip()


def test_committed_readme_steps_table_matches_the_recorded_results(project_results):
    assert steps_block(cli.README.read_text()) == cli.steps_markdown().strip(), (
        "README's steps table is stale: run python -m cifar_helpers results --readme"
    )


def test_committed_headline_figure_matches_the_recorded_results(project_results):
    from PIL import Image

    with Image.open(cli.HEADLINE) as image:
        assert image.format == "PNG" and image.width > 800
    assert cli.headline_digest() == summary.steps_chart_digest(cli.COMMITTED_BUDGETS), (
        "docs/headline.png is stale: run python -m cifar_helpers results --readme"
    )
    assert "](docs/headline.png)" in cli.README.read_text(), "README shows the headline figure"


def test_committed_results_page_matches_the_recorded_results(project_results):
    assert cli.RESULTS_PAGE.read_text() == cli.results_page(), (
        "docs/results.md is stale: run python -m cifar_helpers results --readme"
    )


def test_committed_results_page_holds_every_recorded_run(project_results):
    """One table row per record of the committed budgets, as many as `results --markdown` prints."""
    page = cli.RESULTS_PAGE.read_text()
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith("| notebook |")]
    assert len(rows) == len(cli.results_markdown().splitlines()) - 2 > 100


def test_readme_stays_short():
    """README.md: at most 1,200 words (the reference sections live in docs/)."""
    assert len(cli.README.read_text().split()) <= 1200


TINY_RUN = """
import numpy as np, keras, cifar_helpers as ch
from cifar_helpers.data import Cifar10
images = np.random.default_rng(0).integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
split = ch.split_validation(Cifar10(images[:60], np.arange(60) % 10, images[60:], np.arange(20) % 10), val_size=20)
def build():
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
ch.train_and_record(build, split, notebook="99_tiny", run="tiny", budget="quick", epochs=2, batch_size=20)
"""


def git_status(root):
    return subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_learners_run_records_beside_its_executed_notebooks_and_leaves_the_tree_clean(
    tmp_path, project_results, monkeypatch, capfd
):
    root = project_results.parent
    before = git_status(root)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    make_notebook(folder, "99_tiny.ipynb", TINY_RUN)
    runs = root / "runs" / "quick"
    try:
        args = cli.build_parser().parse_args(["run", "--budget", "quick", "--no-progress", "99"])
        for name in ("CIFAR_PROGRESS", "CIFAR_BUDGET"):  # the runner sets them: gone again after the test
            monkeypatch.setenv(name, "")
        assert cli.run_command(args, folder) == 0
        record = json.loads((runs / "results" / "quick" / "99_tiny" / "tiny.json").read_text())
        assert record["run"] == "tiny" and len(record["history"]["loss"]) == 2
        assert (runs / "99_tiny.ipynb").exists() and not (project_results / "quick" / "99_tiny").exists()
        executed = json.dumps(nbformat.read(runs / "99_tiny.ipynb", as_version=4).cells[0].outputs)
        assert "epoch 1/2: loss" in executed and "99_tiny tiny: epoch" not in executed, "progress: terminal only"
        assert git_status(root) == before
        progress = [line for line in capfd.readouterr().err.splitlines() if "99_tiny tiny: epoch" in line]
        assert [line.split(",")[0].strip() for line in progress] == [
            "99_tiny tiny: epoch 1/2",
            "99_tiny tiny: epoch 2/2",
        ]
    finally:
        shutil.rmtree(runs / "results" / "quick" / "99_tiny", ignore_errors=True)
        (runs / "99_tiny.ipynb").unlink(missing_ok=True)
