"""The collection's summary: the article's steps beside our recorded runs, and notebook times."""

import itertools
import hashlib
import json
import re
from pathlib import Path
from typing import NamedTuple

from ..devices import precision_tag
from ..figure_text import capitalised
from ..references import ARTICLE_RESNET56_VALIDATION, ARTICLE_TEST_ACCURACY
from ..noise import compare, seeds_of, steps_yardstick
from ..records import MissingResultError, load_result, load_results
from .tables import markdown_table


class Step(NamedTuple):
    """One step of the article: what changed, the notebook and runs that stand for it, its network, its number."""

    name: str
    change: str
    notebook: str
    runs: tuple  # our candidate runs; the best by validation accuracy stands for the step
    family: str  # the network family: accuracies are subtracted only within one
    article: float | None = None  # the article's accuracy (%), None where it gives none
    article_metric: str = "test"


ARTICLE_CNN = "the article's CNN"
ARTICLE_STEPS = (
    Step(
        "1 baseline",
        "article's CNN, Adam 0.001",
        "01_baseline_cnn",
        ("baseline",),
        ARTICLE_CNN,
        ARTICLE_TEST_ACCURACY["baseline"],
    ),
    Step(
        "2 augmentation",
        "crop + flip + whitening",
        "02_data_augmentation",
        ("crop+flip+whiten",),
        ARTICLE_CNN,
        ARTICLE_TEST_ACCURACY["augmentation"],
    ),
    Step(
        "3 model",
        "+ weight decay, dropout, BN, LRN",
        "03_model_improvements",
        ("LRN",),
        ARTICLE_CNN,
        ARTICLE_TEST_ACCURACY["model_improvements"],
    ),
    Step(
        "4 schedule",
        "0.01 -> 0.001 -> 0.0005",
        "04_learning_rate_schedule",
        ("schedule_2",),
        ARTICLE_CNN,
        ARTICLE_TEST_ACCURACY["lr_schedule"],
    ),
    Step(
        "5 deeper plain",
        "plain nets, 8-32 layers",
        "05_deeper_plain_networks",
        ("plain8", "plain14", "plain20", "plain32"),
        "plain nets",
    ),
    Step(
        "6 ResNet",
        "ResNet-20/32/44/56 (article: ResNet-56)",
        "06_residual_networks",
        ("resnet20", "resnet32", "resnet44", "resnet56"),
        "ResNets",
        ARTICLE_RESNET56_VALIDATION,
        "validation",
    ),
)
FAMILIES = {step.notebook: step.family for step in ARTICLE_STEPS}
TIME_LINE = re.compile(
    r"Notebook wall time: ([\d.]+) min \(budget: (\w+)\)(?:; its \d+ recorded runs trained in ([\d.]+) min)?"
)


def training(record) -> str:
    """How a run was trained, e.g. '8,000 images x 20 epochs'."""
    return f"{record['train_size']:,} images x {record['epochs']} epoch{'' if record['epochs'] == 1 else 's'}"


def why_not_comparable(a, b):
    """Why two recorded runs' accuracies may not be subtracted, or None where they may."""
    family_a, family_b = FAMILIES.get(a["notebook"]), FAMILIES.get(b["notebook"])
    reasons = []
    if a["budget"] != b["budget"]:
        reasons.append(f"different budgets ({a['budget']} vs {b['budget']})")
    if family_a is None or family_a != family_b:
        reasons.append(f"different networks ({family_a or a['notebook']} vs {family_b or b['notebook']})")
    if training(a) != training(b):
        reasons.append(f"different training ({training(a)} vs {training(b)})")
    if a.get("data_source") != b.get("data_source"):
        reasons.append(f"different data ({a.get('data_source')} vs {b.get('data_source')})")
    return "; ".join(reasons) or None


def comparable(a, b) -> bool:
    """True when two recorded runs share budget, network family, training-set size, epochs and data."""
    return why_not_comparable(a, b) is None


def recorded_runs(budget: str, step: Step) -> list:
    """The step's runs recorded under `budget` (a budget may leave some out, e.g. quick trains no ResNet-44)."""
    records = []
    for run in step.runs:
        try:
            records.append(load_result(budget, step.notebook, run))
        except MissingResultError:
            pass
    return records


