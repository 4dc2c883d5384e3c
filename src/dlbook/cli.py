"""The `dlbook` command: doctor, data, fetch, run, check, student, site."""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path


def doctor() -> int:
    """Print versions, device, threads, the data cache and what is cached or missing."""
    import torch
    import torchvision

    from . import data
    from .env import is_quick, pick_device

    print(f"python       {platform.python_version()} ({sys.executable})")
    print(f"torch        {torch.__version__}   torchvision {torchvision.__version__}")
    device = pick_device()
    extra = ""
    if device.type == "cuda":
        extra = f" ({torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda})"
    print(f"device       {device}{extra}")
    print(f"cpu threads  {torch.get_num_threads()} of {os.cpu_count()} cores")
    print(f"tier         {'quick' if is_quick() else 'full'} (DLBOOK_QUICK="
          f"{os.environ.get('DLBOOK_QUICK', 'unset')})")
    root = data.cache_root()
    print(f"data cache   {root}" + ("" if os.access(root if root.exists() else root.parent, os.W_OK)
                                     else "  (NOT writable: set DLBOOK_DATA)"))
    shared = data.shared_roots()
    print(f"shared data  {os.pathsep.join(map(str, shared)) if shared else '(none; DLBOOK_SHARED_DATA)'}")
    missing = 0
    for name in data.REGISTRY:
        states = data.status(name)
        ok = all(s in ("cached", "shared") for s in states.values())
        missing += not ok
        detail = ", ".join(f"{f}: {s}" for f, s in states.items() if s not in ("cached", "shared"))
        print(f"  {name:<10} {'ready' if ok else 'missing'}" + (f"  ({detail})" if detail else ""))
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    weights = sorted(p.name for p in hub.glob("*.pth")) if hub.is_dir() else []
    print(f"weights      {hub}: " + (", ".join(weights) if weights else "none cached"))
    if missing:
        print(f"\n{missing} data set(s) missing: the full tier downloads them on first use "
              "(or `dlbook fetch NAME`); the quick tier (DLBOOK_QUICK=1) needs none.")
    return 0


def _fetch(names: list[str]) -> int:
    from . import data

    for name in names or list(data.REGISTRY):
        for fname, path in data.fetch(name).items():
            print(f"{name}: {fname} -> {path}")
    return 0


def _list() -> int:
    from . import data

    for info in data.REGISTRY.values():
        sizes = [r.size for r in info.files]
        size = f"{sum(sizes) / 1e6:8.1f} MB" if None not in sizes else "size n/a"
        print(f"{info.name:<16} {size:>11}  {info.description}\n"
              f"{'':16} licence: {info.licence}\n{'':16} quick tier: {info.stand_in}")
    return 0


def _seeds(text: str | None) -> list[int] | None:
    """'5' means seeds 0-4; '0,3,7' those seeds; '2-6' a range."""
    if not text:
        return None
    if "," in text:
        return [int(t) for t in text.split(",")]
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return list(range(int(text)))


