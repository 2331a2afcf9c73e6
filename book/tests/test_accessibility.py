"""The book for a screen reader and a keyboard, in Debian's chromium: axe-core on every page in light and dark mode,
every control reached with Tab and shown with a visible focus ring, links, folds and search worked with Enter or
Space alone, and images that say what they show.

axe-core comes inside the axe-playwright-python wheel (requirements-book.txt), never fetched at run time. Its
color-contrast rule (serious) checks the text of every page in both modes; it cannot read text drawn inside the PNG
figures (axis labels, legends), which only their plotting code can vouch for.
"""

import warnings
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest

pytest.importorskip("axe_playwright_python", reason="the book's tools are not installed: make install-book")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from test_site import EXPECTED, READING_ORDER  # noqa: E402  (the page list, kept in one place)

PAGES = [*READING_ORDER, "search.html", "genindex.html"]
MODES = ("light", "dark")
AXE = Axe()  # axe.min.js as the wheel bundles it
FAILING_IMPACTS = {"serious", "critical"}
# Rules not held against the book, each with why its fix is out of the project's hands. None today: every serious or
# critical violation axe found came from something book/ can fix (see book/conf.py and book/_static/book.css).
WAIVED_RULES: dict = {}


def open_in_mode(page, url: str, mode: str) -> None:
    """Load `url` in light or dark mode, as the theme keeps a reader's choice (localStorage 'mode'), before any
    script runs, so that the page is never seen in the other mode."""
    page.add_init_script(f"localStorage.setItem('mode', '{mode}')")
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-theme", mode)


def summary(violation: dict) -> str:
    """One line per violation: rule, impact, how many nodes, the first node's target and what axe says is wrong."""
    node = violation["nodes"][0]
    why = " ".join(node.get("failureSummary", "").split())
    return f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes), e.g. {node['target']}: {why}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_nothing_serious(page, base_url, path, mode):
    """axe-core, every rule it runs by default (WCAG 2 A/AA and best practices, color-contrast among them): no
    serious or critical violation, light or dark, but for WAIVED_RULES."""
    page.set_viewport_size({"width": 1280, "height": 900})
    open_in_mode(page, base_url + path, mode)
    violations = AXE.run(page).response["violations"]
    failing = [summary(v) for v in violations if v["impact"] in FAILING_IMPACTS and v["id"] not in WAIVED_RULES]
    assert not failing, f"axe-core on {path}, {mode} mode:\n" + "\n".join(failing)


# What a screen reader says for each <img>: its alt, which must describe it, not be empty nor the image's file name.
IMAGES = """images => images.map(i => ({
    src: i.getAttribute('src') || '', alt: i.getAttribute('alt'), figure: !!i.closest('.cell_output'),
}))"""
# KNOWN, TEMPORARY EXCEPTION: the notebooks' output figures (an <img> inside .cell_output on a notebook page) carry
# as alt text only the path of their PNG (myst-nb writes the image's path when an output has no description, so
# axe's image-alt rule passes them while a screen reader reads out "../_images/74db1daf....png"). Their descriptions
# come from the plotting code (issue 46, item 2): cifar_helpers/figure_text.py puts each figure's description into
# its PNG output's metadata, and book/stage.py hands it to myst-nb as the image's alt; the committed notebooks carry
# them once re-executed. The notebooks named here are not re-executed yet (they wait for their runs); take each out as
# it is re-executed, and the set out when it is empty: every other notebook's figures must be described in a
# sentence or more (described, below), not only named.
NOT_YET_DESCRIBED = {"10_speedrun"}
FIGURE_WORDS = 8  # a figure's description, at the least: what it shows and what to see in it takes a sentence


def undescribed(image: dict) -> bool:
    """An image whose alt is missing, empty or only its own file name."""
    alt = (image["alt"] or "").strip()
    name = PurePosixPath(urlsplit(image["src"]).path).name
    return not alt or alt in (image["src"], name) or PurePosixPath(alt).name == name


def described(image: dict) -> bool:
    """A notebook figure whose alt is a description: not its file name, and a sentence at the least."""
    return not undescribed(image) and len(image["alt"].split()) >= FIGURE_WORDS


def test_every_image_says_what_it_shows(page, base_url):
    """Each image's alt text describes it, each notebook figure's in a sentence or more; the figures of the notebooks
    not yet re-executed are for now a named exception (above)."""
    missing, figures = [], []
    for path in PAGES:
        page.goto(base_url + path)
        for image in page.eval_on_selector_all("img", IMAGES):
            notebook_figure = path.startswith("notebooks/") and image["figure"]
            if notebook_figure and not described(image):
                found = figures if PurePosixPath(path).stem in NOT_YET_DESCRIBED else missing
            elif not notebook_figure and undescribed(image):
                found = missing
            else:
                continue
            found.append(f"{path}: {image['src']} (alt {image['alt']!r})")
    assert not missing, "images with no description:\n" + "\n".join(missing)
    if figures:
        warnings.warn(
            f"{len(figures)} notebook figures have no description yet (issue 46, item 2), e.g. {figures[0]}",
            stacklevel=1,
        )


