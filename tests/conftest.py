"""Shared fixtures: the project root, its notebooks, and where executed copies and reports go."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlbook.run import toc_notebooks

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"
REPORTS = ROOT / "_build" / "reports"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def notebooks() -> list[Path]:
    """The notebooks of _toc.yml, relative to the root."""
    return toc_notebooks(ROOT)


def pytest_terminal_summary(terminalreporter):
    """Print how long each notebook took (written by tests/notebooks/test_run_notebooks.py)."""
    files = sorted(REPORTS.glob("*.json")) if REPORTS.is_dir() else []
    rows = [json.loads(f.read_text()) for f in files]
    rows = [r for r in rows if "seconds" in r and "notebook" in r]
    if not rows:
        return
    terminalreporter.section("notebook durations (quick tier, wall seconds)")
    for r in sorted(rows, key=lambda r: r["notebook"]):
        terminalreporter.write_line(f"{r['seconds']:7.1f} s / {r['budget']:.0f}  {r['notebook']}")
    terminalreporter.write_line(f"{sum(r['seconds'] for r in rows):7.1f} s in total")
