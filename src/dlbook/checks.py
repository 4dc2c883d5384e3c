"""Exercise self-checks that verify an answer without printing it.

An author stores `answer_hash(solution)` in the notebook; a student's answer is hashed the same way and
compared, so reading the check does not reveal the answer. Results are recorded (as `check_<name>`)
so the test suite sees that every solution passes its own check.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .record import record


def _canonical(value, decimals: int) -> str:
    """A stable text form of a number, bool, string or nested sequence, rounded to `decimals`."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        rounded = round(float(value), decimals)
        return f"{0.0 if rounded == 0 else rounded:.{decimals}f}"
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, Sequence):
        return "[" + ",".join(_canonical(v, decimals) for v in value) + "]"
    raise TypeError(f"cannot check an answer of type {type(value).__name__}; "
                    "give a number, a string, a bool or a list of them.")


def answer_hash(value, decimals: int = 2) -> str:
    """The hash an author stores for an answer (first 16 hex digits of sha256)."""
    return hashlib.sha256(_canonical(value, decimals).encode()).hexdigest()[:16]


def _report(name: str, ok: bool, hint: str) -> bool:
    record(f"check_{name}", ok)
    if ok:
        print(f"✓ {name}: correct.")
    else:
        print(f"✗ {name}: not yet." + (f" Hint: {hint}" if hint else ""))
    return ok


def check_hash(name: str, value, digest: str, *, decimals: int = 2, hint: str = "") -> bool | None:
    """Check an answer against a stored hash; None (and a reminder) while the answer is still None."""
    if value is None or value is Ellipsis:
        print(f"… {name}: replace the None with your answer, then run this cell again.")
        return None
    return _report(name, answer_hash(value, decimals) == digest, hint)


def check(name: str, ok, *, hint: str = "") -> bool:
    """Check a property of the student's work (e.g. `loss < 0.1`) and say whether it holds."""
    return _report(name, bool(ok), hint)
