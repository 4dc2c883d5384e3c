"""The website: Jupyter Book builds from the executed notebooks with warnings as errors, and headless
Chromium opens the index and every notebook page: figures rendered, no error output, screenshots kept."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from dlbook.run import build_site, toc_files
from tests.conftest import EXECUTED, ROOT

SHOTS = ROOT / "_build" / "screenshots"
PAGES = ["book/intro"] + [f for f in toc_files(ROOT) if f.startswith("notebooks/")]


@pytest.fixture(scope="module")
def html() -> Path:
    return build_site(ROOT, EXECUTED, strict=True)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def browse(url: str, shot: Path) -> str:
    """Load a page in headless Chromium: save a screenshot and return the DOM after scripts ran."""
    exe = chromium()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             "--virtual-time-budget=5000"]
    with tempfile.TemporaryDirectory() as profile:
        common = [exe, *flags, f"--user-data-dir={profile}"]
        subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,1600", url],
                       capture_output=True, timeout=120, check=True)
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                             timeout=120, check=True)
    return dom.stdout


def test_every_page_is_built(html):
    for page in PAGES + ["book/setup", "book/book-map"]:
        assert (html / f"{page}.html").is_file(), f"{page}.html missing"
    assert (html / "search.html").is_file(), "search page"
    assert (html / "index.html").is_file()


def test_maths_is_served_from_the_build(html):
    """No CDN: the pages load MathJax from _static, so maths renders offline."""
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    page = (html / f"{PAGES[1]}.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, re.I)
    assert scripts and all("://" not in s for s in scripts), scripts


def test_notebook_pages_have_launch_and_download_buttons(html):
    page = (html / f"{PAGES[1]}.html").read_text(encoding="utf-8")
    assert "colab.research.google.com" in page and "mybinder.org" in page
    assert ".ipynb" in page and "download" in page.lower()
    assert "github.com" in page, "repository link"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: Path(p).name)
def test_page_in_browser(html, page):
    if chromium() is None:
        pytest.skip("no Chromium on this machine (make test installs it when run as root on Debian); "
                    "the website was built but not opened in a browser")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{Path(page).name}.png"
    dom = browse((html / f"{page}.html").as_uri(), shot)
    assert "<main" in dom or "bd-main" in dom, "the page's main content was rendered"
    assert "Traceback (most recent call last)" not in dom and "output traceback" not in dom
    assert not re.search(r'class="[^"]*output stderr', dom), "an error or warning was printed"
    source = (html / f"{page}.html").read_text(encoding="utf-8")
    if 'class="math' in source:  # MathJax ran: rendered maths, no raw LaTeX delimiters left
        assert "<mjx-container" in dom, "maths on this page was not rendered by MathJax"
        raw = re.findall(r'class="math[^"]*">\s*(\\\(|\\\[|\$)', dom)
        assert not raw, f"{len(raw)} formulas left as raw LaTeX"
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.getextrema()[0] < img.getextrema()[1], "the screenshot is blank"
    if page.startswith("notebooks/"):
        figures = re.findall(r'<img[^>]+src="([^"]*_images/[^"]+\.png)"', dom)
        assert figures, "no figure on a notebook page"
        for src in figures:
            path = (html / page).parent / src
            assert path.is_file() and Image.open(path).size[0] > 50, f"figure {src} did not render"
