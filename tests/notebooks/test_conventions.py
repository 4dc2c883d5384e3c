"""Static checks of every notebook: the page shape, claims declared and recorded, stored without outputs,
no deprecated API, cell sizes; and that _toc.yml, notebooks/, the README and CI agree."""
from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest

from tests.conftest import ROOT, notebooks

NOTEBOOKS = notebooks()
DEPRECATED = {
    r"\bVariable\(": "Variable(...)", r"volatile\s*=": "volatile=", r"\.data\[0\]": ".data[0]",
    r"size_average": "size_average", r"pretrained\s*=\s*True": "pretrained=True",
    r"transforms\.Scale\b": "transforms.Scale", r"ANTIALIAS": "Image.ANTIALIAS",
    r"\.cuda\(\)": ".cuda()", r"\.next\(\)": "iterator.next()", r"load_state_dic\(": "load_state_dic",
    r"\.data\.(numpy|zero_|norm)\(": ".data.* (use .detach() / torch.no_grad())",
    r"nn\.init\.(normal|uniform|xavier_normal|xavier_uniform|kaiming_normal|constant)\(":
        "nn.init without trailing underscore",
}


def load(nb: Path) -> dict:
    return json.loads((ROOT / nb).read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def test_toc_and_folder_list_the_same_notebooks():
    on_disk = {p.relative_to(ROOT) for p in (ROOT / "notebooks").rglob("*.ipynb")
               if ".ipynb_checkpoints" not in p.parts}
    assert set(NOTEBOOKS) == on_disk, (
        f"only in _toc.yml: {sorted(set(NOTEBOOKS) - on_disk)}; "
        f"only in notebooks/: {sorted(on_disk - set(NOTEBOOKS))}")
    assert len(NOTEBOOKS) == len(set(NOTEBOOKS)), "a notebook is listed twice in _toc.yml"


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^\s*make test\b", ci, re.M), ".ci/run must call the README's `make test`"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
class TestNotebook:
    def test_stored_without_outputs(self, nb_path):
        nb = load(nb_path)
        dirty = [i for i, c in enumerate(code_cells(nb)) if c.get("outputs") or c.get("execution_count")]
        assert not dirty, f"code cells {dirty} carry outputs: clear them before committing"

    def test_one_parameters_cell_starting_with_quick(self, nb_path):
        cells = [c for c in code_cells(load(nb_path)) if "parameters" in c["metadata"].get("tags", [])]
        assert len(cells) == 1, "exactly one code cell must be tagged 'parameters'"
        assert text(cells[0]).lstrip().startswith("QUICK = None")

    def test_page_shape(self, nb_path):
        nb = load(nb_path)
        md = [text(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
        assert md and md[0].startswith("# "), "the first cell is the title"
        assert re.search(r"§\s?\d", md[0]), "the title cell names the book section (§)"
        assert "In this notebook you will" in md[0]
        headings = [line for m in md for line in m.splitlines() if line.startswith("## ")]
        for want in ("## Summary", "## Exercises", "## What changed from the 2017 code"):
            assert want in headings, f"missing heading {want!r}"
        order = [headings.index(h) for h in ("## Summary", "## Exercises",
                                             "## What changed from the 2017 code")]
        assert order == sorted(order), "Summary, Exercises, What changed: in this order"
        assert any(re.match(r"## 1\. ", h) for h in headings), "sections are numbered (## 1. ...)"
        n_ex = len(re.findall(r"\*\*Exercise \d", "\n".join(md)))
        assert 2 <= n_ex <= 4, f"{n_ex} exercises; the page shape asks for 2-4"

    def test_install_cell_uses_the_configured_repository(self, nb_path):
        url = re.search(r"^\s*url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M).group(1)
        cells = [text(c) for c in code_cells(load(nb_path)) if 'find_spec("dlbook")' in text(c)]
        assert len(cells) == 1, "one guarded install cell for Colab/Kaggle"
        assert url in cells[0], f"the install cell must use _config.yml's repository url {url}"

    def test_claims_declared_and_recorded(self, nb_path):
        nb = load(nb_path)
        spec = nb["metadata"].get("dlbook", {})
        assert spec.get("claims"), "declare the quick-tier claims in metadata.dlbook.claims"
        source = "\n".join(text(c) for c in code_cells(nb))
        for name in {**spec["claims"], **spec.get("full_claims", {})}:
            assert re.search(rf"record\(\s*[\"']{name}[\"']", source), f"claim {name} is never recorded"
        for rule in spec["claims"].values():
            assert set(rule) <= {"min", "max", "equals", "tol", "in"}, f"unknown rule {rule}"

    def test_summary_numbers_are_printed(self, nb_path):
        """Glue does not render in Jupyter, JupyterLab or Colab: the Summary section prints its numbers."""
        cells = load(nb_path)["cells"]
        start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                     and re.search(r"^## Summary", text(c), re.M))
        end = next(i for i, c in enumerate(cells) if i > start and c["cell_type"] == "markdown"
                   and re.search(r"^## ", text(c), re.M))
        section = cells[start:end]
        quoted = set(re.findall(r"\{glue:text\}`(\w+)", "".join(text(c) for c in section)))
        printed = "".join(text(c) for c in section if c["cell_type"] == "code")
        assert "dlbook.summary(" in printed, "the Summary needs a cell calling dlbook.summary(...)"
        missing = [n for n in quoted if n not in printed]
        assert not missing, f"the Summary quotes {missing} with glue but does not print them"

    def test_measured_claims_were_checked_on_five_seeds(self, nb_path):
        spec = load(nb_path)["metadata"].get("dlbook", {})
        measured = [n for n, rule in spec.get("claims", {}).items() if {"min", "max"} & set(rule)]
        if measured:
            seeds = spec.get("seeds_checked", {}).get("seeds", [])
            assert len(set(seeds)) >= 5, (
                f"claims {measured} have margins: check them on 5 seeds (dlbook run NB --seeds 5) "
                "and note the seeds in metadata.dlbook.seeds_checked")

    def test_prose_speaks_about_the_subject(self, nb_path):
        md = "\n".join(text(c) for c in load(nb_path)["cells"] if c["cell_type"] == "markdown")
        found = re.findall(r"test suite|\bCI\b|continuous integration|pytest", md)
        assert not found, f"prose talks about the tests ({found}): that belongs in CONTRIBUTING.md"
        everything = "\n".join(text(c) for c in load(nb_path)["cells"])
        numbered = re.findall(r"\b[Nn]otebooks? \d[\d.]*", everything)
        assert not numbered, (f"{numbered}: name notebooks by folder and file (`ch03/08_optimizers`); "
                              "a number reads as a section of the printed book")

    def test_self_checks_have_wrong_answers_to_refuse(self, nb_path):
        """Each exercise's self-check is run on at least two wrong answers (metadata wrong_answers)
        in the quick tier, where it must say no; solutions are tagged `solution`, not only hidden."""
        nb = load(nb_path)
        student = [c for c in code_cells(nb) if "solution" not in c["metadata"].get("tags", [])]
        names = {m for c in student
                 for m in re.findall(r"dlbook\.check(?:_hash)?\(\s*[\"'](\w+)[\"']", text(c))}
        wrong = nb["metadata"].get("dlbook", {}).get("wrong_answers", {})
        few = sorted(n for n in names if len(wrong.get(n, [])) < 2)
        assert not few, f"self-checks without two wrong answers in metadata.dlbook.wrong_answers: {few}"
        assert set(wrong) <= names, f"wrong answers for unknown checks: {sorted(set(wrong) - names)}"
        hidden = [text(c)[:40] for c in code_cells(nb) if text(c).lstrip().startswith("# Solution")
                  and "solution" not in c["metadata"].get("tags", [])]
        assert not hidden, f"solution cells not tagged `solution`: {hidden}"

    def test_every_cell_has_an_id(self, nb_path):
        nb = load(nb_path)
        missing = [i for i, c in enumerate(nb["cells"]) if "id" not in c]
        assert not missing, (f"cells {missing[:5]} have no id (nbformat 4.5 requires one); "
                             "run nbformat.validator.normalize or give each a short unique id")
        ids = [c["id"] for c in nb["cells"]]
        assert len(ids) == len(set(ids)), "two cells share an id"

    def test_no_deprecated_api(self, nb_path):
        source = "\n".join(text(c) for c in code_cells(load(nb_path)))
        found = [name for pat, name in DEPRECATED.items() if re.search(pat, source)]
        assert not found, f"deprecated API: {found}"

    def test_cell_sizes_and_line_length(self, nb_path):
        cells = code_cells(load(nb_path))
        sizes = sorted(len([l for l in text(c).splitlines() if l.strip()]) for c in cells)
        p90 = sizes[min(len(sizes) - 1, int(0.9 * len(sizes)))]
        assert statistics.median(sizes) <= 5, f"median code cell {statistics.median(sizes)} lines"
        assert p90 <= 15 and sizes[-1] <= 45, f"p90 {p90}, max {sizes[-1]} lines"
        long = [l for c in cells for l in text(c).splitlines() if len(l) > 88]
        assert not long, f"{len(long)} code lines over 88 characters, e.g. {long[0]!r}"


# extras that only download data a reader may want; the course environment runs without them
DOWNLOAD_ONLY_EXTRAS = {"market"}


def test_conda_environment_matches_pyproject():
    """environment.yml lists what pyproject.toml lists (dependencies and every extra), same bounds."""
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name in DOWNLOAD_ONLY_EXTRAS:
            continue
        wanted += [r for r in extra if not r.startswith("dlbook")]
    conda_names = {"torch": "pytorch", "arch": "arch-py"}

    def split(req: str) -> tuple[str, str]:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", req)
        return conda_names.get(m.group(1).lower(), m.group(1).lower()), m.group(2).replace(" ", "")

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed = {}
    for dep in env["dependencies"]:
        for req in (dep["pip"] if isinstance(dep, dict) else [dep]):
            name, bound = split(req)
            listed[name] = bound
    for req in wanted:
        name, bound = split(req)
        assert name in listed, f"{name} is in pyproject.toml but not in environment.yml"
        assert listed[name] == bound, f"{name}: pyproject {bound!r}, environment.yml {listed[name]!r}"


def test_book_map_is_current():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "update_book_map.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    text = (ROOT / "book" / "book-map.md").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        assert str(nb.with_suffix("")) in text or nb.stem in text, f"{nb} is not in the book map"
