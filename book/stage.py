"""`python book/stage.py FOLDER`: the book's sources, laid out in FOLDER as in the repository so README's links hold.

FOLDER gets README.md, notebooks/ (the committed notebooks and the workshop notes), docs/ (the reference pages,
the generated results page and README's headline figure), the book's own pages and the generated budget pages;
`sphinx-build -c book FOLDER OUT` then builds it with book/conf.py.

The notebooks are copied with one addition: each figure's description becomes its image's alt text. The plotting
code (cifar_helpers/figure_text.py) writes it into the image output's metadata, {"image/png": {"alt": ...}}, which
myst-nb ignores (it takes only width and height from there); myst-nb takes image options per cell instead, from the
cell's metadata {"mystnb": {"image": {"alt": ...}}}, for every image of the cell. So a cell whose images are
described alike gets that description, and one whose images differ gets them all, numbered ("Figure 1 of 2: ...").
"""

import shutil
import sys
from pathlib import Path

import budget_pages
import nbformat

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent


def image_types(output: dict) -> list:
    """The image MIME types of an output's data (image/png, ...); [] for text."""
    return [mime for mime in output.get("data", {}) if mime.startswith("image/")]


def image_alt(output: dict):
    """An output's image description, from its image's metadata; None where it has none."""
    metadata = output.get("metadata", {})
    return next((metadata[mime]["alt"] for mime in image_types(output) if "alt" in metadata.get(mime, {})), None)


def image_alts(cell: dict) -> list:
    """The description of each image output of a cell, in order (None for an image without one)."""
    return [image_alt(output) for output in cell.get("outputs", []) if image_types(output)]


def cell_alt(alts: list):
    """The one alt text myst-nb gives all of a cell's images: their shared description, or each in turn, numbered."""
    if not any(alts):
        return None
    if len(set(alts)) == 1:
        return alts[0]
    return " ".join(f"Figure {i} of {len(alts)}: {alt or 'not described.'}" for i, alt in enumerate(alts, 1))


def describe_figures(notebook: dict) -> dict:
    """Give each cell with described images myst-nb's cell-level alt text (mystnb.image.alt), unless it has one."""
    for cell in notebook["cells"]:
        alt = cell_alt(image_alts(cell))
        if alt:
            cell["metadata"].setdefault("mystnb", {}).setdefault("image", {}).setdefault("alt", alt)
    return notebook


def stage_notebook(path: Path, folder: Path) -> None:
    """Copy a notebook into `folder`, its figures' descriptions put where myst-nb reads them (describe_figures)."""
    nbformat.write(describe_figures(nbformat.read(path, as_version=4)), folder / path.name)


def stage(folder: Path) -> None:
    """Fill `folder` with everything the book is built from."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebooks").mkdir(parents=True)
    for path in [ROOT / "README.md", *BOOK.glob("*.md")]:
        shutil.copy2(path, folder)
    for path in budget_pages.NOTEBOOKS:
        stage_notebook(path, folder / "notebooks")
    shutil.copy2(ROOT / "notebooks" / "README.md", folder / "notebooks")
    shutil.copytree(ROOT / "docs", folder / "docs")
    budget_pages.write_pages(folder / "budgets")


if __name__ == "__main__":
    stage(Path(sys.argv[1]))
