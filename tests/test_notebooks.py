"""Committed notebooks: prose numbers are recorded or cited, workshop times match, one setup cell, folded solutions."""

import ast
import json
import re

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from cifar_helpers import noise, references
from cifar_helpers.records import load_results, results_dir

from notebook_files import NOTEBOOKS, ROOT, cells, committed_budget

PERCENT = re.compile(r"(?<![\d.])(\d{1,3}\.\d{2})%")
POINTS = re.compile(r"([+\-−]?\d{1,2}\.\d{2}) points")
UNWRITTEN = re.compile(r"\b[A-Z]+_(PROSE|PLACEHOLDER)\b|written from the records after the run")  # pending placeholders
COMMITTED = ("quick", "overnight", "full")  # the budgets whose outputs and records are committed
BACKEND_SPECIFIC = re.compile(r"\.numpy\(\)|\btf\.|import tensorflow|GradientTape")  # calls that fail on JAX


def recorded_numbers(budget):
    """Every percentage a recorded run of this budget can be quoted as (2 decimals; a run with seeds, the mean of each
    of its test scores too), and every gap between two tests. A run tested after every epoch is also quoted by the
    readout its verdicts read (noise.readout: the mean of its last 5 epochs' test accuracy)."""
    numbers, tests, seeds = set(), [], {}
    for record in load_results(budget):
        readings = {key: value for key, value in record.items() if key.startswith("test_accuracy")}  # + TTA (10)
        if record.get("test_each_epoch"):
            readings["readout"] = noise.readout(record)
        scores = list(readings.values())
        tests += [100 * score for score in scores]
        values = scores + [v for key in ("accuracy", "val_accuracy") for v in record["history"].get(key, [])]
        numbers |= {round(100 * v, 2) for v in values}
        for key, value in readings.items():  # each test score (with TTA too) of a run with seeds: their mean
            seeds.setdefault((record["notebook"], record["run"].split("_seed")[0], key), []).append(value)
    means = [100 * sum(group) / len(group) for group in seeds.values() if len(group) > 1]
    numbers |= {round(mean, 2) for mean in means}
    tests += means
    gaps = {round(abs(a - b), 2) for a in tests for b in tests}
    return numbers, gaps


def stray_percentages(prose, allowed):
    """The NN.NN% figures in `prose` that are not in `allowed`."""
    return [n for n in PERCENT.findall(prose) if float(n) not in allowed]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_numbers_are_recorded_or_cited(path, project_results):
    assert results_dir() == ROOT / "results"
    prose = "\n".join("".join(c["source"]) for c in cells(path, "markdown"))
    assert not UNWRITTEN.search(prose), f"{path.name}: a paragraph was never written"
    budget = committed_budget(path)
    assert budget in COMMITTED, f"{path.name}: stored outputs must come from one of {COMMITTED}, found {budget}"
    numbers, gaps = set(), set()
    for each in COMMITTED:  # a notebook also tells readers what the other budgets give
        more_numbers, more_gaps = recorded_numbers(each)
        numbers, gaps = numbers | more_numbers, gaps | more_gaps
    allowed = numbers | set(references.ALL_QUOTED)
    stray = stray_percentages(prose, allowed)
    assert not stray, f"{path.name} quotes {stray}% but no recorded {budget} run or cited source has them"
    stray_gaps = [g for g in POINTS.findall(prose) if round(abs(float(g.replace("−", "-"))), 2) not in gaps]
    assert not stray_gaps, f"{path.name} quotes gains of {stray_gaps} points that no two recorded runs differ by"


