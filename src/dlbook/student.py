"""The student edition: every notebook with its solution cells (tagged `solution`) removed.

Everything else is kept: the install cell, the exercises with their self-checks, the prose. A teacher
hands out the result (`dlbook student OUT_DIR` or `make student`); the test suite re-runs the student
edition of the executed notebooks, so each one still runs top to bottom with its exercises unanswered.
"""
from __future__ import annotations

import json
from pathlib import Path

SOLUTION_TAG = "solution"


def strip_solutions(nb: dict, *, keep_outputs: bool = False) -> tuple[dict, int]:
    """Return a copy of a notebook without its solution cells, and how many were removed."""
    cells = [c for c in nb["cells"] if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    removed = len(nb["cells"]) - len(cells)
    out = {**nb, "cells": [json.loads(json.dumps(c)) for c in cells]}
    if not keep_outputs:
        for cell in out["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
    return out, removed


def write_student_edition(root: Path, notebooks: list[Path], out_dir: Path, *,
                          source: Path | None = None, keep_outputs: bool = False) -> dict[Path, int]:
    """Write the student edition of `notebooks` (paths relative to `root`, read from `source`,
    default `root`) under `out_dir`; return the number of solution cells removed per notebook."""
    source = Path(source or root)
    if Path(out_dir).resolve() in (source.resolve(), Path(root).resolve()):
        raise ValueError(f"the student edition must go to a folder of its own, not {out_dir}.")
    removed = {}
    for nb_path in notebooks:
        src = source / nb_path
        if not src.is_file():
            raise FileNotFoundError(f"{src} does not exist: run `dlbook run` first, or name the "
                                    "folder of the notebooks with --from.")
        nb, n = strip_solutions(json.loads(src.read_text(encoding="utf-8")),
                                keep_outputs=keep_outputs)
        dst = Path(out_dir) / nb_path
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(".tmp")
        tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(dst)
        removed[nb_path] = n
    return removed
