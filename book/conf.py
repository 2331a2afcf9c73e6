"""Sphinx configuration of the book (sources staged by book/stage.py):
the committed notebooks as they are, never re-executed.
"""

project = "Raising CIFAR-10 accuracy, step by step"
author = "the collection's authors"
extensions = ["myst_nb"]
exclude_patterns = ["README.md"]  # included by index.md and running.md, not a page of its own

nb_execution_mode = "off"  # the committed outputs are the book; nothing is re-run
nb_render_markdown_format = "gfm"  # the verdict tables are text/markdown outputs
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "use_download_button": True,  # each page links its source: the .ipynb for a notebook
    "show_navbar_depth": 1,
}
html_context = {"default_mode": "auto"}  # follow the reader's system until they pick light or dark in the menu
html_favicon = "_static/favicon.svg"  # else browsers ask for /favicon.ico and log a 404
language = "en"  # <html lang="en">, so that a screen reader reads the book in English (Sphinx's default, made explicit)


def name_the_sidebar_toggles(app, pagename, templatename, context, doctree):
    """Give the sidebar's expand/collapse toggles an accessible name.

    pydata-sphinx-theme writes, for each sidebar entry with sub-pages (the budgets), a <details><summary> holding only
    a decorative chevron, so that a screen reader announces a nameless control (axe: summary-name, serious). Wrap its
    generate_toctree_html so that each such <summary> says what it shows: "Pages under Budgets".
    """
    generate = context.get("generate_toctree_html")
    if generate is None:
        return

    def named(kind, *args, **kwargs):
        soup = generate(kind, *args, **kwargs)
        if kind == "sidebar":
            for summary in soup.select("li.has-children > details > summary"):
                link = summary.find_parent("li").find("a", recursive=False)
                if link is not None and not summary.get_text(strip=True) and not summary.get("aria-label"):
                    summary["aria-label"] = f"Pages under {link.get_text(strip=True)}"
        return soup

    context["generate_toctree_html"] = named


def setup(app):
    # After pydata-sphinx-theme's own html-page-context handler (priority 500) has put generate_toctree_html there.
    app.connect("html-page-context", name_the_sidebar_toggles, priority=900)
