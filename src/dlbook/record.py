"""`record(name, value)`: put a number on the page (myst-nb glue) and hand it to the test suite."""
from __future__ import annotations

import json
import math
import os
from numbers import Number
from pathlib import Path

#: everything recorded in this kernel, in order
RECORDED: dict[str, object] = {}

RECORD_FILE_ENV = "DLBOOK_RECORD_FILE"


def _plain(value):
    """Convert tensors and numpy scalars to plain Python; reject what the test suite cannot read."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, Number):
        value = float(value) if not isinstance(value, int) else value
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"recorded value is {value}: a claim needs a finite number.")
        return value
    raise TypeError(f"record() takes a number, bool or string (or a 0-d tensor), "
                    f"not {type(value).__name__}.")


def _append(path: Path, name: str, value) -> None:
    """Append one JSON line; a single short write keeps concurrent writers from interleaving."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"name": name, "value": value}) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


def record(name: str, value, *, display: bool = False, digits: int = 4):
    """Record a claim's number: glued into the page (to `digits` significant digits) and written
    for the test suite (in full)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"record name {name!r} must be an identifier, e.g. 'test_acc'.")
    value = _plain(value)
    RECORDED[name] = value
    target = os.environ.get(RECORD_FILE_ENV)
    if target:
        _append(Path(target), name, value)
    shown = float(f"{value:.{digits}g}") if isinstance(value, float) else value
    try:
        from myst_nb import glue
    except ImportError:  # plain Jupyter without the book tools: the number is still returned
        return value
    try:
        glue(name, shown, display=display)
    except Exception:  # not inside IPython (e.g. a script): nothing to glue into
        pass
    return value


def read_records(path: Path) -> dict[str, object]:
    """Read a record file written by `record` (the last value of a name wins)."""
    out: dict[str, object] = {}
    path = Path(path)
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            out[entry["name"]] = entry["value"]
    return out


def summary(*names: str, digits: int = 4) -> None:
    """Print recorded numbers, one per line: the summary's numbers where glue does not render
    (Jupyter, JupyterLab, Colab). With no names, everything recorded in this kernel."""
    missing = [n for n in names if n not in RECORDED]
    if missing:
        raise KeyError(f"nothing recorded as {missing}; record(...) them first (recorded so far: "
                       f"{sorted(RECORDED)}).")
    names = names or tuple(RECORDED)
    width = max((len(n) for n in names), default=0)
    for n in names:
        value = RECORDED[n]
        shown = f"{value:.{digits}g}" if isinstance(value, float) else str(value)
        print(f"{n:<{width}}  {shown}")