def best_run(budget: str, step: Step):
    """The step's recorded run with the highest best-epoch validation accuracy under `budget` (None where none was run).

    Chosen on validation, not test, accuracy: picking the best of several by their test score would flatter it.
    """
    return max(recorded_runs(budget, step), key=lambda r: max(r["history"]["val_accuracy"]), default=None)


def step_records(budget: str) -> list:
    """For each article step, {'step': Step, 'record': our best recorded run of it under `budget` or None}."""
    return [{"step": step, "record": best_run(budget, step)} for step in ARTICLE_STEPS]


def article_cell(step: Step) -> str:
    """The article's number for a step, with what it measured."""
    return "-" if step.article is None else f"{step.article:.2f}% ({step.article_metric})"


def run_cell(step: Step, record) -> str:
    """Which run stands for the step, and how it was trained."""
    if record is None:
        return "not run"
    count = len(recorded_runs(record["budget"], step))
    best = f", best of {count}" if count > 1 else ""
    return f"{record['label']}{best} ({record['train_size']:,} x {record['epochs']})"


def steps_markdown(budgets) -> str:
    """The article's table beside ours: per step and budget, our best comparable run and its test accuracy."""
    by_budget = {budget: step_records(budget) for budget in budgets}
    headers = ["step", "change", "article"]
    for budget in budgets:
        headers += [f"ours, {budget}: run (images x epochs)", f"ours, {budget} (test)"]
    rows = []
    for i, step in enumerate(ARTICLE_STEPS):
        cells = [step.name, step.change, article_cell(step)]
        for budget in budgets:
            record = by_budget[budget][i]["record"]
            cells += [run_cell(step, record), "-" if record is None else f"{100 * record['test_accuracy']:.2f}%"]
        rows.append(cells)
    return markdown_table(headers, rows)


def step_gain(record, previous):
    """(points `record` gained over `previous`, None), or (None, why the two may not be subtracted)."""
    if previous is None:
        return None, "the previous step has no recorded run"
    why = why_not_comparable(record, previous)
    return (None, why) if why else (100 * (record["test_accuracy"] - previous["test_accuracy"]), None)


def step_verdict(record, previous, yardstick) -> str:
    """noise.compare's verdict on a step over the one before it (means where seeds exist),
    or '-' without a yardstick.
    """
    if yardstick is None:
        return "-"
    return str(compare(seeds_of(record), seeds_of(previous), yardstick))


def article_cnn_yardstick(budget: str):
    """The article CNN's yardstick at `budget` (noise.steps_yardstick), or None before its seeds are recorded."""
    try:
        return steps_yardstick(budget)
    except MissingResultError:
        return None


def gains_markdown(budget: str) -> str:
    """Per step: our run, its gain over the previous step where comparable (else '-' and a footnote why), the noise
    verdict on that gain, its time."""
    steps, runs, yardstick = step_records(budget), load_results(budget), article_cnn_yardstick(budget)
    rows, notes = [], []
    for i, (step, record) in enumerate((row["step"], row["record"]) for row in steps):
        if record is None:
            rows.append((step.name, "not run", "-", "-", "-", "-", "-"))
            continue
        points, why = step_gain(record, steps[i - 1]["record"]) if i else (None, None)
        if why:
            notes.append(f"({len(notes) + 1}) {step.name} is not compared with {steps[i - 1]['step'].name}: {why}.")
        gain = "-" if points is None else f"{points:+.2f}"
        verdict = "-" if points is None else step_verdict(record, steps[i - 1]["record"], yardstick)
        seconds = sum(r["wall_time_s"] for r in runs if r["notebook"] == step.notebook)
        rows.append(
            (
                step.name,
                record["label"],
                training(record),
                f"{100 * record['test_accuracy']:.2f}%",
                f"{gain} ({len(notes)})" if why else gain,
                verdict,
                f"{seconds / 60:.1f} min",
            )
        )
    headers = (
        "step",
        "our run",
        "trained on",
        "test accuracy",
        "gain over the previous step (points)",
        "beyond noise? (means of seeds where recorded)",
        "training time",
    )
    return "\n\n".join([markdown_table(headers, rows)] + notes)


