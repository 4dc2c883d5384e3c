"""Write a notebook (.ipynb, no outputs) from a percent-format script: the authoring tool of the book.

    python tools/py2nb.py source.py notebooks/ch03_fully_connected/04_linear_regression.ipynb

Cells start with `# %%` (code) or `# %% [markdown]` (markdown, each line prefixed by `# `).
Tags go on the marker: `# %% tags=["parameters"]`. A first cell `# %% [meta]` holding JSON becomes
the notebook's `dlbook` metadata (claims, full_claims, budget_seconds).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MARK = re.compile(r"^# %%(?: \[(markdown|meta)\])?(?: tags=(\[.*\]))?\s*$")


def convert(text: str) -> dict:
    """Parse a percent-format script into a notebook dict."""
    cells, meta = [], {}
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "meta":
            meta.update(json.loads("\n".join(l[2:] if l.startswith("# ") else l.lstrip("#")
                                             for l in lines)))
            return
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in
                             body.splitlines())
        cell = {"cell_type": kind, "metadata": {"tags": tags} if tags else {},
                "source": body.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.splitlines():
        m = MARK.match(line)
        if m:
            flush()
            kind = m.group(1) or "code"
            tags = json.loads(m.group(2)) if m.group(2) else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return {
        "cells": cells,
        "metadata": {
            "dlbook": meta,
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main() -> None:
    src, dst = map(Path, sys.argv[1:3])
    nb = convert(src.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"c{i:03d}"
    dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {dst} ({len(nb['cells'])} cells)")


if __name__ == "__main__":
    main()