def _run(args) -> int:
    from .run import notebook_spec, project_root, run_many, seed_table, toc_notebooks, write_report

    root = project_root()
    notebooks = [Path(p).resolve().relative_to(root) for p in args.notebooks] or toc_notebooks(root)
    out = (root / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    quick = not (args.full or args.sample)
    seeds = _seeds(args.seeds)
    # the quick tier's budgets are CPU seconds on one thread: measure it that way unless told
    threads = args.threads if args.threads is not None else (1 if quick else None)
    results = run_many(root, notebooks, out, quick=quick, jobs=args.jobs, threads=threads,
                       sample=args.sample, seeds=seeds)
    write_report(results, out / "report.json")
    width = max(len(str(nb)) for nb in notebooks)
    for r in results:
        nb = Path(r.notebook).relative_to(root)
        state = "ok" if r.ok else "FAILED"
        print(f"{str(nb):<{width}}  {r.seconds:6.1f} s wall  {r.cpu_seconds:6.1f} s CPU  {state}")
        for p in ([r.error] if r.error else []) + r.problems:
            print(f"    {p.splitlines()[0] if p else p}")
    if seeds:
        key = "claims" if quick else "sample_claims" if args.sample else "full_claims"
        for nb in notebooks:
            mine = [r for r in results if Path(r.notebook) == (root / nb).resolve()]
            print(f"\n{nb} over seeds {seeds} ({key}):")
            print(seed_table(mine, seeds, notebook_spec(root / nb).get(key, {})))
    tier = "quick" if quick else "full recipe on the samples" if args.sample else "full"
    print(f"total {sum(r.seconds for r in results):.1f} s of notebook time ({tier} tier); "
          f"report in {out / 'report.json'}")
    return 0 if all(r.ok for r in results) else 1


def _check(args) -> int:
    """The class-machine check: the environment (doctor), then every notebook in the quick tier."""
    from .run import project_root, run_many, toc_notebooks, write_report

    print("== environment ==")
    doctor()
    root = project_root()
    notebooks = toc_notebooks(root)
    out = root / "_build" / "check"
    print(f"\n== {len(notebooks)} notebooks in the quick tier ({args.jobs} at a time) ==", flush=True)
    results = run_many(root, notebooks, out, quick=True, jobs=args.jobs)
    write_report(results, out / "report.json")
    width = max(len(str(nb)) for nb in notebooks)
    print(f"{'notebook':<{width}}  result  {'wall s':>7}  {'CPU s':>6}  budget")
    for nb, r in zip(notebooks, results):
        over = r.cpu_seconds > r.budget
        state = "FAIL" if not r.ok else "SLOW" if over else "pass"
        print(f"{str(nb):<{width}}  {state:<6}  {r.seconds:7.1f}  {r.cpu_seconds:6.1f}  {r.budget:.0f}")
        for p in ([r.error.splitlines()[0]] if r.error else []) + r.problems:
            print(f"    {p}")
    failed = sum(not r.ok for r in results)
    print(f"\n{len(results) - failed} of {len(results)} notebooks pass; executed copies in {out}")
    return 0 if failed == 0 else 1


def _student(args) -> int:
    from .run import project_root, toc_notebooks
    from .student import write_student_edition

    root = project_root()
    out = Path(args.out_dir)
    source = Path(args.source) if args.source else root
    removed = write_student_edition(root, toc_notebooks(root), out, source=source,
                                    keep_outputs=args.keep_outputs)
    for nb, n in removed.items():
        print(f"{nb}: {n} solution cell{'s' if n != 1 else ''} removed")
    print(f"student edition of {len(removed)} notebooks in {out}")
    return 0


def _site(args) -> int:
    from .run import build_site, project_root

    root = project_root()
    html = build_site(root, root / args.executed, strict=not args.lenient)
    print(f"website built: {html / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `dlbook` command."""
    parser = argparse.ArgumentParser(prog="dlbook", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, device, data cache, what is missing")
    sub.add_parser("data", help="list the data registry")
    p_fetch = sub.add_parser("fetch", help="download data sets into the cache (all if none named)")
    p_fetch.add_argument("names", nargs="*")
    p_run = sub.add_parser("run", help="execute notebooks headless and check their claims")
    p_run.add_argument("notebooks", nargs="*", help="default: every notebook in _toc.yml")
    p_run.add_argument("--full", action="store_true", help="full tier (default: quick)")
    p_run.add_argument("--sample", action="store_true",
                       help="the full tier's recipe on the shipped real samples (DLBOOK_SAMPLE=1); "
                            "checks sample_claims")
    p_run.add_argument("--seeds", default=None,
                       help="run each notebook once per seed and tabulate its claims: "
                            "'5' (seeds 0-4), '0,3,7' or '2-6'")
    p_run.add_argument("--jobs", type=int, default=1, help="notebooks run in parallel")
    p_run.add_argument("--out", default="_build/executed", help="where executed copies go")
    p_run.add_argument("--threads", type=int, default=None,
                       help="torch threads per notebook (default: 1 in the quick tier, whose budgets "
                            "are measured on one thread, and when --jobs > 1; else all)")
    p_check = sub.add_parser("check", help="class-machine check: doctor, then every notebook "
                                            "in the quick tier, with a pass/fail table")
    p_check.add_argument("--jobs", type=int, default=1, help="notebooks run in parallel")
    p_student = sub.add_parser("student", help="write the student edition: solution cells removed")
    p_student.add_argument("out_dir", help="folder for the student notebooks")
    p_student.add_argument("--from", dest="source", default=None,
                           help="read the notebooks from this folder (default: the checkout)")
    p_student.add_argument("--keep-outputs", action="store_true",
                           help="keep stored outputs (used to re-run executed copies with nbval)")
    p_site = sub.add_parser("site", help="build the website from executed notebooks")
    p_site.add_argument("--executed", default="_build/executed")
    p_site.add_argument("--lenient", action="store_true", help="do not treat warnings as errors")
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return doctor()
        if args.command == "data":
            return _list()
        if args.command == "fetch":
            return _fetch(args.names)
        if args.command == "run":
            return _run(args)
        if args.command == "student":
            return _student(args)
        if args.command == "check":
            return _check(args)
        return _site(args)
    except (KeyError, FileNotFoundError, RuntimeError, ValueError) as exc:
        # an OSError's args[0] is its errno: print the whole message (it names the file)
        message = exc if isinstance(exc, OSError) or not exc.args else exc.args[0]
        print(f"dlbook {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
