"""`python -m cifar_helpers run|results|speed`: execute the notebooks in order, print recorded results,
time the networks.
"""

import argparse
import os
import re
import sys
from pathlib import Path

from ..budgets import BUDGETS, DEFAULT_BUDGET, ENV_VAR as BUDGET_VAR, resolve_budget
from .processes import this_process_writes
from ..settings import current
from ..records import ENV_VAR as RESULTS_VAR
from .progress import PROGRESS_VAR

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(RuntimeError):
    """A cell raised; the message shows the cell and the error."""


def available_notebooks(folder: Path = NOTEBOOKS_DIR) -> list:
    """The numbered notebooks, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def find_notebooks(names, folder: Path = NOTEBOOKS_DIR) -> list:
    """Resolve names like '01', '01_baseline_cnn' or a path; all notebooks when none are given."""
    known = available_notebooks(folder)
    if not names:
        return known
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        matches = [p for p in known if p.stem == stem or p.stem.split("_")[0] == stem]
        if not matches:
            listing = ", ".join(p.stem for p in known) or "(none)"
            raise SystemExit(f"error: unknown notebook {name!r}. Known notebooks: {listing}")
        chosen += matches
    return chosen


def failure_message(path: Path, index: int, cell, error) -> str:
    """The failing cell's source and its error, readable in a terminal."""
    source = "\n".join("    " + line for line in cell.source.splitlines())
    outputs = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    detail = ANSI.sub("", "\n".join(outputs[-1]["traceback"])) if outputs else str(error)
    return f"{path.name}: cell {index} failed.\n--- cell source ---\n{source}\n--- error ---\n{detail}"


def kernel_config():
    """Kernel settings: encrypted transport where pyzmq supports it, so ipykernel prints no TCP warning."""
    import zmq
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport_encryption = "auto" if zmq.has("curve") else "disabled"
    return config


