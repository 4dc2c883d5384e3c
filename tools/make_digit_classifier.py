"""Rebuild src/dlbook/sample_data/digit_classifier.pt, the weights of dlbook.scorer's digit classifier.

Trains `dlbook.scorer.train_digit_classifier` on the 4,000 training digits of the shipped real MNIST
sample and prints its accuracy on the sample's 1,000 held-out digits. Run from the repository root:
    .venv/bin/python tools/make_digit_classifier.py [--epochs 20] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from dlbook.data import load_mnist_sample
from dlbook.scorer import WEIGHTS, to_classifier_input, train_digit_classifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = time.perf_counter()
    net = train_digit_classifier(*load_mnist_sample(train=True), epochs=args.epochs, seed=args.seed)
    X, y = load_mnist_sample(train=False)
    with torch.no_grad():
        acc = (net(to_classifier_input(X, (0, 1))).argmax(1) == y).float().mean().item()
    tmp = WEIGHTS.with_suffix(".tmp")
    torch.save({k: v.clone() for k, v in net.state_dict().items()}, tmp)
    os.replace(tmp, WEIGHTS)  # atomic: never a half-written weights file
    print(f"held-out accuracy {acc:.4f} on {len(y)} digits; {time.perf_counter() - start:.0f} s; "
          f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