# Everything a reader can reach with Tab: shown, not inside a closed fold (but a fold's own summary), not taken out
# of the tab order. Each gets a data-a11y key, so that the walk can name what it reached, and window.a11yRings, the
# rings it (or a child of it, or a parent that holds no other tab stop) shows at rest: a focus ring is one that
# appears on focus, not the sidebar's mark of the current page. A ring is an outline or a box-shadow of some width,
# with its contrast against the background behind it.
TAB_STOPS = """() => {
    const rgba = text => { const m = text.match(/rgba?\\(([^)]*)\\)/); if (!m) return [0, 0, 0, 0];
        const v = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
    const background = node => { for (; node; node = node.parentElement) {
        const c = rgba(getComputedStyle(node).backgroundColor); if (c[3] > 0.5) return c; }
        return [255, 255, 255, 1]; };
    const luminance = c => { const f = x => (x /= 255) <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
    const contrast = (c, bg) => { const mixed = [0, 1, 2].map(k => c[k] * c[3] + bg[k] * (1 - c[3]));
        const [a, b] = [luminance(mixed), luminance(bg)].sort((x, y) => y - x); return (a + 0.05) / (b + 0.05); };
    window.a11yRings = e => {
        const rings = [], own = e.querySelectorAll('[data-a11y]').length + 1, holders = [];
        for (let a = e.parentElement; a && a.querySelectorAll('[data-a11y]').length === own; a = a.parentElement)
            holders.push(a);
        [e, ...e.querySelectorAll('*'), ...holders].forEach((node, n) => {
            const s = getComputedStyle(node), bg = background(node.parentElement || node);
            if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                rings.push({name: `${n} outline ${s.outlineWidth} ${s.outlineColor}`,
                            contrast: contrast(rgba(s.outlineColor), bg)});
            const shadows = /(rgba?\\([^)]*\\))\\s+(-?[\\d.]+)px\\s+(-?[\\d.]+)px\\s+([\\d.]+)px\\s+(-?[\\d.]+)px/g;
            for (const m of s.boxShadow.matchAll(shadows)) {
                const width = Math.max(Math.abs(+m[2]), Math.abs(+m[3]), +m[4], +m[5]);
                if (width > 0)
                    rings.push({name: `${n} box-shadow ${width}px ${m[1]}`, contrast: contrast(rgba(m[1]), bg)});
            }
        });
        return rings;
    };
    const stops = [...document.querySelectorAll(
        'a[href], button:not([disabled]), summary, input:not([type=hidden]), select, textarea, [tabindex]'
    )].filter(e => e.tabIndex >= 0 && !e.inert && e.checkVisibility({visibilityProperty: true})
        && !(e.closest('details:not([open])')
             && e.closest('details:not([open])').querySelector(':scope > summary') !== e));
    stops.forEach((e, i) => { e.dataset.a11y = i; });
    window.a11yAtRest = stops.map(e => new Set(window.a11yRings(e).map(r => r.name)));
    return stops.map((e, i) => {
        const text = (e.getAttribute('aria-label') || e.textContent || e.getAttribute('href') || '').trim();
        return `${i}: <${e.tagName.toLowerCase()} class="${e.className}"> ${text.split(/\\s+/).slice(0, 6).join(' ')}`;
    });
}"""
# The focused element, once its transitions have run, and whether a ring has appeared on it that stands 3:1 against
# the background behind it (WCAG 1.4.11).
FOCUSED = """async () => {
    const e = document.activeElement;
    if (!e || e === document.body || !e.dataset.a11y) return {key: null};
    await Promise.all(e.getAnimations({subtree: true}).map(a => a.finished.catch(() => null)));
    const rest = window.a11yAtRest[+e.dataset.a11y];
    const rings = window.a11yRings(e).filter(r => !rest.has(r.name));
    return {key: +e.dataset.a11y, ring: rings.some(r => r.contrast >= 3),
            seen: rings.map(r => `${r.name} ${r.contrast.toFixed(1)}:1`).join(', ') || 'none'};
}"""


def walk(page) -> tuple:
    """Press Tab from the top of the page until focus has been round once: (every tab stop, the keys reached in
    order, the stops reached without a visible focus ring)."""
    stops = page.evaluate(TAB_STOPS)
    reached, unringed = [], []
    for _ in range(len(stops) + 10):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["key"] is None:
            continue
        if focused["key"] in reached:
            break
        reached.append(focused["key"])
        if not focused["ring"]:
            unringed.append(f"{stops[focused['key']]} (rings: {focused['seen']})")
    return stops, reached, unringed


# The walk in light mode on every page; in dark mode on a page of each kind (the rings' colours change with it).
DARK_WALKS = (
    "index.html",
    "notebooks/06_residual_networks.html",
    "budgets/index.html",
    "docs/book.html",
    "search.html",
)
WALKS = [*((path, "light") for path in PAGES), *((path, "dark") for path in DARK_WALKS)]


