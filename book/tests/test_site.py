"""The built book as a reader meets it, in Debian's chromium; and proof that these checks fail on a missing image."""

import json
import shutil
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin

import pytest

pytest.importorskip("playwright", reason="the book's tools are not installed: make install-book")
from playwright.sync_api import expect  # noqa: E402
from PIL import Image, ImageStat  # noqa: E402

import budget_pages  # noqa: E402  (book/, put on the path by conftest.py)

NOTEBOOK_PAGES = [f"notebooks/{path.stem}.html" for path in budget_pages.NOTEBOOKS]
# The reference pages (docs/), as book/index.md's last table of contents lists them.
REFERENCE_PAGES = [
    f"{name}.html"
    for name in (budget_pages.ROOT / "book" / "index.md")
    .read_text()
    .split(":caption: Reference", 1)[1]
    .split("```", 1)[0]
    .split()
]
# Every page in the order previous/next walks them, starting from the introduction (index.html).
READING_ORDER = [
    "index.html",
    *NOTEBOOK_PAGES,
    "notebooks/README.html",
    "budgets/index.html",
    *(f"budgets/{name}.html" for name in budget_pages.descriptions()),
    "running.html",
    *REFERENCE_PAGES,
]
# Each notebook page's headline figure, as the section (its id) whose first output image it is: the plot the
# notebook's conclusion argues from (for 00, the images themselves); and the heading cells of its verdict table
# (00 trains nothing and has none; 09's is the article's steps beside ours).
VERDICT = ("claim", "held here?")
EXPECTED = {
    "00_data_and_setup": ("what-the-images-look-like", None),
    "01_baseline_cnn": ("the-curves", VERDICT),
    "02_data_augmentation": ("how-much-of-a-difference-is-noise", VERDICT),
    "03_model_improvements": ("the-runs", VERDICT),
    "04_learning_rate_schedule": ("the-runs", VERDICT),
    "05_deeper_plain_networks": ("training-the-four-depths", VERDICT),
    "06_residual_networks": ("plain-against-residual-on-one-plot", VERDICT),
    "07_stuck_at_60_percent": ("what-actually-mattered", VERDICT),
    "08_inception_ideas": ("a-compact-inception-net-and-an-inception-resnet-for-3232-inputs", VERDICT),
    "09_summary": ("the-article-s-table-and-ours", ("step", "change", "article")),
    "10_speedrun": ("the-run", VERDICT),
}
UNSHOWN_IMAGES = "images => images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"


@lru_cache(maxsize=None)
def fetch(url: str) -> tuple:
    """(HTTP status, text) of a URL on the local server."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def link_problem(href: str):
    """Why an internal link leads nowhere (its page missing, or its #anchor not on it), else None."""
    target, anchor = urldefrag(href)
    status, text = fetch(target)
    if status != 200:
        return f"link to {href}: HTTP {status}"
    if anchor and f'id="{unquote(anchor)}"' not in text:
        return f"link to {href}: no such anchor"
    return None


def page_problems(page, url: str) -> list:
    """What a reader of `url` meets: console errors, failed requests, images not shown, internal links to nowhere."""
    problems = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and problems.append(f"console: {message.text} ({message.location['url']})")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on(
        "response",
        lambda response: response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}"),
    )
    page.goto(url)
    problems += [f"image not shown: {src}" for src in page.eval_on_selector_all("img", UNSHOWN_IMAGES)]
    origin = urljoin(url, "/")
    links = set(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))
    problems += [problem for href in sorted(links) if href.startswith(origin) and (problem := link_problem(href))]
    return problems


@pytest.mark.parametrize("path", [*READING_ORDER, "search.html", "genindex.html"])
def test_page_loads_cleanly(page, base_url, path):
    """Every page loads with every image shown, no console error or failed request, and no link to nowhere."""
    assert page_problems(page, base_url + path) == []


def test_readme_links_all_work_in_the_book(page, base_url, readme_links):
    """README.md is the introduction and the running page: each of its links is there and leads somewhere, and its
    figure is shown."""
    hrefs, images = set(), set()
    for path in ("index.html", "running.html"):
        page.goto(base_url + path)
        hrefs |= set(page.eval_on_selector_all("article a[href]", "links => links.map(a => a.href)"))
        images |= set(
            page.eval_on_selector_all(
                "article img",
                "images => images.filter(i => i.complete && i.naturalWidth > 0).map(i => i.src.split('/').pop())",
            )
        )
    for link in readme_links:
        if link.endswith(".png"):
            assert Path(link).name in images, f"README's {link} is not shown in the book"
            continue
        target = link if "://" in link else urljoin(base_url, str(Path(link).with_suffix(".html")))
        assert target in hrefs, f"README's link to {link} is missing from the book"
        if target.startswith(base_url):
            assert link_problem(target) is None, link_problem(target)


