"""Execute notebooks headless (papermill) in a chosen tier, check their claims, build the website.

Used by the test suite, by `dlbook run` and by `make book`, so all three execute notebooks the same way.
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .record import RECORD_FILE_ENV, read_records

DEFAULT_BUDGET = 60.0  # CPU seconds of the notebook's kernel in the quick tier
QUICK_CELL_TIMEOUT = 300  # seconds; only the quick tier has a per-cell limit


def project_root(start: Path | None = None) -> Path:
    """The checkout's root: the nearest folder upwards holding _toc.yml."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise FileNotFoundError(f"no _toc.yml in {here} or above: run this inside the book's checkout.")


def toc_files(root: Path) -> list[str]:
    """Every `file:` entry of _toc.yml, in order, without extension."""
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    return [m.group(1).strip().strip("'\"") for m in
            re.finditer(r"^\s*-?\s*(?:file|root):\s*(\S+)", text, re.M)]


def toc_notebooks(root: Path) -> list[Path]:
    """The notebooks listed in _toc.yml, as paths relative to the root."""
    return [Path(f).with_suffix(".ipynb") for f in toc_files(root) if f.startswith("notebooks/")]


def notebook_spec(path: Path) -> dict:
    """A notebook's `dlbook` metadata: claims, full_claims, sample_claims, sample_test, wrong_answers, budget."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("dlbook", {})


def check_claims(claims: dict, records: dict) -> list[str]:
    """Compare recorded numbers with declared claims; return one message per broken claim."""
    problems = []
    for name, rule in claims.items():
        if name not in records:
            problems.append(f"{name}: never recorded")
            continue
        value = records[name]
        if "equals" in rule:
            want, tol = rule["equals"], rule.get("tol", 0)
            ok = value == want if tol == 0 else abs(float(value) - float(want)) <= tol
            if not ok:
                problems.append(f"{name} = {value!r}, expected {want!r}" + (f" ± {tol}" if tol else ""))
        if "in" in rule and value not in rule["in"]:
            problems.append(f"{name} = {value!r}, expected one of {rule['in']!r}")
        if "min" in rule and not float(value) >= rule["min"]:
            problems.append(f"{name} = {value!r}, expected >= {rule['min']}")
        if "max" in rule and not float(value) <= rule["max"]:
            problems.append(f"{name} = {value!r}, expected <= {rule['max']}")
    for name, value in records.items():
        if name.startswith(f"check_{WRONG_PREFIX}"):
            if value is not False:
                problems.append(f"self-check {name[6 + len(WRONG_PREFIX):]} accepted a wrong answer "
                                f"({name})")
        elif name.startswith("check_") and value is not True:
            problems.append(f"self-check {name[6:]} failed on its own solution")
    return problems


WRONG_PREFIX = "wrong_"
WRONG_TAG = "wrong-answer"


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def check_cell(nb: dict, exercise: str) -> dict:
    """The student's self-check cell of an exercise: the code cell, not a solution, naming it."""
    quoted = re.compile(rf"[\"']{re.escape(exercise)}[\"']")
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "code" and "solution" not in tags and quoted.search(_source(cell)):
            return cell
    raise KeyError(f"no self-check cell names {exercise!r} (outside the solution cells)")


def with_wrong_answers(nb: dict) -> dict:
    """Append, for each wrong answer declared in metadata.dlbook.wrong_answers, a cell that runs it
    through the exercise's own self-check under the name wrong_<exercise> (which must say no)."""
    wrong = nb.get("metadata", {}).get("dlbook", {}).get("wrong_answers", {})
    cells = list(nb["cells"])
    for exercise, snippets in wrong.items():
        check = _source(check_cell(nb, exercise))
        for i, snippet in enumerate(snippets):
            probe = re.sub(rf"([\"']){re.escape(exercise)}([\"'])",
                           rf"\g<1>{WRONG_PREFIX}{exercise}_{i}\g<2>", check)
            cells.append({"cell_type": "code", "execution_count": None, "outputs": [],
                          "id": f"{WRONG_TAG}-{exercise}-{i}"[:64],
                          "metadata": {"tags": [WRONG_TAG]}, "source": f"{snippet}\n{probe}"})
    if (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) < (4, 5):
        for cell in cells[len(nb["cells"]):]:
            cell.pop("id")  # cell ids exist from nbformat 4.5 on
    return {**nb, "cells": cells}


