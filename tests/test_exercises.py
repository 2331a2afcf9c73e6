"""Exercises a learner can do: before every folded solution, a visible starter cell with the set-up and a
`# your code` line (the notebooks' JSON only, nothing executed).

A solution is folded three ways: the `hide-cell` tag (the Sphinx book's fold) and the cell metadata
`jupyter.source_hidden` and `jupyter.outputs_hidden` (JupyterLab collapses the code and the outputs on opening).
"""

import ast
import copy
import json
import re

import pytest

from notebook_files import NOTEBOOKS

STARTER = "# your code"
HIDING_TAGS = {"hide-cell", "hide-input", "hide-output", "remove-cell", "remove-input", "remove-output", "solution"}
TRAINS = re.compile(r"\b(train_and_record|train_more_seeds)\(|\.fit\(")


def source(cell) -> str:
    return "".join(cell["source"])


def is_label(cell) -> bool:
    """A one-paragraph markdown line naming the next solution (**2.**) or introducing its code (ends with a colon)."""
    text = source(cell)
    return (
        cell["cell_type"] == "markdown"
        and "\n\n" not in text
        and (text.startswith("**") or text.rstrip().endswith(":"))
    )


def is_starter(cell) -> bool:
    return cell["cell_type"] == "code" and STARTER in source(cell)


def heading(cells, title) -> int | None:
    """Index of the markdown cell that starts with `title`, else None."""
    return next(
        (i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and source(c).startswith(title)),
        None,
    )


def exercise_problems(notebook: dict) -> list[str]:
    """What keeps a learner from doing the notebook's exercises, or gives their solutions away; [] when nothing."""
    cells = notebook["cells"]
    asked, answered = heading(cells, "## Try it yourself"), heading(cells, "## Solutions")
    if asked is None or answered is None or answered < asked:
        return ["no '## Try it yourself' section followed by '## Solutions'"]
    found = []
    solutions = [
        i
        for i in range(answered + 1, len(cells))
        if cells[i]["cell_type"] == "code" and not is_starter(cells[i]) and "time_line" not in source(cells[i])
    ]
    if not solutions:
        found.append("no solution code after '## Solutions'")
    for i in solutions:
        name = f"cell {i} ({source(cells[i]).splitlines()[0][:50]!r})"
        metadata = cells[i]["metadata"]
        if "hide-cell" not in metadata.get("tags", []):
            found.append(f"{name}: a solution without the hide-cell tag (the book shows it open)")
        for flag in ("source_hidden", "outputs_hidden"):
            if metadata.get("jupyter", {}).get(flag) is not True:
                found.append(f"{name}: a solution without jupyter.{flag}: true (JupyterLab shows it open)")
        before = i - 1
        while before > asked and is_label(cells[before]):
            before -= 1
        if not (before > asked and is_starter(cells[before])):
            found.append(f"{name}: no starter cell (with {STARTER!r}) just before this solution")
    for i, cell in enumerate(cells):
        if not is_starter(cell):
            continue
        name = f"starter cell {i}"
        if i < asked:
            found.append(f"{name}: before the exercises are asked")
        metadata, text = cell["metadata"], source(cell)
        hiding = HIDING_TAGS & set(metadata.get("tags", []))
        if hiding:
            found.append(f"{name}: tagged {sorted(hiding)}: a starter stays visible")
        if any(metadata.get("jupyter", {}).get(flag) for flag in ("source_hidden", "outputs_hidden")):
            found.append(f"{name}: collapsed by its jupyter metadata: a starter stays visible")
        if metadata.get("cellView") == "form":
            found.append(f"{name}: in Colab's form view (code hidden): a starter stays visible")
        if not any(line.lstrip().startswith(f"{STARTER}:") for line in text.splitlines()):
            found.append(f"{name}: no '{STARTER}: ...' line saying what to write")
        if TRAINS.search(text):
            found.append(f"{name}: trains (the learner's code does; the starter only sets up)")
        try:
            ast.parse(text)
        except SyntaxError as error:
            found.append(f"{name}: does not parse: {error}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_every_solution_is_folded_behind_a_visible_starter(path):
    problems = exercise_problems(json.loads(path.read_text()))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_every_notebook_has_starters_and_solutions():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert any(is_starter(c) for c in cells), f"{path.name}: no starter cell"
        assert any("hide-cell" in c["metadata"].get("tags", []) for c in cells), f"{path.name}: no folded solution"


def notebook(*cells) -> dict:
    return {"cells": list(cells)}


def markdown(text) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": [text]}


def code(text, tags=(), hidden=False) -> dict:
    metadata = {"tags": list(tags)} if tags else {}
    if hidden:
        metadata["jupyter"] = {"outputs_hidden": True, "source_hidden": True}
    return {"cell_type": "code", "metadata": metadata, "outputs": [], "source": [text]}


GOOD = notebook(
    markdown("## Try it yourself\n\n1. Train it. *Predict first:* better?"),
    markdown("## Solutions\n\nFolded."),
    code("ex = 1\n# your code: train it"),
    markdown("**1.** The run:"),
    code("train(ex)", tags=("hide-cell", "solution"), hidden=True),
    markdown("<details><summary>Show solution</summary>\n\nBetter.\n\n</details>"),
)


def test_a_well_made_exercise_passes():
    assert exercise_problems(GOOD) == []


@pytest.mark.parametrize(
    "break_it, complaint",
    [
        (lambda nb: nb["cells"][4]["metadata"]["tags"].remove("hide-cell"), "without the hide-cell tag"),
        (lambda nb: nb["cells"][4]["metadata"]["jupyter"].pop("source_hidden"), "without jupyter.source_hidden"),
        (lambda nb: nb["cells"][4]["metadata"]["jupyter"].update(outputs_hidden=False), "jupyter.outputs_hidden"),
        (lambda nb: nb["cells"].pop(2), "no starter cell"),
        (lambda nb: nb["cells"][2].update(source=["ex = 1\n"]), "no starter cell"),
        (lambda nb: nb["cells"][2]["metadata"].update(tags=["hide-cell"]), "a starter stays visible"),
        (lambda nb: nb["cells"][2]["metadata"].update(jupyter={"source_hidden": True}), "a starter stays visible"),
        (lambda nb: nb["cells"][2].update(source=["# your code\n"]), "saying what to write"),
        (lambda nb: nb["cells"][2]["source"].append("\nch.train_and_record(build, ex)"), "trains"),
        (lambda nb: nb["cells"].insert(4, code("x = 2")), "no starter cell"),  # a code cell between the two
        (lambda nb: nb["cells"].pop(1), "no '## Try it yourself' section"),
    ],
)
def test_a_broken_exercise_is_caught(break_it, complaint):
    broken = copy.deepcopy(GOOD)
    break_it(broken)
    problems = exercise_problems(broken)
    assert any(complaint in problem for problem in problems), problems
