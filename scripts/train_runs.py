"""Train some of a notebook's runs ahead of it, with the notebook's own code, so that the notebook reuses them.

    python scripts/train_runs.py NOTEBOOK --budget overnight --cells 2,4,6 --run 'ch.train_and_record(...)'

Executes the notebook's code cells with those indices (its set-up and definitions, magics included), then each
--run statement in turn. Long runs go under nohup with a log (docs/commands.md); records land in results/ as the
notebook's own would, and the notebook, executed later, reuses them.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")


def code_cells(notebook: Path, indices: list) -> list:
    """The sources of the notebook's cells at `indices` (each must be a code cell), as plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    cells = json.loads(notebook.read_text())["cells"]
    chosen = [cells[index] for index in indices]
    wrong = [index for index, cell in zip(indices, chosen) if cell["cell_type"] != "code"]
    if wrong:
        raise SystemExit(f"cells {wrong} of {notebook.name} are not code cells; pick its set-up and definitions")
    return [TransformerManager().transform_cell("".join(cell["source"])) for cell in chosen]


def main(argv=None) -> None:
    """Parse the arguments, run the chosen cells in the notebooks folder, then the --run statements."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--budget", required=True)
    parser.add_argument("--cells", required=True, help="comma-separated indices of the cells to execute first")
    parser.add_argument("--run", action="append", default=[], help="a statement to execute after them (repeatable)")
    args = parser.parse_args(argv)
    notebook = args.notebook.resolve()
    sources = code_cells(notebook, [int(index) for index in args.cells.split(",")])
    os.chdir(notebook.parent)  # as Jupyter runs it: relative paths (`%pip install -e ..`) mean the same
    sys.path.insert(0, str(notebook.parent.parent))
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()  # get_ipython() for the magics; cells share its namespace
    shell.user_ns["BUDGET"] = args.budget
    for source in [*sources, *args.run]:
        result = shell.run_cell(source)
        if not result.success:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
