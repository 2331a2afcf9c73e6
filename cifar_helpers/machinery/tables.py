"""Tables of recorded runs: markdown for notebooks and README, plain text for the terminal."""

import numpy as np

RESULT_HEADERS = ("budget", "notebook", "run", "test accuracy", "epochs", "train images", "time (s)")


def markdown_table(headers, rows) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(headers, rows) -> str:
    """A plain fixed-width table for the terminal."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def result_rows(records) -> list:
    """One row per recorded run, in RESULT_HEADERS order."""
    return [
        (
            r["budget"],
            r["notebook"],
            r["label"],
            f"{100 * r['test_accuracy']:.2f}%",
            r["epochs"],
            r["train_size"],
            f"{r['wall_time_s']:.0f}",
        )
        for r in records
    ]


def verdict_text(held) -> str:
    """A "held here?" cell: '-' for no claim, yes or no for a rule's answer, a Comparison as it reads itself."""
    if held is None:
        return "-"
    if isinstance(held, (bool, np.bool_)):
        return "yes" if held else "no"
    return str(held)


def comparison_markdown(rows, source: str = "article (test)") -> str:
    """A results table for a notebook: rows of (record, the source's percent or None, claim, held).

    held is True, False, None (no claim to check) or a noise.Comparison (shown with its difference and
    yardstick); source names the quoted numbers' column.
    """
    body = [
        (
            r["label"],
            r["train_size"],
            r["epochs"],
            f"{100 * r['test_accuracy']:.2f}%",
            "-" if article is None else f"{article:.2f}%",
            claim,
            verdict_text(held),
        )
        for r, article, claim, held in rows
    ]
    headers = ("run", "train images", "epochs", "our test accuracy", source, "claim", "held here?")
    return markdown_table(headers, body)