def _drop_wrong_answers(path: Path) -> None:
    if not path.is_file():
        return
    nb = json.loads(path.read_text(encoding="utf-8"))
    kept = [c for c in nb["cells"] if WRONG_TAG not in c.get("metadata", {}).get("tags", [])]
    if len(kept) != len(nb["cells"]):
        nb["cells"] = kept
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


@dataclass
class RunResult:
    """What executing one notebook gave: where, how long, the numbers, the broken claims.

    `seconds` is wall time; `cpu_seconds` the CPU time of the notebook's kernel (and anything it
    started), which a busy machine does not inflate several-fold: budgets are checked on it."""

    notebook: str
    output: Path
    seconds: float
    cpu_seconds: float = 0.0
    records: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    budget: float = DEFAULT_BUDGET

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute(src: Path, dst: Path, *, quick: bool = True, threads: int | None = 1,
            timeout: int | None = None, sample: bool = False, seed: int | None = None,
            parameters: dict | None = None) -> RunResult:
    """Run one notebook top to bottom in a fresh kernel; record its numbers and check its claims.

    The quick tier stops a cell after `timeout` seconds (default 300); the full tier never does.
    `sample=True` runs the full tier's recipe on the shipped real samples (DLBOOK_SAMPLE=1) and checks
    `sample_claims`; `seed` overrides the notebook's seed (DLBOOK_SEED); `parameters` go to papermill.
    In the quick tier the wrong answers declared in metadata.dlbook.wrong_answers are run through
    their exercise's self-check at the end (cells removed from the executed copy): each must be refused.
    """
    import papermill as pm

    src, dst = Path(src).resolve(), Path(dst).resolve()
    dst.parent.mkdir(parents=True, exist_ok=True)
    spec = notebook_spec(src)
    if quick and sample:
        raise ValueError("sample=True runs the full tier's recipe on the samples; it needs quick=False.")
    if timeout is None and quick:
        timeout = QUICK_CELL_TIMEOUT
    with tempfile.TemporaryDirectory() as tmp:
        record_file = Path(tmp) / "records.jsonl"
        env = {RECORD_FILE_ENV: str(record_file), "DLBOOK_PROGRESS": "0",
               "DLBOOK_QUICK": "1" if quick else "0", "DLBOOK_HEADLESS": "1",
               "DLBOOK_SAMPLE": "1" if sample else "0",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        if seed is not None:
            env["DLBOOK_SEED"] = str(seed)
        # idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads multiply
        # the CPU time of small-op notebooks (measured 0.8 s -> 13.7 s for 2,000 small steps)
        env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
        if threads:
            env["DLBOOK_THREADS"] = str(threads)
            env["OMP_NUM_THREADS"] = str(threads)
        saved = {k: os.environ.get(k) for k in (*env, "DLBOOK_SEED")}
        os.environ.pop("DLBOOK_SEED", None)
        os.environ.update(env)
        start, cpu_start = time.perf_counter(), _children_cpu()
        error = None
        source = src
        if quick:  # the exercises' self-checks must also reject the declared wrong answers
            source = Path(tmp) / src.name  # papermill still runs it in src's folder (cwd)
            source.write_text(json.dumps(with_wrong_answers(json.loads(src.read_text("utf-8")))),
                              encoding="utf-8")
        try:
            pm.execute_notebook(str(source), str(dst), parameters={"QUICK": quick, **(parameters or {})},
                                kernel_name="python3", cwd=str(src.parent), progress_bar=False,
                                execution_timeout=timeout, report_mode=False)
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if source != src:  # the probe copy goes with the temporary folder
                _drop_wrong_answers(dst)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        seconds = time.perf_counter() - start
        cpu_seconds = _children_cpu() - cpu_start
        records = read_records(record_file)
    key = "claims" if quick else "sample_claims" if sample else "full_claims"
    problems = [] if error else check_claims(spec.get(key, {}), records)
    if quick and not error:  # a probe whose check never ran proves nothing
        problems += [f"wrong answer {i} of {ex} never reached its self-check (was the answer "
                     "reset to None in the check cell?)"
                     for ex, snippets in spec.get("wrong_answers", {}).items()
                     for i in range(len(snippets))
                     if f"check_{WRONG_PREFIX}{ex}_{i}" not in records]
    return RunResult(str(src), dst, seconds, cpu_seconds, records, problems, error,
                     float(spec.get("budget_seconds", DEFAULT_BUDGET)))


def _execute_one(args) -> RunResult:
    src, dst, kwargs = args
    return execute(src, dst, **kwargs)


def run_many(root: Path, notebooks: list[Path], out_dir: Path, *, quick: bool = True,
             jobs: int = 1, threads: int | None = None, sample: bool = False,
             seeds: list[int | None] | None = None) -> list[RunResult]:
    """Execute notebooks (in parallel processes when jobs > 1), one CPU thread each when parallel.

    With `seeds`, each notebook runs once per seed (outputs under out_dir/seed-N/)."""
    if threads is None and jobs > 1:
        threads = 1
    work = []
    for seed in seeds or [None]:
        out = out_dir if seed is None else out_dir / f"seed-{seed}"
        work += [(root / nb, out / nb, dict(quick=quick, threads=threads, sample=sample, seed=seed))
                 for nb in notebooks]
    if jobs <= 1:
        return [_execute_one(w) for w in work]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_execute_one, work))


