"""Trivial baselines that a network must beat before its number means anything.

Used wherever a claim compares a model with "what you get without learning features": the majority
class, a nearest neighbour on raw pixels or on colour alone.
"""
from __future__ import annotations

import torch


def majority_class(y_train: torch.Tensor, y_test: torch.Tensor) -> float:
    """Test accuracy of always predicting the most frequent training class."""
    majority = torch.bincount(y_train.reshape(-1).long()).argmax()
    return (y_test.reshape(-1) == majority).float().mean().item()


def colour_histogram(X: torch.Tensor, bins: int = 8, chunk: int = 4096) -> torch.Tensor:
    """Per image (N, C, H, W) in [0, 1]: a normalised histogram of each channel, (N, C * bins).

    Works through the images `chunk` at a time, so 50,000 CIFAR images need little memory."""
    if X.ndim != 4:
        raise ValueError(f"colour_histogram takes images (N, C, H, W), got shape {tuple(X.shape)}.")
    out = []
    for part in X.split(chunk):
        idx = (part.clamp(0, 1) * bins).long().clamp_(max=bins - 1).flatten(2)  # (n, C, H*W)
        counts = torch.zeros(*idx.shape[:2], bins, device=X.device)
        counts.scatter_add_(2, idx, torch.ones(idx.shape, device=X.device))
        out.append((counts / idx.shape[-1]).flatten(1))
    return torch.cat(out)


def nearest_neighbour(F_train: torch.Tensor, y_train: torch.Tensor, F_test: torch.Tensor,
                      y_test: torch.Tensor, batch_size: int = 1024) -> float:
    """Test accuracy of 1-nearest-neighbour (Euclidean) on the given features."""
    if len(F_train) != len(y_train) or len(F_test) != len(y_test):
        raise ValueError("features and labels must have the same number of rows.")
    F_train, F_test = F_train.flatten(1).float(), F_test.flatten(1).float()
    preds = [y_train[torch.cdist(F_test[i:i + batch_size], F_train).argmin(1)]
             for i in range(0, len(F_test), batch_size)]
    return (torch.cat(preds) == y_test).float().mean().item()


def nearest_colour(X_train, y_train, X_test, y_test, bins: int = 8) -> float:
    """1-nearest-neighbour accuracy on colour histograms: what colour alone tells about the class."""
    return nearest_neighbour(colour_histogram(X_train, bins), y_train,
                             colour_histogram(X_test, bins), y_test)
