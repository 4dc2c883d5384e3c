"""The notebook suite: every notebook of _toc.yml runs in a fresh kernel in the quick tier, its claims
and self-checks hold, and it stays inside its time budget (CPU seconds of its kernel). Executed copies feed nbval and the website."""
from __future__ import annotations

import json

import pytest

from dlbook.run import execute
from tests.conftest import EXECUTED, REPORTS, ROOT, notebooks


@pytest.mark.parametrize("nb", notebooks(), ids=lambda p: p.stem)
def test_notebook_quick_tier(nb):
    result = execute(ROOT / nb, EXECUTED / nb, quick=True, threads=1)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{nb.parent.name}__{nb.stem}.json").write_text(json.dumps({
        "notebook": str(nb), "seconds": round(result.seconds, 2),
        "cpu_seconds": round(result.cpu_seconds, 2), "budget": result.budget,
        "records": result.records, "problems": result.problems}, indent=1))
    assert result.error is None, result.error[-4000:]
    assert not result.problems, "broken claims:\n" + "\n".join(result.problems)
    # the budget is on the kernel's CPU time, which a busy machine does not inflate several-fold
    assert result.cpu_seconds <= result.budget, (
        f"{nb} used {result.cpu_seconds:.1f} CPU s ({result.seconds:.1f} s wall), over its "
        f"quick-tier budget of {result.budget:.0f} CPU s")
