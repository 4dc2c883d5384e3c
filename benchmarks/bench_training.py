"""Time one training epoch through `dlbook.fit` against a plain DataLoader loop.

Two workloads of chapter 4, on synthetic data of the real sizes (random but fixed tensors):

- ``mnist``: the book's §4.5 CNN (notebooks/ch04_cnn/03_mnist_cnn) on 60,000 x 1x28x28 images;
- ``cifar``: the full-tier narrow ResNet-18 of notebooks/ch04_cnn/05_cifar10 on 50,000 x 3x32x32.

For each, the same model (same initial weights) and optimiser are trained for one epoch twice:

1. ``dlbook.fit`` with in-memory ``TensorBatches`` (the data moves to the device once, the running
   sums stay on the device);
2. a ``torch.utils.data.DataLoader(TensorDataset(X, y), shuffle=True)`` and the hand-written
   loop most code uses (each batch moved to the device, ``loss.item()`` per batch).

On CUDA both use mixed precision; on CUDA and on the CPU the models use the channels-last layout,
as notebook 05 does. Examples::

    python benchmarks/bench_training.py                  # full epochs (slow on a CPU)
    python benchmarks/bench_training.py --fraction 0.1   # a tenth of an epoch
    python benchmarks/bench_training.py --models cifar --device cuda --batch-size 256

This is a measurement, not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import dlbook

WORKLOADS = {"mnist": (60_000, (1, 28, 28)), "cifar": (50_000, (3, 32, 32))}


def mnist_cnn() -> nn.Module:
    """The book's §4.5 CNN, as in notebooks/ch04_cnn/03_mnist_cnn."""
    def block(c_in, c_out, pool=False):
        layers = [nn.Conv2d(c_in, c_out, 3, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        return layers + [nn.MaxPool2d(2)] if pool else layers
    return nn.Sequential(*block(1, 16), *block(16, 32, True), *block(32, 64),
                         *block(64, 128, True), nn.Flatten(), nn.Linear(2048, 1024), nn.ReLU(),
                         nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10))


class BasicBlock(nn.Module):
    """ReLU(x + F(x)), as in notebooks/ch04_cnn/05_cifar10."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        return F.relu(self.shortcut(x) + self.f(x))


def cifar_resnet(widths=(32, 64, 128, 256), blocks_per_stage=2) -> nn.Module:
    """The CIFAR-style ResNet of notebooks/ch04_cnn/05_cifar10 (default: its full-tier size)."""
    layers = [nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    c_in = widths[0]
    for i, c_out in enumerate(widths):
        for j in range(blocks_per_stage):
            layers.append(BasicBlock(c_in, c_out, 2 if i > 0 and j == 0 else 1))
            c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 10)]
    return nn.Sequential(*layers)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_dlbook(model, X, y, device, batch_size, amp) -> float:
    """Seconds for one epoch of dlbook.fit over in-memory TensorBatches."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    synchronize(device)
    start = time.perf_counter()
    batches = dlbook.TensorBatches(X, y, batch_size, shuffle=True, device=device,
                                   generator=torch.Generator().manual_seed(0))
    dlbook.fit(model, batches, epochs=1, opt=opt, amp=amp, progress=False)
    synchronize(device)
    return time.perf_counter() - start


def time_dataloader(model, X, y, device, batch_size, amp) -> float:
    """Seconds for one epoch of a DataLoader(TensorDataset) and a hand-written loop."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    synchronize(device)
    start = time.perf_counter()
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        with torch.autocast(device.type, enabled=use_amp):
            out = model(xb)
            loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        total_loss += loss.item() * len(yb)          # the usual per-batch host sync
        correct += (out.argmax(1) == yb).sum().item()
        count += len(yb)
    synchronize(device)
    return time.perf_counter() - start


def warm_up(model, X, y, device, amp, batch_size, steps=2) -> None:
    """A few untimed steps, so one-off costs (kernel selection, lazy imports) are not timed."""
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    for _ in range(steps):
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            xb, yb = X[:batch_size].to(device), y[:batch_size].to(device)
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    synchronize(device)


def run(name, fraction, device, batch_size, amp, channels_last, repeat):
    """Time both pipelines on one workload (best of `repeat`, interleaved); return a table row."""
    full_n, shape = WORKLOADS[name]
    n = max(1, round(full_n * fraction / batch_size)) * batch_size  # whole batches only
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(n, *shape, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    torch.manual_seed(0)
    base = (mnist_cnn if name == "mnist" else cifar_resnet)()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    base = base.to(device, memory_format=fmt)
    warm_up(base, X, y, device, amp, batch_size)
    t_fit, t_loader = float("inf"), float("inf")
    for _ in range(repeat):  # interleaved, so a burst of load on a shared machine hits both
        t_fit = min(t_fit, time_dlbook(copy.deepcopy(base), X, y, device, batch_size, amp))
        t_loader = min(t_loader, time_dataloader(copy.deepcopy(base), X, y, device, batch_size,
                                                 amp))
    return dict(workload=name, images=n, fit=t_fit, loader=t_loader,
                full_epoch=t_fit * full_n / n)


def main(argv=None) -> int:
    """Parse the options, run the workloads and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="fraction of an epoch to time, e.g. 0.1 on slow machines")
    parser.add_argument("--models", default="mnist,cifar", help="comma-separated: mnist, cifar")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default=None, help="default: cuda, then mps, then cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--repeat", type=int, default=2,
                        help="timings per pipeline (the best is kept)")
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = set(names) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(WORKLOADS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = dlbook.pick_device(args.device)
    amp = device.type == "cuda" and not args.no_amp
    channels_last = device.type in ("cuda", "cpu")
    print(f"device {device} | {torch.get_num_threads()} CPU threads | torch {torch.__version__} "
          f"| batch {args.batch_size} | amp {amp} | channels_last {channels_last} "
          f"| fraction {args.fraction} | best of {args.repeat}")
    rows = [run(name, args.fraction, device, args.batch_size, amp, channels_last, args.repeat)
            for name in names]
    print(f"\n{'workload':<9}{'images':>8}{'dlbook.fit s':>14}{'DataLoader s':>14}"
          f"{'loader/fit':>12}{'fit img/s':>11}{'full epoch (est.)':>19}")
    for r in rows:
        print(f"{r['workload']:<9}{r['images']:>8}{r['fit']:>14.2f}{r['loader']:>14.2f}"
              f"{r['loader'] / r['fit']:>12.2f}{r['images'] / r['fit']:>11.0f}"
              f"{r['full_epoch'] / 60:>16.1f} min")
    print("\nloader/fit > 1 means dlbook.fit was faster. 'full epoch' scales the dlbook.fit time "
          "to the whole data set.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
