"""The full tier's recipe of every MNIST notebook, run for a few epochs on the real MNIST sample.

Hyper-parameters tuned on small data can diverge on real data (an SGD learning rate that blew up on
real MNIST was the reason for this test). Each MNIST notebook declares `sample_test` in its metadata:
papermill overrides that shorten the run (epochs), and the names of the final losses it records.
The notebook then runs with the full tier's settings on the shipped 4,000 / 1,000 real digits
(DLBOOK_SAMPLE=1); `record` refuses NaN and infinity, so a diverging run fails here.
"""
from __future__ import annotations

import json
import re

import pytest

from dlbook.run import check_claims, execute, notebook_spec
from tests.conftest import ROOT, notebooks

SAMPLE_OUT = ROOT / "_build" / "sample"


def uses_mnist(nb) -> bool:
    """The notebook loads MNIST in the tier it runs in (not a call pinned to quick=True)."""
    cells = json.loads((ROOT / nb).read_text(encoding="utf-8"))["cells"]
    calls = [m for c in cells if c["cell_type"] == "code"
             for m in re.findall(r"load_mnist\([^)]*\)", "".join(c["source"]))]
    return any("quick=True" not in call for call in calls)


MNIST_NOTEBOOKS = [nb for nb in notebooks() if uses_mnist(nb)]


def test_mnist_notebooks_declare_a_sample_test():
    missing = [str(nb) for nb in MNIST_NOTEBOOKS if not notebook_spec(ROOT / nb).get("sample_test")]
    assert not missing, f"MNIST notebooks without metadata dlbook.sample_test: {missing}"


@pytest.mark.parametrize("nb", MNIST_NOTEBOOKS, ids=lambda p: p.stem)
def test_full_recipe_stays_finite_on_the_real_sample(nb):
    spec = notebook_spec(ROOT / nb).get("sample_test") or {}
    finite = spec.get("finite", [])
    assert finite, "sample_test.finite must name the recorded final losses"
    result = execute(ROOT / nb, SAMPLE_OUT / nb, quick=False, sample=True, threads=1,
                     parameters=spec.get("parameters", {}), timeout=600)
    assert result.error is None, result.error[-4000:]
    missing = [name for name in finite if name not in result.records]
    assert not missing, f"never recorded (a NaN or inf is refused by record): {missing}"
    problems = check_claims(spec.get("claims", {}), result.records)
    assert not problems, "\n".join(problems)
