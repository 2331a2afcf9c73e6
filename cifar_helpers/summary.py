"""The collection's summary: the article's steps beside our recorded runs, and notebook times."""

import json
import re
from pathlib import Path

from .references import ARTICLE_RESNET56_VALIDATION, ARTICLE_TEST_ACCURACY
from .records import MissingResultError, load_result, load_results
from .tables import markdown_table

# (step, what changed, notebook, run, the article's number or None)
ARTICLE_STEPS = (
    ("1 baseline", "article's CNN, Adam 0.001", "01_baseline_cnn", "baseline", ARTICLE_TEST_ACCURACY["baseline"]),
    ("2 augmentation", "crop + flip + whitening", "02_data_augmentation", "crop+flip+whiten", ARTICLE_TEST_ACCURACY["augmentation"]),
    ("3 model", "+ weight decay, dropout, BN, LRN", "03_model_improvements", "LRN", ARTICLE_TEST_ACCURACY["model_improvements"]),
    ("4 schedule", "0.01 -> 0.001 -> 0.0005", "04_learning_rate_schedule", "schedule_2", ARTICLE_TEST_ACCURACY["lr_schedule"]),
    ("5 deeper plain", "plain-32 (16/32/64 filters)", "05_deeper_plain_networks", "plain32", None),
    ("6 ResNet", "ResNet-56", "06_residual_networks", "resnet56", ARTICLE_RESNET56_VALIDATION),
)
TIME_LINE = re.compile(r"Notebook wall time: ([\d.]+) min \(budget: (\w+)\)(?:; its \d+ recorded runs trained in ([\d.]+) min)?")


def step_records(budget: str) -> list:
    """For each article step, our recorded run under `budget` (None where it was not run)."""
    rows = []
    for step, change, notebook, run, article in ARTICLE_STEPS:
        try:
            record = load_result(budget, notebook, run)
        except MissingResultError:
            record = None
        rows.append({"step": step, "change": change, "notebook": notebook, "article": article, "record": record})
    return rows


def steps_markdown(budgets) -> str:
    """The article's table beside ours, one column per budget."""
    by_budget = {budget: step_records(budget) for budget in budgets}
    headers = ["step", "change", "article (test)"] + [f"ours, {b} (test)" for b in budgets]
    rows = []
    for i, (step, change, *_rest, article) in enumerate(ARTICLE_STEPS):
        cells = [step, change, "-" if article is None else f"{article:.2f}%" + (" (val)" if step.startswith("6") else "")]
        for budget in budgets:
            record = by_budget[budget][i]["record"]
            cells.append("not run" if record is None else f"{100 * record['test_accuracy']:.2f}%")
        rows.append(cells)
    return markdown_table(headers, rows)


def time_line(notebook: str, budget: str, elapsed_seconds: float) -> str:
    """This sitting's wall time, and how long the notebook's recorded runs took to train (reused runs count too)."""
    runs = [r for r in load_results(budget) if r["notebook"] == notebook]
    line = f"Notebook wall time: {elapsed_seconds / 60:.1f} min (budget: {budget})"
    if runs:
        line += f"; its {len(runs)} recorded runs trained in {sum(r['wall_time_s'] for r in runs) / 60:.1f} min"
    return line


def notebook_times(folder: Path) -> dict:
    """{notebook stem: (minutes, budget)} from each committed notebook's time line: its runs' training time, else wall time."""
    times = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                found = TIME_LINE.search("".join(output.get("text", "")))
                if found:
                    times[path.stem] = (float(found.group(3) or found.group(1)), found.group(2))
    return times
