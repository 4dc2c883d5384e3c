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
    terminalreporter.section("notebook durations (quick tier; budgets are CPU seconds)")
    terminalreporter.write_line(f"{'CPU s':>7} / budget {'wall s':>8}  notebook")
    for r in sorted(rows, key=lambda r: r["notebook"]):
        terminalreporter.write_line(f"{r.get('cpu_seconds', 0):7.1f} / {r['budget']:<6.0f} "
                                    f"{r['seconds']:8.1f}  {r['notebook']}")
    terminalreporter.write_line(f"{sum(r.get('cpu_seconds', 0) for r in rows):7.1f} CPU s, "
                                f"{sum(r['seconds'] for r in rows):.1f} wall s in total")