def test_a_run_tested_after_every_epoch_may_be_quoted_by_its_readout(monkeypatch):
    tested = [0.50, 0.70, 0.78, 0.79, 0.80, 0.81, 0.80]
    record = {"notebook": "03_x", "run": "a", "test_accuracy": 0.80, "test_each_epoch": True,
              "history": {"test_accuracy": tested}}  # fmt: skip
    monkeypatch.setitem(recorded_numbers.__globals__, "load_results", lambda budget: [record])
    numbers, gaps = recorded_numbers("overnight")
    assert 79.6 in numbers and 0.4 in gaps  # the last 5 epochs' mean, and its gap to the final test
    assert 78.0 not in numbers, "an epoch's test accuracy alone is not a readout"


def test_prose_checker_catches_a_made_up_number():
    prose = "We reached 71.20% against the article's 69.36%, and 8.5% is not checked."
    assert stray_percentages(prose, {69.36}) == ["71.20"]
    assert stray_percentages(prose, {69.36, 71.2}) == []


def test_a_pending_placeholder_counts_as_unwritten():
    assert UNWRITTEN.search("Outcome:\n(outcome written from the records after the run)")
    assert not UNWRITTEN.search("Batch norm alone reached the cumulative network's accuracy.")


# A notebook waiting in notebooks/pending/ for its runs is read there, when it replaces its namesake.
READY = [path for path in NOTEBOOKS if not (ROOT / "notebooks" / "pending" / path.name).exists()]
EPOCH_LINE = re.compile(r"^epoch +(\d+)/(\d+):", re.M)
MOST_WORDS = 230  # "about 200 words" for a conclusion, and no other prose cell longer


def prose_words(source):
    """The words of a markdown cell, its headings left out."""
    return len(re.sub(r"^#.*$", "", source, flags=re.M).split())


@pytest.mark.parametrize("path", READY, ids=lambda p: p.stem)
def test_training_logs_stay_compact(path):
    from cifar_helpers.training import EpochLines

    for cell in cells(path, "code"):
        text = "".join("".join(output.get("text", "")) for output in cell.get("outputs", []))
        assert "━" not in text, f"{path.name}: a Keras progress bar in the stored outputs"
        shown = [(int(n), int(epochs)) for n, epochs in EPOCH_LINE.findall(text)]
        extra = [f"{n}/{epochs}" for n, epochs in shown if not EpochLines(epochs).shows(n)]
        assert not extra, f"{path.name}: epoch lines {extra} (a run over 10 epochs logs about five lines)"


@pytest.mark.parametrize("path", READY, ids=lambda p: p.stem)
def test_prose_cells_are_short(path):
    prose = [(index, "".join(c["source"])) for index, c in enumerate(cells(path, "markdown"))]
    long = [
        (index, prose_words(text))
        for index, text in prose[1:]  # the title cell states the question and sources
        if "\n|---" not in text and prose_words(text) > MOST_WORDS
    ]  # tables are reference, not argument
    assert not long, f"{path.name}: markdown cells (index, words) over {MOST_WORDS} words: {long}"


def test_prose_words_leave_headings_out():
    assert prose_words("## What the curves show\n\nTwo words.") == 2


def test_workshop_table_quotes_each_notebooks_measured_time():
    from cifar_helpers.machinery.summary import notebook_times

    lines = (ROOT / "notebooks" / "README.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| notebook |")).strip("| ").split(" | ")
    column = {
        budget: next(i for i, name in enumerate(header) if name.startswith(budget))
        for budget in COMMITTED
        if any(name.startswith(budget) for name in header)
    }
    for stem, (minutes, budget) in notebook_times(ROOT / "notebooks").items():
        rows = [line for line in lines if line.startswith(f"| [{stem}]")]
        assert rows, f"notebooks/README.md has no row for {stem}"
        cell = rows[0].strip("| ").split(" | ")[column[budget]]
        assert cell.startswith(f"{minutes:.1f} min"), (
            f"{stem} printed {minutes:.1f} min ({budget}); its {budget} column says {cell!r}"
        )


