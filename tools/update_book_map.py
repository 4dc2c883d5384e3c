"""Render and check book/book-map.md: every section of the printed book -> the page and heading that cover it.

    python tools/update_book_map.py          # rewrite the "covered by" cells of book/book-map.md
    python tools/update_book_map.py --check  # exit 1 if a cell is out of date or names a missing heading

The last column ("covered by") of each table row holds items separated by "; ":

- a link to a heading of a page in _toc.yml, which this tool writes:
  ``[setup › 4. conda](setup.md#4-conda)``, ``[ch03/01_tensors › 1. Creating tensors](../notebooks/...#...)``.
  By hand, write a short form in backticks, ``book/setup#4-conda`` or ``ch03/01_tensors#1-creating-tensors``,
  and run the tool: it checks the heading and writes the link, labelled with the heading's text;
- a page that is not in _toc.yml yet: ``notebooks/ch05_rnn/01_rnn_lstm_gru`` in backticks, rendered
  with "(planned)"; an anchor (``...#slug``) may be given and is checked once the page exists;
- text, e.g. "not covered: <why>", around any of the above.

Notebooks are named by chapter folder and file (``ch03/06_mlp_and_activations``), never "notebook 3.6",
which would read as the printed book's §3.6.

An anchor is the slug MyST gives a heading of level 1-3 (``myst_heading_anchors: 3`` under
``sphinx: config:`` in _config.yml): myst_parser's own ``compute_unique_slug`` (``default_slugify`` of the
heading's text and inline code, maths left out, ``-1``, ``-2`` added to repeats within a page), after
parsing with the extensions of _config.yml. So ``--check`` fails, naming the row and the heading, when a
linked heading is renamed, and when a planned notebook enters _toc.yml without a heading named for it.
It is offline and takes about half a second.
"""
from __future__ import annotations

import difflib
import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
MAP = BOOK / "book-map.md"

SEP = " › "
# A rendered link to a local page: [label](../notebooks/chNN_x/NN_y.ipynb#anchor) or [label](name.md#anchor).
LINK = re.compile(r"\[(?P<label>(?:[^\]\\]|\\.)*)\]"
                  r"\((?P<href>(?:\.\./)?(?:notebooks/[\w/-]+\.ipynb|[\w-]+\.md)(?:#[^)\s]*)?)\)")
# A short form or planned page in backticks: `notebooks/ch05_rnn/01_x`, `ch03/01_tensors#a`, `book/setup#a`.
SHORT = re.compile(r"`(?P<path>notebooks/ch\d\d_\w+/\d\d_\w+|ch\d\d/\d\d_\w+|book/[\w-]+)"
                   r"(?:#(?P<anchor>[^`\s]+))?`(?: \(planned\))?")
ROW = re.compile(r"^\|(.*)\|\s*$")


class MapError(Exception):
    """A cell of the book map that cannot be rendered: it names the row and what is wrong."""


# --- pages and their headings ---------------------------------------------------------------------------

def toc_pages() -> set[str]:
    """The pages of _toc.yml, as paths without suffix relative to the root (``book/setup``)."""
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"(?:file|root):\s*(\S+)", text)}


def page_file(page: str) -> Path:
    """The source file of a page given without suffix (``notebooks/ch03_x/01_y`` or ``book/setup``)."""
    return ROOT / (page + (".ipynb" if page.startswith("notebooks/") else ".md"))


def short_name(page: str) -> str:
    """How the course names a page in prose: ``ch03/01_tensors`` for a notebook, ``setup`` for a book page."""
    parts = page.split("/")
    if parts[0] == "notebooks":
        return f"{parts[1].split('_')[0]}/{parts[2]}"
    return parts[-1]