@pytest.mark.parametrize(("path", "mode"), WALKS)
def test_tab_reaches_every_control_with_a_visible_focus_ring(page, base_url, path, mode):
    """Tab alone visits every link, button, fold and the search, each showing where the focus is."""
    page.set_viewport_size({"width": 1280, "height": 900})
    open_in_mode(page, base_url + path, mode)
    stops, reached, unringed = walk(page)
    unreached = [stop for index, stop in enumerate(stops) if index not in reached]
    assert not unreached, "not reached with Tab:\n" + "\n".join(unreached)
    assert not unringed, "focused without a visible focus ring:\n" + "\n".join(unringed)


def tab_to(page, selector: str, presses: int = 400) -> None:
    """Press Tab until the focused element matches `selector`."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("selector => !!document.activeElement?.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize(
    ("path", "link"),
    [
        ("index.html", "a.right-next"),  # the next page
        ("index.html", "article a.reference.internal[href^='notebooks/']"),  # a link in the text
        ("notebooks/06_residual_networks.html", ".bd-sidenav a[href$='09_summary.html']"),  # the sidebar
        ("notebooks/06_residual_networks.html", "a.left-prev"),  # the previous page
    ],
)
def test_enter_follows_a_link(page, base_url, path, link):
    """A link reached with Tab opens with Enter."""
    page.goto(base_url + path)
    tab_to(page, link)
    href = page.evaluate("() => document.activeElement.href")
    page.keyboard.press("Enter")
    page.wait_for_url(href)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_enter_and_space_open_and_close_every_fold(page, base_url, stem):
    """Each fold (the solutions, the hidden cells, the sidebar's sub-lists) opens with Enter and closes with Space,
    its content shown and hidden again; the first solution is reached with Tab."""
    page.goto(f"{base_url}notebooks/{stem}.html")
    tab_to(page, "section#solutions details > summary")
    assert page.evaluate("() => document.activeElement.parentElement.closest('details').open") is False
    folds = page.locator("details:has(> summary):visible")
    assert folds.count() > 0
    for index in range(folds.count()):
        fold, label = folds.nth(index), folds.nth(index).locator("> summary")
        was_open = fold.evaluate("fold => fold.open")
        label.focus()
        page.keyboard.press("Enter")
        assert fold.evaluate("fold => fold.open") is not was_open, f"{stem}: Enter did not work fold {index}"
        page.keyboard.press("Space")
        assert fold.evaluate("fold => fold.open") is was_open, f"{stem}: Space did not work fold {index}"
    solution = page.locator("section#solutions details").first
    solution.locator("> summary").focus()
    page.keyboard.press("Space")
    expect(solution.locator("> :not(summary)").first).to_be_visible()


def test_search_with_the_keyboard_alone(page, base_url):
    """Tab to the search button, Enter opens the search box with the cursor in it; typing and Enter list the
    results, and Tab and Enter open one."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base_url + "index.html")
    tab_to(page, ".search-button-field")
    page.keyboard.press("Enter")
    box = page.locator("#pst-search-dialog input[name=q]")
    expect(box).to_be_focused()
    page.keyboard.type("residual")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search.html?q=residual*")
    expect(page.locator("#search-results a[href*='06_residual_networks']").first).to_be_visible()
    page.evaluate("() => document.activeElement.blur()")
    tab_to(page, "#search-results a[href*='06_residual_networks']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/06_residual_networks.html*")


def test_checks_catch_a_lost_focus_ring_faint_text_and_a_file_name_for_alt(page, base_url):
    """The same checks, on a page spoiled in the browser: focus rings taken away and a paragraph in faint grey; and
    an alt that is only the image's file name."""
    page.set_viewport_size({"width": 1280, "height": 900})
    open_in_mode(page, base_url + "docs/book.html", "light")
    page.add_style_tag(
        content="*:focus-visible, *:focus-visible *, *:focus-within "
        "{ outline: none !important; box-shadow: none !important } "
        "article p { color: #ccc !important }"
    )
    violations = {v["id"]: v["impact"] for v in AXE.run(page).response["violations"]}
    assert violations.get("color-contrast") == "serious", violations
    stops, reached, unringed = walk(page)
    assert len(unringed) == len(reached) > 20, unringed
    assert undescribed({"src": "../_images/ab12.png", "alt": "../_images/ab12.png", "figure": True})
    assert undescribed({"src": "docs/headline.png", "alt": "headline.png", "figure": False})
    assert undescribed({"src": "docs/headline.png", "alt": " ", "figure": False})
    assert not undescribed({"src": "docs/headline.png", "alt": "Accuracy at each step", "figure": False})
    assert not described({"src": "../_images/ab12.png", "alt": "Training curves", "figure": True})
    assert described(
        {"src": "../_images/ab12.png", "alt": "Training curves of one run: baseline, over 20 epochs.", "figure": True}
    )