def step_span(steps) -> str:
    """'step 6', 'steps 1-4' or 'steps 1, 2, 4': the steps named in a label."""
    numbers = [int(step.name.split()[0]) for step in steps]
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    together = numbers == list(range(numbers[0], numbers[-1] + 1))
    return f"steps {numbers[0]}-{numbers[-1]}" if together else "steps " + ", ".join(map(str, numbers))


def trainings(rows) -> str:
    """How each group of steps' runs was trained, e.g. '8,000 images x 20 epochs (steps 1-4); ...'."""
    groups = {}
    for row in rows:
        if row["record"] is not None:
            groups.setdefault(training(row["record"]), []).append(row["step"])
    return "; ".join(f"{how} ({step_span(steps)})" for how, steps in groups.items())


def plot_steps(budgets):
    """Grouped bars per step, each with its value:
    the article's number beside the run that stands for the step per budget.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from ..figure_text import describe

    budgets = [budget for budget in budgets if load_results(budget)]
    drawn = {}  # {budget: its step_records}, for the description
    x, width = np.arange(len(ARTICLE_STEPS)), 0.8 / (1 + len(budgets))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for metric, look in (("test", dict(color="0.2")), ("validation", dict(color="white", edgecolor="0.2", hatch="//"))):
        shown = [i for i, s in enumerate(ARTICLE_STEPS) if s.article is not None and s.article_metric == metric]
        bars = ax.bar(
            x[shown],
            [ARTICLE_STEPS[i].article for i in shown],
            width,
            label=f"article, {metric} accuracy ({step_span([ARTICLE_STEPS[i] for i in shown])})",
            **look,
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7)  # as the article quotes them
    for j, budget in enumerate(budgets, 1):
        rows = drawn[budget] = step_records(budget)
        shown = [i for i, row in enumerate(rows) if row["record"] is not None]
        bars = ax.bar(
            x[shown] + j * width,
            [100 * rows[i]["record"]["test_accuracy"] for i in shown],
            width,
            label=f"ours, {budget}, test accuracy: {trainings(rows)}",
        )
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    for i in range(1, len(ARTICLE_STEPS)):
        if ARTICLE_STEPS[i].family != ARTICLE_STEPS[i - 1].family:
            ax.axvline(i - 0.5 + width * len(budgets) / 2, color="0.5", linestyle=":")
    ax.set_xticks(x + width * len(budgets) / 2, [s.name.replace(" ", "\n", 1) for s in ARTICLE_STEPS])  # "1\nbaseline"
    ax.set_xlabel("the article's step (dotted line: another network family; do not compare bars across it)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(
        "Our run for each step: steps 1-4 the article's setting, steps 5-6 the depth with the best validation accuracy",
        fontsize="medium",
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize="small", ncol=2)
    fig.tight_layout()
    return describe(fig, steps_text(drawn))


def step_bars(i: int, drawn: dict) -> str:
    """'1 baseline: article 69.36 (test), quick 62.1, overnight 70.2': step i's bars as plot_steps labels them."""
    step = ARTICLE_STEPS[i]
    bars = ["no article number" if step.article is None else f"article {step.article:.2f} ({step.article_metric})"]
    for budget, rows in drawn.items():
        record = rows[i]["record"]
        bars.append(f"{budget} " + ("not run" if record is None else f"{100 * record['test_accuracy']:.1f}"))
    return f"{step.name}: " + ", ".join(bars)


def steps_text(drawn: dict) -> str:
    """What plot_steps shows: each step's bars, and the dotted lines between network families."""
    families = [(family, list(steps)) for family, steps in itertools.groupby(ARTICLE_STEPS, key=lambda s: s.family)]
    ours = f" beside our test accuracy under {', '.join(drawn)}" if drawn else ""
    return (
        f"Bars of accuracy (%) for each of the article's {len(ARTICLE_STEPS)} steps: the article's number{ours}. "
        + "; ".join(step_bars(i, drawn) for i in range(len(ARTICLE_STEPS)))
        + ". Dotted lines separate the network families ("
        + ", ".join(f"{step_span(steps)}: {family}" for family, steps in families)
        + "); bars are not compared across them."
    )