def test_every_notebook_has_its_expectations():
    """A new notebook needs its headline figure and verdict table named in EXPECTED."""
    assert sorted(EXPECTED) == [path.stem for path in budget_pages.NOTEBOOKS]


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_notebook_page_shows_figure_and_verdict_and_offers_the_notebook(page, base_url, stem):
    """The headline figure is drawn full-size, the verdict table has rows, and the .ipynb is there to download."""
    section, verdict = EXPECTED[stem]
    page.goto(f"{base_url}notebooks/{stem}.html")
    figure = page.locator(f"section#{section} .cell_output img").first
    assert figure.evaluate("image => image.naturalWidth") > 0
    assert figure.bounding_box()["width"] > 300
    if verdict:
        tables = page.locator("table")
        for heading in verdict:
            tables = tables.filter(has=page.locator("th", has_text=heading))
        expect(tables.first.locator("tbody tr").first).to_be_visible()
    download = page.locator(f'a[href$="_sources/notebooks/{stem}.ipynb"]').first.evaluate("link => link.href")
    status, text = fetch(download)
    assert status == 200 and json.loads(text)["cells"]


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_solutions_stay_folded_until_the_reader_opens_them(page, base_url, stem):
    """Every solution, code or prose, sits in a closed "Show solution" fold, and a click opens it."""
    page.goto(f"{base_url}notebooks/{stem}.html")
    folds = page.locator("section#solutions details")
    assert folds.count() > 0, f"{stem}: no folded solution"
    for index in range(folds.count()):
        fold = folds.nth(index)
        assert fold.evaluate("fold => !fold.open"), f"{stem}: solution {index} is open before a click"
        expect(fold.locator("summary").first).to_contain_text("Show solution")
    folds.first.locator("summary").first.click()
    assert folds.first.evaluate("fold => fold.open")


def test_next_and_previous_walk_the_book_in_order(page, base_url):
    """From the introduction, "next" visits every page in order; "previous" goes back."""
    page.goto(base_url + "index.html")
    visited = ["index.html"]
    while page.locator("a.right-next").count():
        href = page.locator("a.right-next").evaluate("link => link.href")
        page.locator("a.right-next").click()
        page.wait_for_url(href)
        visited.append(page.url.removeprefix(base_url))
    assert visited == READING_ORDER
    page.locator("a.left-prev").click()
    page.wait_for_url(base_url + READING_ORDER[-2])


def test_search_box_finds_the_residual_networks(page, base_url):
    """Typing a word into the search box lists the notebook about it."""
    page.goto(base_url + "index.html")
    page.locator(".search-button-field:visible").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.fill("residual")
    box.press("Enter")
    page.wait_for_url("**/search.html?q=residual*")
    expect(page.locator("#search-results a[href*='06_residual_networks']").first).to_be_visible()


def choose_mode(page, mode: str) -> None:
    """Pick light or dark in the theme's colour-mode menu, as a reader does."""
    page.locator(".theme-switch-button:visible").first.click()
    page.locator(f".theme-change-button[data-mode={mode}]:visible").first.click()
    expect(page.locator("html")).to_have_attribute("data-theme", mode)
    page.keyboard.press("Escape")  # close the menu
    page.mouse.move(0, 0)  # and its tooltip


def luminance(png: Path) -> tuple:
    """(mean, spread) of a screenshot's grey levels, 0-255."""
    stat = ImageStat.Stat(Image.open(png).convert("L"))
    return stat.mean[0], stat.stddev[0]


# The intro, a figure-heavy notebook and the summary; each with the element shown in the second screenshot.
SHOTS = {
    "index.html": "section#results table",
    "notebooks/06_residual_networks.html": None,
    "notebooks/09_summary.html": None,
}


@pytest.mark.parametrize("path", SHOTS)
def test_dark_mode_darkens_the_page_and_keeps_figures_readable(page, site_folder, base_url, path):
    """Light and dark screenshots differ and are not blank; in dark mode the headline figure stays a light card."""
    folder = site_folder.parent / "screenshots"
    folder.mkdir(exist_ok=True)
    stem = Path(path).stem
    focus = SHOTS[path] or f"section#{EXPECTED[stem][0]} .cell_output img"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base_url + path)
    shots = {}
    for mode in ("light", "dark"):
        choose_mode(page, mode)
        page.evaluate("window.scrollTo(0, 0)")
        shots[mode] = folder / f"{stem}-{mode}-top.png"
        page.screenshot(path=shots[mode])
        page.locator(focus).first.scroll_into_view_if_needed()
        page.screenshot(path=folder / f"{stem}-{mode}-figure.png")
        page.locator(focus).first.screenshot(path=folder / f"{stem}-{mode}-element.png")
    (light, light_spread), (dark, dark_spread) = luminance(shots["light"]), luminance(shots["dark"])
    assert shots["light"].read_bytes() != shots["dark"].read_bytes()
    assert light_spread > 10 and dark_spread > 10, "a blank screenshot"
    assert dark < light - 50, f"dark mode is not darker: mean grey {dark:.0f} against {light:.0f}"
    if SHOTS[path] is None:
        figure, spread = luminance(folder / f"{stem}-dark-element.png")
        assert figure > 150 and spread > 10, f"the figure reads badly in dark mode: mean grey {figure:.0f}"


def test_checks_fail_on_a_page_with_a_missing_image(page, site_folder, serve_folder, tmp_path):
    """A copy of the book with one figure of 06 deleted and 05's page gone: the checks report both."""
    site, checked, removed = (
        tmp_path / "site",
        "notebooks/06_residual_networks.html",
        "notebooks/05_deeper_plain_networks.html",
    )
    shutil.copytree(site_folder, site)
    image = (site / checked).read_text().split('src="../_images/', 1)[1].split('"', 1)[0]
    (site / "_images" / image).unlink()
    (site / removed).unlink()
    with serve_folder(site) as url:
        problems = page_problems(page, url + checked)
    assert any(p.startswith("image not shown") and image in p for p in problems), problems
    assert any(p.startswith("HTTP 404") and image in p for p in problems), problems
    assert any(p.startswith("link to") and removed in p for p in problems), problems
