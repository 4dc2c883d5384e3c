"""The student edition: solutions (cells tagged `solution`) removed, everything else kept.

That each student notebook still runs top to bottom with its exercises unanswered is checked by the
second stage of `make test`, which re-runs the student edition of the executed notebooks under nbval.
"""
from __future__ import annotations

import json
import re

import pytest

from dlbook.student import strip_solutions, write_student_edition
from tests.conftest import ROOT, notebooks

NOTEBOOKS = notebooks()


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    removed = write_student_edition(ROOT, NOTEBOOKS, out)
    return out, removed


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_edition_keeps_everything_but_the_solutions(edition, nb_path):
    out, removed = edition
    original = json.loads((ROOT / nb_path).read_text(encoding="utf-8"))
    student = json.loads((out / nb_path).read_text(encoding="utf-8"))
    n_exercises = len(re.findall(r"\*\*Exercise \d", "\n".join(
        source(c) for c in original["cells"] if c["cell_type"] == "markdown")))
    assert removed[nb_path] >= n_exercises, "every exercise has a solution cell tagged `solution`"
    assert not any("solution" in tags(c) for c in student["cells"])
    assert not any(source(c).lstrip().startswith("# Solution") for c in student["cells"]), (
        "a cell starting with '# Solution' is not tagged `solution`")
    assert len(student["cells"]) == len(original["cells"]) - removed[nb_path]
    assert any('find_spec("dlbook")' in source(c) for c in student["cells"]), "install cell kept"
    kept_md = [source(c) for c in student["cells"] if c["cell_type"] == "markdown"]
    assert kept_md == [source(c) for c in original["cells"] if c["cell_type"] == "markdown"]
    checks = [c for c in student["cells"] if c["cell_type"] == "code" and "dlbook.check" in source(c)]
    assert len(checks) >= n_exercises, "each exercise keeps its self-check for the student"


def test_strip_solutions_clears_or_keeps_outputs():
    nb = {"cells": [
        {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [{"a": 1}],
         "execution_count": 3},
        {"cell_type": "code", "source": "# Solution", "metadata": {"tags": ["solution"]},
         "outputs": [], "execution_count": 4}], "metadata": {}}
    clean, n = strip_solutions(nb)
    assert n == 1 and len(clean["cells"]) == 1 and clean["cells"][0]["outputs"] == []
    kept, _ = strip_solutions(nb, keep_outputs=True)
    assert kept["cells"][0]["outputs"] == [{"a": 1}]
    assert len(nb["cells"]) == 2, "the input is not changed"


def test_student_edition_refuses_to_overwrite_the_sources(tmp_path):
    with pytest.raises(ValueError, match="folder of its own"):
        write_student_edition(ROOT, NOTEBOOKS[:1], ROOT)


def test_make_test_reruns_the_student_edition():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "dlbook student _build/student-executed --from _build/executed" in makefile
    assert "--nbval-lax _build/student-executed" in makefile