def steps_chart_data(budgets) -> dict:
    """What plot_steps(budgets) draws, as plain data: the article's bars, and per budget with records the run that
    stands for each step (None where none does) and the legend's training line."""
    ours = {}
    for budget in [budget for budget in budgets if load_results(budget)]:
        rows = step_records(budget)
        ours[budget] = {
            "trainings": trainings(rows),
            "steps": [
                None
                if row["record"] is None
                else {key: row["record"][key] for key in ("run", "label", "test_accuracy", "train_size", "epochs")}
                for row in rows
            ],
        }
    return {"article": [[s.name, s.family, s.article, s.article_metric] for s in ARTICLE_STEPS], "ours": ours}


def steps_chart_digest(budgets) -> str:
    """SHA-256 of steps_chart_data(budgets): a chart saved with another digest was drawn from other records."""
    return hashlib.sha256(json.dumps(steps_chart_data(budgets), sort_keys=True).encode()).hexdigest()


BESIDE = ("full", "overnight", "quick")  # the budgets whose runs a notebook shows beside its own, in this order
WHERE = {
    "quick": "on 2 CPU cores with the `quick` budget (training subsets, for a class on laptops)",
    "overnight": "on 2 CPU cores with the `overnight` budget (all 45,000 training images)",
    "full": "on one GPU with the `full` budget",
}
HARDWARE = re.compile(r"devices: ([^;]+)")


def hardware(record) -> str:
    """The machine a run was trained on, as its record names it,
    e.g. 'CPU only (2 cores)' or '1 GPU(s): NVIDIA H100'.
    """
    found = HARDWARE.search(record.get("device", ""))
    return found.group(1) if found else "not recorded"


def notebook_runs(budget: str, notebook: str) -> list:
    """The runs one notebook recorded under `budget`, in the order they finished."""
    return [r for r in load_results(budget) if r["notebook"] == notebook]


def beside_table(notebook: str, other: str) -> str:
    """This notebook's runs under budget `other` as a table under a lead line, or a line saying there are none."""
    runs = notebook_runs(other, notebook)
    if not runs:
        how = ' (docs/offline-gpu.md: "A GPU machine without internet")' if other == "full" else ""
        return f"*No run of this notebook is recorded {WHERE[other]} yet{how}.*"
    rows = [
        (
            r["label"],
            training(r),
            f"{100 * r['test_accuracy']:.2f}%",
            f"{100 * max(r['history']['val_accuracy']):.2f}%",
            f"{r['wall_time_s'] / 60:.1f} min",
            f"{hardware(r)}, {r['backend']}",
        )
        for r in runs
    ]
    headers = ("run", "trained on", "test accuracy", "best validation accuracy", "training time", "machine")
    where = WHERE[other]
    lead = f"**{capitalised(where)}** you should see (`results/{other}/`):"
    return lead + "\n\n" + markdown_table(headers, rows)


def beside_markdown(notebook: str, budget: str) -> str:
    """This notebook's runs under every other budget (full, overnight, quick: a table each, or a line saying none)."""
    return "\n\n".join(beside_table(notebook, other) for other in BESIDE if other != budget)


EXERCISE_PREFIX = "exercise_"  # the runs of a notebook's exercise solutions: timed apart from the lesson's own


def time_line(notebook: str, budget: str, elapsed_seconds: float, tag: str = "") -> str:
    """This sitting's wall time, and how long the notebook's recorded runs took to train (reused runs count too).

    tag: count only the runs of this precision (devices.precision_tag: "_bf16" for a CPU's bf16 runs).
    """
    runs = [r for r in notebook_runs(budget, notebook) if precision_tag(r.get("device", "")) == tag]
    exercises = [r for r in runs if r["run"].startswith(EXERCISE_PREFIX)]
    runs = [r for r in runs if not r["run"].startswith(EXERCISE_PREFIX)]
    line = f"Notebook wall time: {elapsed_seconds / 60:.1f} min (budget: {budget})"
    if runs:
        line += f"; its {len(runs)} recorded runs trained in {sum(r['wall_time_s'] for r in runs) / 60:.1f} min"
    if exercises:
        line += f" (its exercises' {len(exercises)} more in {sum(r['wall_time_s'] for r in exercises) / 60:.1f} min)"
    return line


def notebook_times(folder: Path) -> dict:
    """{notebook stem: (minutes, budget)} from each committed notebook's time line:
    its runs' training time, else wall time.
    """
    times = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                found = TIME_LINE.search("".join(output.get("text", "")))
                if found:
                    times[path.stem] = (float(found.group(3) or found.group(1)), found.group(2))
    return times
