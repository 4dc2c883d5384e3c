"""The book map (book/book-map.md): every numbered section of the printed book, with its title and page as
printed, and the heading of this course that covers it; every link to a heading resolves. The map is rendered
and checked by tools/update_book_map.py (test_conventions.py checks that it is current)."""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, notebooks


def _load_tool():
    spec = importlib.util.spec_from_file_location("update_book_map", ROOT / "tools" / "update_book_map.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
MAP_TEXT = tool.MAP.read_text(encoding="utf-8")
ROWS = tool.rows(MAP_TEXT)
PRINTED = [r for r in ROWS if re.fullmatch(r"\d+(\.\d+)*", r.section)]  # the printed book's sections
BOOK_PAGES = sorted((ROOT / "book").glob("*.md"))


def _spec_file() -> Path | None:
    """The content spec of the printed book, where this checkout has it (it lives beside the repository)."""
    candidates = [os.environ.get("DLBOOK_SPEC", ""), ROOT / "shared" / "spec" / "book-liao-2017.md",
                  ROOT.parent / "shared" / "spec" / "book-liao-2017.md"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


SPEC = _spec_file()


def spec_toc() -> list[tuple[str, str, str, str]]:
    """(section, Chinese title, English title, page) of every entry of the spec's master index, chapters too."""
    text = SPEC.read_text(encoding="utf-8")
    index = text[text.index("## 1. Master index"):]
    index = index[:index.index("\n## ", 1)]
    out = []
    for line in index.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"(\*\*Ch\.\d\*\*|\d+(\.\d+)*)", cells[0]):
            out.append((cells[0].strip("*").removeprefix("Ch."), cells[1], cells[2], cells[3]))
    return out


def clean(cell: str) -> str:
    return cell.strip().strip("*").strip()


@pytest.mark.skipif(SPEC is None, reason="the book's content spec (shared/spec/book-liao-2017.md) is not here")
def test_every_section_of_the_printed_toc_is_in_the_map_as_printed():
    toc = spec_toc()
    assert len(toc) > 130 and {s for s, *_ in toc} >= {"1", "3.1.6", "7.4.4"}, "could not parse the spec's TOC"
    in_map = {r.section: r for r in PRINTED}
    missing = [f"§{s} {zh}" for s, zh, _, _ in toc if s not in in_map]
    assert not missing, f"sections of the printed book missing from the book map: {missing}"
    wrong = [f"§{s}: map has {clean(in_map[s].cells[1])!r} p. {clean(in_map[s].cells[3])}, "
             f"printed {zh!r} p. {page}" for s, zh, _, page in toc
             if (clean(in_map[s].cells[1]), clean(in_map[s].cells[3])) != (zh, page)]
    assert not wrong, "Chinese titles or pages differ from the printed table of contents:\n" + "\n".join(wrong)
    extra = sorted(set(in_map) - {s for s, *_ in toc})
    assert not extra, f"the book map has sections the printed book does not: {extra}"


def test_sections_are_in_printed_order_and_chapters_1_to_7_are_all_there():
    keys = [tuple(int(n) for n in r.section.split(".")) for r in PRINTED]
    assert keys == sorted(keys) and len(keys) == len(set(keys)), "sections out of order or repeated"
    assert {k[0] for k in keys} == set(range(1, 8))
    assert all(len(k) == 1 or k[:-1] in keys for k in keys), "a subsection whose parent section is missing"


def test_every_notebook_of_the_toc_is_linked_to_one_of_its_headings():
    linked = set()
    for row in ROWS:
        for m in tool.LINK.finditer(row.covered):
            path, _, anchor = m.group("href").partition("#")
            if anchor:
                linked.add(tool.resolve(path, tool.toc_pages()))
    unlinked = [str(nb) for nb in notebooks() if str(nb.with_suffix("")) not in linked]
    assert not unlinked, f"notebooks that no row of the book map links to: {unlinked}"


def test_every_link_names_a_heading_that_exists():
    pages = tool.toc_pages()
    for row in ROWS:
        for m in tool.LINK.finditer(row.covered):
            path, _, anchor = m.group("href").partition("#")
            page = tool.resolve(path, pages)
            assert anchor, f"{row.name()}: {path} is linked without a heading"
            assert page in pages, f"{row.name()}: {path} is not in _toc.yml"
            slugs = tool.heading_slugs(tool.page_file(page))
            assert anchor in slugs, f"{row.name()}: {path} has no heading #{anchor}"
            assert m.group("label").replace("\\", "").endswith(slugs[anchor]), f"{row.name()}: stale label"
    assert tool.render(MAP_TEXT, pages)[1] == []


def test_every_row_says_where_or_why_not():
    assert "— —" not in MAP_TEXT
    for row in PRINTED:
        cell = row.covered
        if "." not in row.section:  # a chapter
            assert cell and cell != "—", f"{row.name()}: empty"
            continue
        assert (tool.LINK.search(cell) or "(planned)" in cell or cell.startswith("not covered: ")), \
            f"{row.name()}: {cell!r} neither links a heading, nor names a planned notebook, nor says why not"
        if cell.startswith("not covered: "):
            assert len(cell) > len("not covered: ") + 20, f"{row.name()}: say why it is not covered"


def test_a_renamed_heading_is_reported_with_its_row():
    row = next(r for r in PRINTED if r.section == "3.1.6")
    anchor = tool.LINK.search(row.covered).group("href").partition("#")[2]
    broken = MAP_TEXT.replace(f"#{anchor})", "#7-saving-and-loading-checkpoints)")
    _, problems = tool.render(broken, tool.toc_pages())
    assert len(problems) == 1
    assert "§3.1.6" in problems[0] and "#7-saving-and-loading-checkpoints" in problems[0], problems


def test_a_planned_notebook_that_appears_must_name_its_heading(monkeypatch):
    # every notebook of the map exists today: plant a planned one in a copy of the map
    row = PRINTED[-1]
    planned = "notebooks/ch10_future/01_planned"
    text = MAP_TEXT.replace(f"| {row.covered} |", f"| `{planned}` (planned) |", 1)
    assert text != MAP_TEXT
    existing = ROOT / "notebooks" / "ch03_fully_connected" / "01_tensors.ipynb"
    monkeypatch.setattr(tool, "page_file", lambda page: existing if page == planned else
                        ROOT / (page + (".ipynb" if page.startswith("notebooks/") else ".md")))
    _, problems = tool.render(text, tool.toc_pages() | {planned})
    assert len(problems) >= 1 and f"§{row.section}" in problems[0] and "names no heading" in problems[0]


def test_slugs_are_the_ones_myst_makes(tmp_path):
    """Pinned against a Jupyter Book build with myst_heading_anchors: 3 (the links resolved there)."""
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## 3. Shapes: `view`, `reshape`\n\n## 5. An $L$-layer network\n\n"
                    "## Summary\n\n### 3.1 All-zero *and* constant\n\n## Summary\n\n#### Too deep\n\n"
                    "## 中文标题 (Chinese title)\n", encoding="utf-8")
    assert list(tool.heading_slugs(page)) == [
        "title", "3-shapes-view-reshape", "5-an--layer-network", "summary", "31-all-zero-and-constant",
        "summary-1", "中文标题-chinese-title"]


def test_config_gives_headings_anchors():
    # Jupyter Book 1 passes `sphinx: config:` on to MyST, but not `parse: myst_heading_anchors`.
    assert tool.myst_config().heading_anchors >= 3


@pytest.mark.parametrize("page", BOOK_PAGES, ids=lambda p: p.name)
def test_book_pages_link_to_existing_headings(page):
    assert not tool.broken_links(page)


@pytest.mark.parametrize("page", BOOK_PAGES, ids=lambda p: p.name)
def test_book_pages_name_notebooks_by_folder_and_file(page):
    """"notebook 3.6" reads as the printed §3.6; write ch03/06_mlp_and_activations instead."""
    text = page.read_text(encoding="utf-8")
    found = re.findall(r"\bnotebooks?\s+\d+(?:\.\d+)?\b", text, flags=re.IGNORECASE)
    assert not found, f"{page.name} numbers notebooks: {found}; name them by folder and file, e.g. ch03/06_..."
