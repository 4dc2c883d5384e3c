"""Training plumbing: in-memory batching, `fit`, `evaluate`, accuracy and a history of epochs.

The raw loop is taught inline in chapter 3 (`04_linear_regression`, `10_mnist_mlp`); this is the same loop,
written once, with a progress bar, device moves in one place and no per-batch host synchronisation.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext

import torch
from torch import nn
from tqdm.auto import tqdm

from .env import _env_flag, progress_enabled

Batch = tuple[torch.Tensor, torch.Tensor]
LONG_RUN_MINUTES = 20.0  # on a CPU, a run estimated longer than this stops and says what to do
PROBE_BATCHES = 5  # batches timed (after one warm-up batch) to estimate a run's duration


class LongRunError(RuntimeError):
    """A run would take far too long on this device; the message lists the ways out."""


def _fmt_minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def check_duration(seconds: float, device, what: str = "this training",
                   limit_minutes: float = LONG_RUN_MINUTES) -> None:
    """Print the estimated duration of a run; on a CPU, stop a run longer than `limit_minutes`.

    The stop is an exception whose message names the ways out: the quick tier, a GPU, or
    DLBOOK_ALLOW_LONG=1 to run it anyway. Call it before a long hand-written loop; `fit` calls it
    itself after timing its first batches."""
    device = torch.device(device)
    if seconds >= 60:
        print(f"{what}: about {_fmt_minutes(seconds)} on {device.type} (estimated from the first "
              "batches)")
    if device.type == "cpu" and seconds > limit_minutes * 60 and not _env_flag("DLBOOK_ALLOW_LONG"):
        raise LongRunError(
            f"{what} would take about {_fmt_minutes(seconds)} on this CPU, so it was stopped before "
            "it started in earnest. Choose one: run the quick tier (set QUICK = True in the "
            "parameters cell, or DLBOOK_QUICK=1); use a GPU (Colab: Runtime > Change runtime type > "
            "GPU); or set the environment variable DLBOOK_ALLOW_LONG=1 and run it anyway.")


class TensorBatches:
    """Mini-batches of in-memory tensors (X, y), moved to `device` once and shuffled by index."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int = 64, *,
                 shuffle: bool = False, device: torch.device | str | None = None,
                 generator: torch.Generator | None = None, drop_last: bool = False,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}.")
        device = torch.device(device) if device is not None else X.device
        self.X, self.y = X.to(device), y.to(device)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator, self.transform = generator, transform

    def __len__(self) -> int:
        n = len(self.X) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.X)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.X.device)
        else:
            order = None
        for i in range(len(self)):
            sl = slice(i * self.batch_size, min((i + 1) * self.batch_size, n))
            xb, yb = (self.X[order[sl]], self.y[order[sl]]) if order is not None else (
                self.X[sl], self.y[sl])
            yield (self.transform(xb) if self.transform else xb), yb


