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
