"""Stage the book's sources in one folder laid out like the repository, so README's links resolve there.

Usage: python book/stage.py FOLDER. FOLDER gets README.md, notebooks/ (the committed notebooks and the workshop
notes, copied as they are), the book's own pages and the generated budget pages. Sphinx then builds FOLDER with
book/conf.py (sphinx-build -c book FOLDER ...): the copies keep their times, so a rebuild reads only what changed.
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
    budget_pages.write_pages(folder / "budgets")


if __name__ == "__main__":
    stage(Path(sys.argv[1]))