def execute_notebook(path: Path, output, progress=True):
    """Run every cell of `path` in a fresh kernel, saving the executed copy to `output` (None: not saved)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm import tqdm

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=None,
        kernel_name="python3",
        config=kernel_config(),
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )  # fd 2 (progress) -> this terminal
    cells = list(enumerate(notebook.cells))
    with client.setup_kernel():
        for index, cell in tqdm(cells, desc=path.stem, unit="cell", disable=not progress):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                raise NotebookFailed(failure_message(path, index, cell, error)) from None
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, output)


def run_command(args, folder: Path = NOTEBOOKS_DIR) -> int:
    """Execute the chosen notebooks in order under one budget; stop at the first failure.

    Without --update, executed copies and the records of the runs they train go to runs/<budget>/.
    """
    budget = resolve_budget(args.budget)
    if args.update and budget == "smoke":
        raise SystemExit(
            "error: --update with the smoke budget would overwrite the committed outputs; "
            "refresh them with --budget quick or full."
        )
    notebooks = find_notebooks(args.notebooks, folder)
    os.environ[BUDGET_VAR] = budget
    os.environ[PROGRESS_VAR] = "1"  # each epoch's line on this terminal, while the notebook's own output stays compact
    out_dir = getattr(args, "out", None) or NOTEBOOKS_DIR.parent / "runs" / budget
    if args.update and getattr(args, "out", None):
        raise SystemExit("error: --update writes into notebooks/ and results/; leave --out out.")
    if (
        not args.update
    ):  # a learner's runs are recorded beside the executed notebooks; committed results/ stay as they are
        os.environ.setdefault(RESULTS_VAR, str(out_dir / "results"))
    writes = this_process_writes()  # several processes (KERAS_DISTRIBUTION_* or TF_CONFIG): process 0 writes
    for path in notebooks:
        target = path if args.update else out_dir / path.name
        try:
            execute_notebook(path, target if writes else None, progress=not args.no_progress)
        except NotebookFailed as failure:
            print(failure, file=sys.stderr)
            return 1
        shown = target.relative_to(NOTEBOOKS_DIR.parent) if target.is_relative_to(NOTEBOOKS_DIR.parent) else target
        print(f"{path.name}: ok -> {shown if writes else 'written by process 0'}")
    return 0


ROOT = NOTEBOOKS_DIR.parent
README = ROOT / "README.md"
HEADLINE = ROOT / "docs" / "headline.png"  # README's figure: the article's steps beside ours (notebook 09's chart)
RESULTS_PAGE = ROOT / "docs" / "results.md"  # the book's page of every recorded run, one table per budget
STEPS_START, STEPS_END = "<!-- steps:start -->", "<!-- steps:end -->"
DIGEST_KEY = "steps-data-sha256"  # the PNG text chunk holding summary.steps_chart_digest of the data drawn
COMMITTED_BUDGETS = ("full", "overnight", "quick")  # the budgets whose records are committed, the largest first
GENERATED = "<!-- Generated from results/ by `python -m cifar_helpers results --readme`: do not edit by hand. -->"


def results_markdown(budgets=COMMITTED_BUDGETS) -> str:
    """Every recorded run of the given budgets as one markdown table."""
    from ..records import load_results
    from .tables import RESULT_HEADERS, markdown_table, result_rows

    return markdown_table(RESULT_HEADERS, result_rows([r for b in budgets for r in load_results(b)]))


def results_page(budgets=COMMITTED_BUDGETS) -> str:
    """The book's page of every recorded run: one table per budget (a line where a budget has none)."""
    from ..records import load_results
    from .tables import RESULT_HEADERS, markdown_table, result_rows

    lines = [
        "# All recorded runs",
        "",
        GENERATED,
        "",
        "Every recorded run of the committed budgets, one table per budget, generated from `results/` by "
        "`python -m cifar_helpers results --readme` (a test fails when this page and `results/` disagree; "
        "`python -m cifar_helpers results --markdown` prints them as one table). The quick budget trains on "
        "subsets for few epochs on 2 CPU cores with TensorFlow, on the JPEG copy of CIFAR-10: read these for "
        "the direction of each change, not as the article's scale.",
        "",
    ]
    for budget in budgets:
        records = load_results(budget)
        lines += [f"## `{budget}`", ""]
        if records:
            rows = [row[1:] for row in result_rows(records)]  # the budget column: this section's heading
            lines += [
                f"{len(records)} runs, from `results/{budget}/`.",
                "",
                markdown_table(RESULT_HEADERS[1:], rows),
                "",
            ]
        else:
            lines += [f"No `{budget}` run is recorded yet (`results/{budget}/` holds none).", ""]
    return "\n".join(lines)


def steps_markdown(budgets=COMMITTED_BUDGETS) -> str:
    """The article's steps beside our best comparable runs, one column pair per budget that has records."""
    from ..records import load_results
    from .summary import steps_markdown as table

    return table([b for b in budgets if load_results(b)] or list(budgets[:1]))


def write_headline(path: Path, budgets=COMMITTED_BUDGETS) -> str:
    """Save notebook 09's steps chart for `budgets` as a PNG at `path`, the digest of its data in the PNG's text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .summary import plot_steps, steps_chart_digest

    digest = steps_chart_digest(budgets)
    figure = plot_steps(budgets)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight", metadata={DIGEST_KEY: digest})
    plt.close(figure)
    return digest


def headline_digest(path: Path = HEADLINE):
    """The data digest a saved headline PNG carries (None when it has none)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.text.get(DIGEST_KEY)


