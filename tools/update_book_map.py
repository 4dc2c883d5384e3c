"""Refresh the last column of book/book-map.md: a link where the page exists in _toc.yml, 'planned' where not.

    python tools/update_book_map.py          # rewrite book/book-map.md
    python tools/update_book_map.py --check  # exit 1 if it is out of date (the test suite does this)
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "book" / "book-map.md"
TARGET = re.compile(r"((?:notebooks|book)/[\w/.-]+?)(?:\.ipynb|\.md)?(?=[)`\s|])")


def toc_pages() -> set[str]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"(?:file|root):\s*(\S+)", text)}


def cell_for(target: str, pages: set[str]) -> str:
    if target in pages:
        ext = ".ipynb" if target.startswith("notebooks/") else ".md"
        rel = f"../{target}{ext}" if target.startswith("notebooks/") else f"{Path(target).name}{ext}"
        return f"[{Path(target).name}]({rel})"
    return f"`{target}` (planned)"


def render(text: str, pages: set[str]) -> str:
    out = []
    for line in text.splitlines():
        cols = line.split(" | ")
        if line.startswith("| ") and len(cols) == 5:
            m = TARGET.search(cols[4] + " ")
            if m:
                cols[4] = cell_for(m.group(1), pages) + " |"
                line = " | ".join(cols)
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> int:
    text = MAP.read_text(encoding="utf-8")
    new = render(text, toc_pages())
    if "--check" in sys.argv:
        if new != text:
            print("book/book-map.md is out of date: run python tools/update_book_map.py")
            return 1
        return 0
    MAP.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
