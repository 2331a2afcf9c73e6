"""The book's budget pages, written from cifar_helpers/budgets.py, the notebooks' SETTINGS cells and results/."""

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def descriptions() -> dict:
    """{budget: one-line description}, the literal DESCRIPTIONS of cifar_helpers/budgets.py, read without running it
    (it imports from its package, and the book's venv has no Keras)."""
    tree = ast.parse((ROOT / "cifar_helpers" / "budgets.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DESCRIPTIONS":
            return ast.literal_eval(node.value)
    raise LookupError("cifar_helpers/budgets.py has no DESCRIPTIONS")


def without_magics(source: str) -> str:
    """A cell's source with its IPython magics (%pip ...) replaced by `pass`, so that Python can parse it."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def settings_rows(notebook: Path) -> dict:
    """{budget: 'name=value, ...'} as the notebook's SETTINGS cell writes them; {} if it has none."""
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "SETTINGS = {" not in source:
            continue
        source = without_magics(source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SETTINGS":
                return {
                    ast.literal_eval(key): ", ".join(
                        f"{kw.arg}={ast.get_source_segment(source, kw.value)}" for kw in row.keywords
                    )
                    for key, row in zip(node.value.keys, node.value.values)
                }
    return {}


def recorded_runs(budget: str) -> dict:
    """{notebook: [record, ...]} of the runs committed under results/<budget>/."""
    runs = {}
    for path in sorted((ROOT / "results" / budget).glob("*/*.json")):
        runs.setdefault(path.parent.name, []).append(json.loads(path.read_text()))
    return runs


def minutes(records) -> str:
    """The summed wall time of `records`, in minutes."""
    return f"{sum(r['wall_time_s'] for r in records) / 60:.1f} min"


def budget_page(budget: str, description: str) -> str:
    """One budget's page: what each notebook trains at it, and how long its recorded runs took."""
    runs = recorded_runs(budget)
    rows = []
    for notebook in NOTEBOOKS:
        settings = settings_rows(notebook)
        if not settings:
            continue  # 00 and 09 train nothing
        records = runs.get(notebook.stem, [])
        row = f"`{settings[budget]}`" if budget in settings else f"no `{budget}` row yet"
        timing = f"{len(records)} | {minutes(records)}" if records else "- | -"
        rows.append(f"| [{notebook.stem}](../notebooks/{notebook.name}) | {row} | {timing} |")
    every = [r for records in runs.values() for r in records]
    if every:
        devices = sorted({r["device"] for r in every})
        timing = (
            f"The {len(every)} runs committed under `results/{budget}/` trained for {minutes(every)} in all, "
            "as each record's `wall_time_s` gives it. They ran on: " + "; ".join(f"`{d}`" for d in devices) + "."
        )
        rows.append(f"| **all** | | {len(every)} | {minutes(every)} |")
    else:
        timing = (
            f"No run of this budget is committed (`results/{budget}/` holds none), so this page cannot say "
            "yet how long it takes; the description above is the plan."
        )
    return "\n".join(
        [
            f"# The `{budget}` budget",
            "",
            f"{description[0].upper()}{description[1:]}.",
            "",
            f'Choose it with `CIFAR_BUDGET={budget}`, `make run BUDGET={budget}`, or `BUDGET = "{budget}"` in a '
            "notebook's `parameters` cell.",
            "",
            "## What it trains, and how long it takes",
            "",
            "Each notebook's row of its `SETTINGS` table (`None` keeps the whole set: all 45,000 training images, "
            "all 5,000 validation or 10,000 test images), and the runs recorded at this budget.",
            "",
            "| notebook | settings | recorded runs | training time |",
            "|---|---|---|---|",
            *rows,
            "",
            timing,
            "",
        ]
    )


def index_page(described: dict) -> str:
    """The budgets overview: one line per budget, and the table of contents of their pages."""
    lines = [
        f"| [`{name}`]({name}.md) | {text} | {len(sum(recorded_runs(name).values(), []))} |"
        for name, text in described.items()
    ]
    return "\n".join(
        [
            "# Budgets",
            "",
            "One switch, `CIFAR_BUDGET`, sets how much compute every notebook spends. Each page below lists what "
            "a budget trains in each notebook and, where runs are recorded, how long they took.",
            "",
            "| budget | for | recorded runs |",
            "|---|---|---|",
            *lines,
            "",
            "```{toctree}",
            ":hidden:",
            "",
            *described,
            "```",
            "",
        ]
    )


def write_pages(folder: Path) -> None:
    """Write the overview and one page per budget into `folder`, leaving unchanged files untouched."""
    folder.mkdir(exist_ok=True)
    described = descriptions()
    pages = {"index": index_page(described)} | {name: budget_page(name, text) for name, text in described.items()}
    for name, text in pages.items():
        path = folder / f"{name}.md"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