def seed_table(results: list[RunResult], seeds: list[int], claims: dict) -> str:
    """A text table: each claim's recorded value per seed, its rule and how many seeds pass."""
    lines = [f"{'claim':<34}" + "".join(f"{'seed ' + str(s):>11}" for s in seeds) + "  rule / passed"]
    for name, rule in claims.items():
        values = [r.records.get(name) for r in results]
        passed = sum(not check_claims({name: rule}, {k: v for k, v in r.records.items() if k == name})
                     for r in results)
        cells = "".join(f"{v:>11.4g}" if isinstance(v, float) else f"{str(v):>11}" for v in values)
        lines.append(f"{name:<34}{cells}  {json.dumps(rule)} {passed}/{len(results)}")
    return "\n".join(lines)


def write_report(results: list[RunResult], path: Path) -> None:
    """Save durations and records of a run as JSON (read by the README's timing table and CI logs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"notebook": r.notebook, "seconds": round(r.seconds, 2),
             "cpu_seconds": round(r.cpu_seconds, 2), "budget": r.budget,
             "ok": r.ok, "problems": r.problems, "error": r.error, "records": r.records}
            for r in results]
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


def stage_site(root: Path, executed: Path, stage: Path) -> Path:
    """Lay out the book's sources with the executed notebooks in place of the stored ones."""
    missing = [nb for nb in toc_notebooks(root) if not (executed / nb).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} notebooks have not been executed into {executed} "
                                f"(first: {missing[0]}); run `dlbook run` (or `make book`) first.")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "book", "references.bib"):
        src = root / name
        if src.is_dir():
            shutil.copytree(src, stage / name)
        elif src.is_file():
            shutil.copy2(src, stage / name)
    shutil.copytree(executed / "notebooks", stage / "notebooks")
    copy_mathjax(stage / "_static" / "mathjax")
    for nb_path in (stage / "notebooks").rglob("*.ipynb"):
        _tag_for_the_website(nb_path)
    return stage


def copy_mathjax(dest: Path) -> Path:
    """Copy MathJax 3 (its es5 build, from the django-static-mathjax package) for an offline site."""
    try:
        import mathjax  # the package django-static-mathjax installs
    except ImportError:
        raise RuntimeError("MathJax for the offline website is missing: install the book extra "
                           "(pip install -e \".[book]\", or make install).") from None
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"{src} has no tex-mml-chtml.js: reinstall django-static-mathjax.")
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*-full.js", "*svg*", "node-main*"),
                    dirs_exist_ok=True)
    return dest


def _tag_for_the_website(path: Path) -> None:
    """Keep papermill's injected parameters cell out of the page (the set-up line names the tier)
    and collapse solution cells (tag `solution`) behind a click."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        for marker, wanted in (("injected-parameters", "remove-cell"), ("solution", "hide-cell")):
            if marker in tags and wanted not in tags:
                tags.append(wanted)
                changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def build_site(root: Path, executed: Path, *, strict: bool = True) -> Path:
    """Build the website into <root>/_build/html from executed notebooks; return that folder."""
    stage = stage_site(root, executed, root / "_build" / "site_src")
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(stage),
           "--path-output", str(root)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed ({proc.returncode}):\n"
                           f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return root / "_build" / "html"
