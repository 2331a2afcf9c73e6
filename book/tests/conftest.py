"""Fixtures for the book's browser tests: the built site served on 127.0.0.1, and Debian's chromium for Playwright."""

import os
import re
import sys
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("BOOK_SITE", BOOK / "_build" / "html"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
sys.path.insert(0, str(BOOK))  # the tests import book/budget_pages.py and book/stage.py
README = BOOK.parent / "README.md"
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file server that logs nothing."""

    def log_message(self, *args):
        pass


@contextmanager
def serve(folder):
    """Serve `folder` on 127.0.0.1 at a free port while the block runs; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_folder():
    """The built site (book/_build/html, or $BOOK_SITE)."""
    if not (SITE / "index.html").exists():
        pytest.skip(f"no built book at {SITE}: run `make book`")
    return SITE


@pytest.fixture(scope="session")
def base_url(site_folder):
    """The built site's URL, served for the whole session (pytest-playwright's contexts use it as their base)."""
    with serve(site_folder) as url:
        yield url


@pytest.fixture(scope="session")
def serve_folder():
    """serve(folder): a context manager that serves another folder, yielding its URL."""
    return serve


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Launch Debian's chromium, not a browser downloaded by Playwright."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium")
    return {"executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def readme_links():
    """Every link and image target of README.md, in order: relative paths into the repository, and URLs."""
    links = MARKDOWN_LINK.findall(README.read_text())
    assert links, "README.md has no links"
    return links