def test_notebook_times_reads_the_last_time_line(tmp_path):
    from cifar_helpers.machinery.summary import notebook_times

    cell = {
        "cell_type": "code",
        "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "Notebook wall time: 12.5 min (budget: quick)\n"}
        ],
    }
    (tmp_path / "03_x.ipynb").write_text(json.dumps({"cells": [cell]}))
    assert notebook_times(tmp_path) == {"03_x": (12.5, "quick")}
    cell["outputs"][0]["text"] = "Notebook wall time: 0.4 min (budget: quick); its 2 recorded runs trained in 3.9 min\n"
    (tmp_path / "03_x.ipynb").write_text(json.dumps({"cells": [cell]}))
    assert notebook_times(tmp_path) == {"03_x": (3.9, "quick")}


def test_time_line_adds_the_training_time_of_the_notebooks_own_runs():
    from cifar_helpers.records import result_path, write_json_atomically
    from cifar_helpers.machinery.summary import time_line

    for notebook, run, seconds in (("03_x", "a", 60), ("03_x", "b", 90), ("04_y", "c", 600)):
        write_json_atomically(
            result_path("quick", notebook, run),
            {"notebook": notebook, "budget": "quick", "finished": run, "wall_time_s": seconds, "run": run},
        )
    assert (
        time_line("03_x", "quick", 24)
        == "Notebook wall time: 0.4 min (budget: quick); its 2 recorded runs trained in 2.5 min"
    )
    assert time_line("09_z", "quick", 6) == "Notebook wall time: 0.1 min (budget: quick)"
    write_json_atomically(
        result_path("quick", "03_x", "exercise_a"),
        {"notebook": "03_x", "budget": "quick", "finished": "c", "wall_time_s": 120, "run": "exercise_a"},
    )
    assert time_line("03_x", "quick", 24).endswith("trained in 2.5 min (its exercises' 1 more in 2.0 min)")


def test_time_line_counts_one_precision_of_a_cpu_s_runs():
    from cifar_helpers.records import result_path, write_json_atomically
    from cifar_helpers.machinery.summary import time_line

    cpu = "Backend: tensorflow; devices: CPU only (2 cores); strategy: default (one device) x1; precision: "
    for run, seconds, precision in (("a", 60, "float32"), ("a_bf16", 30, "mixed_bfloat16 (the CPU has avx512_bf16)")):
        write_json_atomically(
            result_path("quick", "10_x", run),
            {
                "notebook": "10_x",
                "budget": "quick",
                "finished": run,
                "wall_time_s": seconds,
                "run": run,
                "device": cpu + precision,
            },
        )
    assert time_line("10_x", "quick", 6).endswith("its 1 recorded runs trained in 1.0 min")
    assert time_line("10_x", "quick", 6, tag="_bf16").endswith("its 1 recorded runs trained in 0.5 min")


IMPORT_BLOCK = """try:
    import cifar_helpers as ch  # first: it checks the Keras backend (TensorFlow is imported quietly)
except ModuleNotFoundError:  # opened outside the project's environment (Colab: see the README): install it
    %pip install -q -e ..
    import cifar_helpers as ch
"""


def preamble(path):
    """The cells before the first teaching cell: every cell between the title and the first other markdown cell."""
    found = cells(path)
    first_teaching = next(i for i, cell in enumerate(found) if i > 0 and cell["cell_type"] == "markdown")
    return found[1:first_teaching]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_two_code_cells_come_before_the_first_teaching_cell(path):
    parameters, setup = preamble(path)
    assert "parameters" in parameters.get("metadata", {}).get("tags", []), (
        f"{path.name}: first code cell must be `parameters`"
    )
    source = "".join(setup["source"])
    assert source.startswith(IMPORT_BLOCK), f"{path.name}: the setup cell starts with the shared import block"
    printed = "".join("".join(o.get("text", "")) for o in setup.get("outputs", []))
    assert "Budget: " in printed, f"{path.name}: the setup cell prints the budget line"
    if "SETTINGS = {" in source:  # a notebook that trains: its budget table stays visible, the plumbing is one call
        assert "cfg, strategy, split = ch.start_notebook(NOTEBOOK, SETTINGS, BUDGET" in source  # options may follow
        assert "Backend: " in printed and "data: {" in printed, f"{path.name}: device and data lines"


