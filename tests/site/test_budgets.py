"""Chapter budgets of the quick tier, from the durations the notebook suite reported.

Budgets are on the CPU seconds of the notebooks' kernels: a busy machine stretches wall time several-fold
but CPU time hardly at all. Wall times are printed at the end of the run as reported figures."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from tests.conftest import REPORTS, notebooks

CHAPTER_BUDGET = {"ch03_fully_connected": 240.0, "ch04_cnn": 240.0, "ch05_rnn": 150.0,
                  "ch06_generative": 130.0, "ch07_practice": 120.0, "ch08_quant": 60.0, "ch09_tools": 80.0}


def test_every_notebook_reported():
    reported = {json.loads(p.read_text())["notebook"] for p in REPORTS.glob("*.json")}
    missing = [str(nb) for nb in notebooks() if str(nb) not in reported]
    assert not missing, f"no quick-tier run recorded for {missing}: run the notebook suite first"


@pytest.mark.parametrize("chapter", sorted(CHAPTER_BUDGET))
def test_chapter_budget(chapter):
    totals = defaultdict(float)
    for p in REPORTS.glob("*.json"):
        row = json.loads(p.read_text())
        totals[row["notebook"].split("/")[1]] += row["cpu_seconds"]
    assert totals[chapter] <= CHAPTER_BUDGET[chapter], (
        f"{chapter} takes {totals[chapter]:.0f} CPU s in the quick tier; its budget is "
        f"{CHAPTER_BUDGET[chapter]:.0f} CPU s")
