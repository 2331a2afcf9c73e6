"""The book's build: budget pages with or without records, and -W failing on a missing image or a broken link."""

import subprocess
import sys
from pathlib import Path

import pytest

import budget_pages  # book/, put on the path by conftest.py
import stage

BOOK = Path(budget_pages.__file__).parent
ROOT = BOOK.parent


def test_budget_page_with_records_totals_their_time():
    """The quick budget's page lists each notebook's settings and recorded time, and a total."""
    page = budget_pages.budget_page("quick", "minutes per notebook")
    assert "| [01_baseline_cnn](../notebooks/01_baseline_cnn.ipynb) | `train_size=4_000" in page
    assert "| **all** | |" in page and "trained for" in page


def test_budget_page_without_records_says_so():
    """A budget with no committed run and no notebook row says both, instead of inventing a time."""
    page = budget_pages.budget_page("someday", "a budget no notebook has yet")
    assert page.startswith("# The `someday` budget\n\nA budget no notebook has yet.")
    assert "no `someday` row yet" in page and "No run of this budget is committed" in page
    assert "**all**" not in page


def test_every_budget_has_a_page(tmp_path):
    """One page per budget of cifar_helpers/budgets.py, and the overview linking them."""
    budget_pages.write_pages(tmp_path)
    assert sorted(p.stem for p in tmp_path.glob("*.md")) == sorted(["index", *budget_pages.descriptions()])


def test_build_fails_on_a_missing_image_or_a_broken_link(tmp_path):
    """sphinx-build -W with the book's configuration stops on either."""
    pytest.importorskip("myst_nb", reason="the book's tools are not installed: make install-book")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.md").write_text("# Broken\n\n![a figure](missing.png)\n\n[a notebook](gone.ipynb)\n")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-c", str(BOOK), str(tmp_path / "src"), str(tmp_path / "html")],
        capture_output=True,
        text=True,
    )
    assert build.returncode != 0
    assert "missing.png" in build.stderr and "gone" in build.stderr, build.stderr


def test_readme_links_lead_to_files_the_book_is_built_from(readme_links, tmp_path):
    """Each relative link of README.md names a file of the repository (as GitHub resolves it) and of the staged book."""
    local = [link for link in readme_links if "://" not in link]
    assert "docs/headline.png" in local and "docs/results.md" in local
    assert not [link for link in local if "#" in link], "no #anchors: the book has no heading anchors to match them"
    assert [link for link in local if not (ROOT / link).is_file()] == [], "README links to a missing file"
    stage.stage(tmp_path / "src")
    assert [link for link in local if not (tmp_path / "src" / link).is_file()] == [], "README links outside the book"


def test_every_reference_page_is_in_the_books_table_of_contents():
    """docs/*.md, each a page of the book's Reference part (Sphinx -W would stop on an orphan; this names it)."""
    index = (BOOK / "index.md").read_text()
    reference = index.split(":caption: Reference", 1)[1].split("```", 1)[0].split()
    assert sorted(reference) == sorted(f"docs/{path.stem}" for path in (ROOT / "docs").glob("*.md"))
