"""The package's two floors: the modules a learner meets (cifar_helpers/*.py) never import its machinery."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cifar_helpers"
FRONT_DOORS = {"__init__.py", "__main__.py"}  # ch.NAME's lazy lookup and `python -m cifar_helpers`: the way in


def imported_modules(path: Path) -> set:
    """Every module `path` imports, relative imports written as from the package (".machinery.x" -> "machinery.x")."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names |= {base.lstrip(".")} | {f"{base}.{alias.name}".lstrip(".") for alias in node.names}
    return names


def learner_modules() -> list:
    """The top floor: every module directly in cifar_helpers/ but the front doors."""
    return sorted(path for path in PACKAGE.glob("*.py") if path.name not in FRONT_DOORS)


@pytest.mark.parametrize("path", learner_modules(), ids=lambda path: path.name)
def test_learner_modules_do_not_import_the_machinery(path):
    machinery = sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] in ("machinery", "cifar_helpers") and "machinery" in name.split(".")
    )
    assert not machinery, f"{path.name} imports {machinery}: move what it needs up, or the code down into machinery/"


def test_the_check_sees_a_machinery_import(tmp_path):
    module = tmp_path / "devices.py"
    module.write_text("from .machinery.processes import several_processes\n")
    assert "machinery.processes" in imported_modules(module)