def readme_with_results(text: str, table: str, start: str = STEPS_START, end: str = STEPS_END) -> str:
    """README text with the block between the `start` and `end` markers replaced by `table`."""
    if start not in text or end not in text:
        raise SystemExit(f"error: README.md lacks the {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def write_generated(budgets=COMMITTED_BUDGETS) -> None:
    """README's steps table, the headline PNG and the book's results page, each refreshed from results/."""
    README.write_text(readme_with_results(README.read_text(), steps_markdown(budgets)))
    write_headline(HEADLINE, budgets)
    RESULTS_PAGE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PAGE.write_text(results_page(budgets))


def results_command(args) -> int:
    """Print the recorded results (full, overnight and quick unless --budget says) as a table; --readme writes the
    generated files: README's steps table, its headline figure (docs/headline.png) and docs/results.md."""
    from ..records import load_results
    from .tables import RESULT_HEADERS, result_rows, text_table

    budgets = [args.budget] if args.budget else list(COMMITTED_BUDGETS)
    if args.readme:
        write_generated(budgets)
        print(f"Refreshed from results/{{{','.join(budgets)}}}: README.md's steps table, {HEADLINE}, {RESULTS_PAGE}")
        return 0
    records = [r for b in budgets for r in load_results(b)]
    if not records:
        print("No recorded results yet: run the notebooks first.")
        return 0
    print(results_markdown(budgets) if args.markdown else text_table(RESULT_HEADERS, result_rows(records)))
    return 0


def speed_command(args) -> int:
    """Measure each network's training speed on this machine, without and with XLA, as a markdown table."""
    from . import speed

    if args.speedrun:
        return speedrun_speed_command(args)
    networks = speed.benchmark_networks()
    chosen = [name for name in networks if not args.only or any(part in name for part in args.only)]
    if not chosen:
        raise SystemExit(f"error: no network matches {args.only}; known: {', '.join(networks)}")
    images, labels = speed.random_images(args.batch_size * args.steps)
    rows = []
    for name in chosen:
        rows.append(speed.speed_row(name, networks[name], images, labels, batch_size=args.batch_size, steps=args.steps))
        print(f"{name}: {rows[-1]['images/s']:.0f} images/s, {rows[-1]['images/s with XLA']:.0f} with XLA", flush=True)
    print(speed.speed_markdown(rows))
    return 0


def speedrun_speed_command(args) -> int:
    """Notebook 10's net at half and full width, float32 and bf16 where the CPU has it: one sitting, one table."""
    from . import speed
    from ..cpu import cpu_bf16_flags, cpu_model
    from ..speedrun import AIRBENCH94

    flags = cpu_bf16_flags()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; bf16 instructions: {', '.join(flags) or 'none'}")
    full = AIRBENCH94["widths"]
    half = tuple(width // 2 for width in full)  # notebook 10's width
    rows = speed.speedrun_speed_rows([half, full], batch_size=args.batch_size, steps=args.steps)
    print(speed.speed_markdown(rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m cifar_helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute notebooks in order")
    run.add_argument("notebooks", nargs="*", help="e.g. 01 or 01_baseline_cnn (default: all)")
    run.add_argument("--budget", choices=BUDGETS, default=current().budget or DEFAULT_BUDGET)
    run.add_argument(
        "--update",
        action="store_true",
        help="write outputs back into notebooks/ and records into results/ (any budget but smoke)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the executed copies and their records (default: runs/<budget>/)",
    )
    run.set_defaults(handler=run_command)
    results = commands.add_parser("results", help="print the recorded results")
    results.add_argument("--budget", choices=BUDGETS, default=None)
    results.add_argument("--markdown", action="store_true", help="as a markdown table")
    results.add_argument(
        "--readme", action="store_true", help="write README's steps table, docs/headline.png and docs/results.md"
    )
    results.set_defaults(handler=results_command)
    speed = commands.add_parser("speed", help="measure training speed (images/s) per network, without and with XLA")
    speed.add_argument("only", nargs="*", help="parts of network names to measure (default: all)")
    speed.add_argument("--steps", type=int, default=20, help="batches per timed round")
    speed.add_argument("--batch-size", type=int, default=128)
    speed.add_argument(
        "--speedrun",
        action="store_true",
        help="notebook 10's net at half and full width, float32 and bf16 (where the CPU has it)",
    )
    speed.set_defaults(handler=speed_command)
    return parser


def main(argv=None) -> int:
    """Entry point of python -m cifar_helpers."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