@functools.lru_cache(maxsize=1)
def myst_config():
    """The MyST settings of _config.yml that decide the anchors: the extensions and the heading depth."""
    import yaml
    from myst_parser.config.main import MdParserConfig

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    extensions = set((config.get("parse") or {}).get("myst_enable_extensions") or [])
    # Jupyter Book 1 passes only some keys of `parse:` on to Sphinx; myst_heading_anchors must sit here.
    depth = ((config.get("sphinx") or {}).get("config") or {}).get("myst_heading_anchors", 0)
    return MdParserConfig(enable_extensions=extensions, heading_anchors=depth)


@functools.lru_cache(maxsize=1)
def _md_parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(myst_config(), RendererHTML)


def _markdown_sources(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in nb["cells"] if c["cell_type"] == "markdown"]
    return [path.read_text(encoding="utf-8")]


@functools.lru_cache(maxsize=None)
def _headings(path: Path, mtime: float) -> dict[str, str]:
    from markdown_it.tree import SyntaxTreeNode
    from myst_parser.mdit_to_docutils.base import compute_unique_slug

    slugs: dict[str, str] = {}
    for source in _markdown_sources(path):  # myst-nb parses each markdown cell, then renders them as one page
        for node in SyntaxTreeNode(_md_parser().parse(source)).walk():
            if node.type == "heading" and int(node.tag[1]) <= myst_config().heading_anchors:
                slugs[compute_unique_slug(node, slugs)] = node.children[0].content.strip()
    return slugs


def heading_slugs(path: Path) -> dict[str, str]:
    """Anchor -> heading source text for every heading of levels 1-3 of a notebook or Markdown page."""
    return _headings(path, path.stat().st_mtime)


# --- the table ------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One table row of the book map; ``line`` is its 1-based line number in the file."""
    line: int
    cells: list[str]

    @property
    def section(self) -> str:
        return self.cells[0].strip().strip("*")

    @property
    def covered(self) -> str:
        return self.cells[-1].strip()

    def name(self) -> str:
        zh = self.cells[1].strip().strip("*") if len(self.cells) > 1 else ""
        return f"§{self.section} {zh} (line {self.line})"


def split_row(line: str) -> list[str] | None:
    m = ROW.match(line)
    if not m:
        return None
    return re.split(r"(?<!\\)\|", m.group(1))