def as_batches(data, batch_size: int, shuffle: bool, device, generator=None) -> Iterable[Batch]:
    """Accept a (X, y) pair, a TensorBatches or any iterable of (X, y) batches (e.g. a DataLoader)."""
    if isinstance(data, tuple) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
        return TensorBatches(*data, batch_size=batch_size, shuffle=shuffle, device=device,
                             generator=generator)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        raise TypeError("data must be a pair of tensors (X, y), a TensorBatches or a DataLoader; "
                        "got a pair that is not two tensors.")
    return data


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose arg-max (or, for one logit, sign) matches y; a 0-d tensor, no sync."""
    if logits.ndim == 1 or logits.shape[-1] == 1:
        pred = (logits.reshape(-1) > 0).to(y.dtype)
        return (pred == y.reshape(-1)).float().mean()
    return (logits.argmax(dim=-1) == y).float().mean()


class History:
    """One row per epoch (dicts of floats); index by key for a column, `rows` for the table."""

    def __init__(self):
        self.rows: list[dict[str, float]] = []

    def append(self, **row: float) -> None:
        """Add an epoch's numbers."""
        self.rows.append(row)

    def __getitem__(self, key: str) -> list[float]:
        if not self.rows or key not in self.rows[-1]:
            have = sorted(self.rows[-1]) if self.rows else []
            raise KeyError(f"history has no column {key!r}; it has {have}.")
        return [r[key] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def last(self) -> dict[str, float]:
        """The last epoch's row."""
        return self.rows[-1]

    def to_frame(self):
        """The history as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        return pd.DataFrame(self.rows, index=pd.RangeIndex(1, len(self.rows) + 1, name="epoch"))

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4f}")

    def __repr__(self) -> str:
        return self.to_frame().to_string(float_format=lambda v: f"{v:.4f}") if self.rows else \
            "History(empty)"


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return nullcontext()


@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable = nn.functional.cross_entropy, *,
             batch_size: int = 512, device=None, metric: Callable | None = accuracy,
             amp: bool = False) -> dict[str, float]:
    """Mean loss (and metric) of `model` over `data`, in eval mode, without gradients."""
    device = torch.device(device) if device else next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    total_metric = torch.zeros((), device=device)
    count = 0
    for xb, yb in as_batches(data, batch_size, False, device):
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        with _autocast(device, amp):
            out = model(xb)
        n = len(yb)
        total_loss += loss_fn(out.float(), yb) * n
        if metric is not None:
            total_metric += metric(out.float(), yb) * n
        count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate got no batches: the data is empty.")
    result = {"loss": total_loss.item() / count}  # one host sync per call
    if metric is not None:
        result[getattr(metric, "__name__", "metric")] = total_metric.item() / count
    return result


def fit(model: nn.Module, train, val=None, *, epochs: int, opt: torch.optim.Optimizer,
        loss_fn: Callable = nn.functional.cross_entropy, batch_size: int = 64, device=None,
        scheduler=None, metric: Callable | None = accuracy, amp: bool = False,
        generator: torch.Generator | None = None, progress: bool | None = None,
        clip_grad: float | None = None, scheduler_step: str = "epoch") -> History:
    """Train `model` for `epochs` epochs; return a History of train (and val) loss and metric.

    `train`/`val` are (X, y) tensor pairs (batched in memory), TensorBatches, or DataLoaders.
    `scheduler.step()` is called once per epoch, or after every batch with scheduler_step="batch"
    (e.g. OneCycleLR). The progress bar can be silenced with
    progress=False or DLBOOK_PROGRESS=0. After a few batches of the first epoch the whole run's
    duration is estimated (`check_duration`): over a minute it is printed, and on a CPU a run of
    more than 20 minutes stops with the ways out (quick tier, GPU, DLBOOK_ALLOW_LONG=1).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, not {epochs}.")
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', not {scheduler_step!r}.")
    device = torch.device(device) if device else next(model.parameters()).device
    model.to(device)
    batches = as_batches(train, batch_size, True, device, generator)
    scaler = torch.amp.GradScaler("cuda") if amp and device.type == "cuda" else None
    name = getattr(metric, "__name__", "metric") if metric is not None else None
    history = History()
    try:
        total_batches = epochs * len(batches)
    except TypeError:  # an iterable without a length: no estimate, no bar total
        total_batches = None
    probe = total_batches is not None and total_batches > 4 * (PROBE_BATCHES + 1)
    bar = tqdm(total=total_batches, disable=not progress_enabled(progress),
               unit="batch", desc="fit")
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        total_loss = torch.zeros((), device=device)
        total_metric = torch.zeros((), device=device)
        count = 0
        for i, (xb, yb) in enumerate(batches):
            if probe and epoch == 0 and i in (1, 1 + PROBE_BATCHES):
                if device.type == "cuda":
                    torch.cuda.synchronize(device)  # once, to time the probe honestly
                if i == 1:
                    probe_start = time.perf_counter()
                else:
                    per_batch = (time.perf_counter() - probe_start) / PROBE_BATCHES
                    check_duration(per_batch * total_batches, device, "fit")
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            with _autocast(device, amp):
                out = model(xb)
                loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
            else:
                loss.backward()
            if clip_grad is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            n = len(yb)
            total_loss += loss.detach() * n  # stays on the device: no sync per batch
            if metric is not None:
                total_metric += metric(out.detach().float(), yb) * n
            count += n
            bar.update(1)
            if scheduler is not None and scheduler_step == "batch":
                scheduler.step()
        if scheduler is not None and scheduler_step == "epoch":
            scheduler.step()
        row = {"loss": total_loss.item() / count}
        if metric is not None:
            row[name] = total_metric.item() / count
        if val is not None:
            scores = evaluate(model, val, loss_fn, batch_size=max(batch_size, 256), device=device,
                              metric=metric, amp=amp)
            row.update({f"val_{k}": v for k, v in scores.items()})
        row["seconds"] = time.perf_counter() - start
        history.append(**row)
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k != "seconds"})
    bar.close()
    return history


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor, batch_size: int = 512, device=None) -> torch.Tensor:
    """Model outputs for X, computed in eval mode in batches, returned on the CPU."""
    device = torch.device(device) if device else next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = [model(X[i:i + batch_size].to(device)).cpu() for i in range(0, len(X), batch_size)]
    model.train(was_training)
    return torch.cat(outs)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
