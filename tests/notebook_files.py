"""Reading the committed notebooks in tests: their cells, and the budget their outputs were executed under."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUDGET_LINE = re.compile(r"Budget: (\w+)")
DEVICE_LINE = re.compile(r"Backend: .*")


def cells(path, kind=None):
    """The notebook's cells of `kind` ("code", "markdown"; None: all)."""
    return [c for c in json.loads(path.read_text())["cells"] if kind is None or c["cell_type"] == kind]


def committed_match(path, pattern):
    """The first match of `pattern` in the notebook's stored outputs, else None."""
    for cell in cells(path, "code"):
        for output in cell.get("outputs", []):
            found = pattern.search("".join(output.get("text", "")))
            if found:
                return found
    return None


def committed_budget(path):
    """The budget printed in the notebook's stored outputs (its first "Budget: ..." line), else None."""
    found = committed_match(path, BUDGET_LINE)
    return found.group(1) if found else None


def committed_device_line(path):
    """The device line printed in the notebook's stored outputs ("Backend: ..."), else ""."""
    found = committed_match(path, DEVICE_LINE)
    return found.group(0) if found else ""
