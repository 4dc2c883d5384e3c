"""Notebook set-up: seeds, device, threads, figure style and the quick/full tier switch."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

#: The one figure style of the book (set by :func:`setup`, usable alone via :func:`set_style`).
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "image.cmap": "viridis",
    "figure.autolayout": True,
}


def _env_flag(name: str) -> bool | None:
    """Read a yes/no environment variable; None when it is unset."""
    raw = os.environ.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not understood: use 1 (yes) or 0 (no).")


def is_quick(quick: bool | None = None) -> bool:
    """Resolve the tier: an explicit argument wins, then DLBOOK_QUICK, else the full tier."""
    if quick is not None:
        if not isinstance(quick, bool):
            raise TypeError(f"quick must be True, False or None, not {quick!r}.")
        return quick
    return bool(_env_flag("DLBOOK_QUICK"))


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show progress bars: an explicit argument wins, then DLBOOK_PROGRESS (default yes)."""
    if progress is not None:
        return progress
    flag = _env_flag("DLBOOK_PROGRESS")
    return True if flag is None else flag


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose the device once: DLBOOK_DEVICE or `prefer` if given, else cuda, then mps, then cpu."""
    wanted = prefer or os.environ.get("DLBOOK_DEVICE")
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {wanted!r} was asked for but CUDA is not available; "
                               "unset DLBOOK_DEVICE or use 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); return a torch.Generator seeded the same way."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def set_style() -> None:
    """Apply the book's single matplotlib style."""
    import matplotlib as mpl

    mpl.rcParams.update(STYLE)


@dataclass
class Env:
    """What :func:`setup` chose; `pick(quick=..., full=...)` returns the value for the current tier."""

    quick: bool
    device: torch.device
    seed: int
    threads: int
    generator: torch.Generator

    @property
    def tier(self) -> str:
        """'quick' or 'full'."""
        return "quick" if self.quick else "full"

    def pick(self, *, quick: Any, full: Any) -> Any:
        """Return `quick` in the quick tier and `full` in the full tier."""
        return quick if self.quick else full

    def __repr__(self) -> str:
        return (f"Env(tier={self.tier!r}, device={str(self.device)!r}, seed={self.seed}, "
                f"threads={self.threads})")


def setup(seed: int = 0, quick: bool | None = None, *, device: str | None = None,
          threads: int | None = None, verbose: bool = True) -> Env:
    """Seed everything, pick the device and threads, set the figure style and the tier; print one line.

    DLBOOK_SEED, when set, replaces `seed` (used to check that a claim holds on several seeds)."""
    quick_tier = is_quick(quick)
    if os.environ.get("DLBOOK_SEED", "").strip():
        raw = os.environ["DLBOOK_SEED"].strip()
        if not raw.isdigit():
            raise ValueError(f"DLBOOK_SEED={raw!r} is not a non-negative whole number.")
        seed = int(raw)
    generator = seed_everything(seed)
    dev = pick_device(device)
    if threads is None and os.environ.get("DLBOOK_THREADS"):
        threads = int(os.environ["DLBOOK_THREADS"])
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, not {threads}.")
        torch.set_num_threads(threads)
    set_style()
    env = Env(quick=quick_tier, device=dev, seed=seed, threads=torch.get_num_threads(),
              generator=generator)
    if verbose:
        sample = " (recipe on the real sample)" if not quick_tier and _env_flag("DLBOOK_SAMPLE") else ""
        print(f"dlbook: {env.tier} tier{sample} | device {dev} | {env.threads} CPU threads "
              f"| seed {seed} | torch {torch.__version__}")
    return env
