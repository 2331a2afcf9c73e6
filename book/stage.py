"""`python book/stage.py FOLDER`: the book's sources, laid out in FOLDER as in the repository so README's links hold.

FOLDER gets README.md, notebooks/ (the committed notebooks and the workshop notes, copied as they are), docs/ (the
reference pages, the generated results page and README's headline figure), the book's own pages and the generated
budget pages; `sphinx-build -c book FOLDER OUT` then builds it with book/conf.py.
"""

import shutil
import sys
from pathlib import Path

import budget_pages

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent


def stage(folder: Path) -> None:
    """Fill `folder` with everything the book is built from."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebooks").mkdir(parents=True)
    for path in [ROOT / "README.md", *BOOK.glob("*.md")]:
        shutil.copy2(path, folder)
    for path in [*budget_pages.NOTEBOOKS, ROOT / "notebooks" / "README.md"]:
        shutil.copy2(path, folder / "notebooks")
    shutil.copytree(ROOT / "docs", folder / "docs")
    budget_pages.write_pages(folder / "budgets")


if __name__ == "__main__":
    stage(Path(sys.argv[1]))
