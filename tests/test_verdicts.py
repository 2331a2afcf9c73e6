"""Each notebook's verdict table ("held here?"), recomputed from results/ and compared with its committed output.

A verdict cell (tagged "verdicts") reads nothing but the records, so it can run here without training anything.
"""

import ast

import pytest
from IPython.display import Markdown

import cifar_helpers as ch
from notebook_files import NOTEBOOKS, cells, committed_budget, committed_device_line

JUDGED = (
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "10",
)  # the notebooks whose verdict tables are computed from records alone so far


def verdict_cells(path):
    """The code cells tagged "verdicts"."""
    return [c for c in cells(path, "code") if "verdicts" in c.get("metadata", {}).get("tags", [])]


def run_cell(source: str, namespace: dict):
    """Execute a cell's source and return its last expression's value, as Jupyter shows it."""
    tree = ast.parse(source)
    last = tree.body.pop()
    exec(compile(tree, "<verdict cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<verdict cell>", "eval"), namespace)


CASES = [(path, index) for path in NOTEBOOKS for index in range(len(verdict_cells(path)))]


@pytest.mark.parametrize("path, index", CASES, ids=[f"{p.stem}-{i}" for p, i in CASES])
def test_a_verdict_table_follows_from_the_records(path, index, project_results):
    cell = verdict_cells(path)[index]
    shown = next("".join(o["data"]["text/markdown"]) for o in cell["outputs"] if "text/markdown" in o.get("data", {}))
    computed = run_cell(
        "".join(cell["source"]),
        {
            "ch": ch,
            "Markdown": Markdown,
            "budget": committed_budget(path),
            "NOTEBOOK": path.stem,
            "tag": ch.devices.precision_tag(committed_device_line(path)),
        },
    )
    assert computed.data.strip() == shown.strip(), (
        f"{path.name}: re-execute it; its verdicts no longer follow from results/"
    )


def test_the_judged_notebooks_have_verdict_cells():
    for number in JUDGED:
        path = next(p for p in NOTEBOOKS if p.stem.startswith(number))
        assert verdict_cells(path), f"{path.name} has no cell tagged 'verdicts'"