def test_the_setup_cell_installs_the_package_from_the_checkout_when_it_is_missing():
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(IMPORT_BLOCK)
    assert "get_ipython().run_line_magic('pip', 'install -q -e ..')" in python
    assert python.index("except ModuleNotFoundError") < python.index("run_line_magic")


EXERCISE = re.compile(r"^\d+\. ", re.MULTILINE)


def is_label(markdown: str) -> bool:
    """A one-paragraph line that names the next solution (**2.**) or introduces its code (ends with a colon)."""
    return "\n\n" not in markdown and (markdown.startswith("**") or markdown.rstrip().endswith(":"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_exercises_ask_for_a_prediction_and_fold_their_solutions(path):
    found = cells(path)
    asked = next("".join(c["source"]) for c in found if "## Try it yourself" in "".join(c["source"]))
    asked = re.sub(r"[ \t]*\n[ \t]+", " ", asked)  # a prompt may wrap between its lines
    assert len(EXERCISE.findall(asked)) == asked.count("*Predict first:*") > 0, (
        f"{path.name}: one prediction per exercise"
    )
    start = next(i for i, c in enumerate(found) if "".join(c["source"]).startswith("## Solutions"))
    for cell in found[start + 1 :]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "time_line" not in source and "# your code" not in source:  # not a starter
            metadata = cell["metadata"]
            assert "hide-cell" in metadata.get("tags", []) and metadata.get("jupyter", {}).get("source_hidden"), (
                f"{path.name}: a solution's code is not folded: {source[:60]}"
            )
            assert metadata.get("mystnb", {}).get("code_prompt_show") == "Show solution"
        elif cell["cell_type"] == "markdown" and not is_label(source):
            assert source.startswith("<details><summary>Show solution</summary>") and source.endswith("</details>"), (
                f"{path.name}: a solution's prose is not folded: {source[:60]}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_is_valid_python(path):
    """Each code cell parses as IPython reads it (`!` and `%` lines made Python): a broken edit fails in seconds."""
    ipython = TransformerManager()
    for number, cell in enumerate(cells(path, "code")):
        try:
            ast.parse(ipython.transform_cell("".join(cell["source"])))
        except SyntaxError as error:
            pytest.fail(f"{path.name}, code cell {number}: {error}")


def test_notebook_code_runs_on_every_backend():
    """Notebook code leaves backend-specific calls to the package (`.numpy()` fails on JAX arrays:
    keras.ops.convert_to_numpy).
    """
    found = [
        f"{path.name}: {line.strip()}"
        for path in NOTEBOOKS
        for cell in cells(path, "code")
        for line in "".join(cell["source"]).splitlines()
        if BACKEND_SPECIFIC.search(line)
    ]
    assert not found, found


def notebook_settings(stem):
    """The SETTINGS dict a notebook declares (per budget) in its settings cell."""
    path = next((ROOT / "notebooks").glob(f"{stem}_*.ipynb"))
    source = next("".join(c["source"]) for c in cells(path, "code") if "SETTINGS = {" in "".join(c["source"]))
    start = source.index("SETTINGS = {") + len("SETTINGS = ")
    end = source.index("\n}", start) + 2
    return eval(source[start:end], {"dict": dict})  # a literal of dicts, ints, None and tuples


def test_residual_nets_train_exactly_as_the_plain_nets_they_are_compared_with():
    plain, residual = notebook_settings("05"), notebook_settings("06")
    for budget in ("smoke", "quick", "overnight", "full"):
        for key in ("train_size", "val_size", "eval_size", "epochs"):
            assert plain[budget][key] == residual[budget][key], f"{budget}: 05 and 06 differ in {key}"