def rows(text: str) -> list[Row]:
    """The data rows of every table of the map (header and separator rows left out)."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        cells = split_row(line)
        first = cells[0].strip() if cells else ""
        if cells and len(cells) == 5 and first not in ("§", "") and not set(first) <= set("-:"):
            out.append(Row(i, cells))
    return out


def resolve(path: str, pages: set[str]) -> str | None:
    """The page (without suffix) meant by a link target or short form, or None for a short form of no page."""
    path = path.removeprefix("../").removesuffix(".ipynb").removesuffix(".md")
    if path.startswith("notebooks/") or path.startswith("book/"):
        return path
    if re.fullmatch(r"ch\d\d/\d\d_\w+", path):
        folder, stem = path.split("/")
        found = [p for p in pages if re.fullmatch(rf"notebooks/{folder}_\w+/{stem}", p)]
        return found[0] if found else None
    return f"book/{path}"  # a link relative to book/: name.md


def render_item(page: str, anchor: str | None, pages: set[str], row: Row, label: str = "") -> str:
    if page not in pages:
        return f"`{page}{'#' + anchor if anchor else ''}` (planned)"
    if not page_file(page).is_file():
        raise MapError(f"{row.name()}: {page} is in _toc.yml but {page_file(page).relative_to(ROOT)} is missing")
    if not anchor:
        raise MapError(f"{row.name()}: the link to {page} names no heading; add #anchor, one of: "
                       + ", ".join(heading_slugs(page_file(page))))
    slugs = heading_slugs(page_file(page))
    if anchor not in slugs:
        close = difflib.get_close_matches(anchor, list(slugs), n=3, cutoff=0.4)
        was = label.partition(SEP)[2].replace("\\", "")
        raise MapError(f"{row.name()}: {page_file(page).relative_to(ROOT)} has no heading with anchor "
                       f"#{anchor}" + (f" ({was!r})" if was else "") + "; was it renamed? "
                       + (f"Close: {', '.join('#' + c for c in close)}" if close else "")
                       + f". Fix the link in book/book-map.md and run {Path(__file__).relative_to(ROOT)}")
    href = (f"../{page}.ipynb" if page.startswith("notebooks/") else f"{Path(page).name}.md") + f"#{anchor}"
    label = (short_name(page) + SEP + slugs[anchor]).replace("[", r"\[").replace("]", r"\]").replace("|", r"\|")
    return f"[{label}]({href})"


def render_cell(cell: str, pages: set[str], row: Row) -> str:
    def link(m: re.Match) -> str:
        path, _, anchor = m.group("href").partition("#")
        return render_item(resolve(path, pages), anchor or None, pages, row, m.group("label"))

    def short(m: re.Match) -> str:
        page = resolve(m.group("path"), pages)
        if page is None:
            raise MapError(f"{row.name()}: `{m.group('path')}` is no notebook of _toc.yml; name a planned "
                           "notebook by its full path, `notebooks/chNN_topic/NN_name`")
        return render_item(page, m.group("anchor"), pages, row)

    # One pass over both patterns, so that a link just written is not read again as a short form.
    def item(m: re.Match) -> str:
        return link(LINK.fullmatch(m.group(0))) if m.group("l") else short(SHORT.fullmatch(m.group(0)))

    return re.sub(f"(?P<l>{LINK.pattern})|(?P<s>{SHORT.pattern})", item, cell)


def render(text: str, pages: set[str]) -> tuple[str, list[str]]:
    """The map with every "covered by" cell rendered, and the problems found (empty when all is well)."""
    lines = text.splitlines()
    problems = []
    for row in rows(text):
        try:
            new = render_cell(row.covered, pages, row)
        except MapError as error:
            problems.append(str(error))
            continue
        chapter = row.section.isdigit()  # a chapter's row may say "by section, below"
        if not new.strip() or "— —" in new \
                or not (chapter or LINK.search(new) or "(planned)" in new or new.startswith("not covered: ")):
            problems.append(f"{row.name()}: the 'covered by' cell neither links a heading nor names a planned "
                            "notebook nor starts with 'not covered: <why>'")
            continue
        cells = row.cells[:-1] + [f" {new} "]
        lines[row.line - 1] = "|" + "|".join(cells) + "|"
    return "\n".join(lines) + "\n", problems


def links(text: str) -> list[tuple[str, str]]:
    """Every (target, anchor) of a link to a local page in a Markdown text; anchor is '' when there is none."""
    out = []
    for m in re.finditer(r"\]\(([^)\s]+?\.(?:ipynb|md))(?:#([^)\s]*))?\)", text):
        out.append((m.group(1), m.group(2) or ""))
    return out


def broken_links(md_file: Path) -> list[str]:
    """Links of a Markdown page to a heading (``page.md#anchor``, ``nb.ipynb#anchor``) that does not exist."""
    problems = []
    for target, anchor in links(md_file.read_text(encoding="utf-8")):
        if not anchor or "://" in target:
            continue
        page = (md_file.parent / target).resolve()
        if not page.exists():
            problems.append(f"{md_file.relative_to(ROOT)}: {target} does not exist")
        elif anchor not in heading_slugs(page):
            problems.append(f"{md_file.relative_to(ROOT)}: {target} has no heading #{anchor}")
    return problems


def main() -> int:
    if myst_config().heading_anchors < 3:
        print("_config.yml: set sphinx.config.myst_heading_anchors to 3, or headings get no anchors to link to")
        return 1
    text = MAP.read_text(encoding="utf-8")
    new, problems = render(text, toc_pages())
    for problem in problems:
        print(f"book/book-map.md: {problem}")
    if problems:
        return 1
    if "--check" in sys.argv:
        if new != text:
            print("book/book-map.md is out of date: run python tools/update_book_map.py")
            return 1
        return 0
    MAP.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
