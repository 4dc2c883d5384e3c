"""Plots that recur across the book: learning curves, image grids, decision boundaries, heat-maps."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def _ax(ax):
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.gca()


def learning_curves(history, keys: Sequence[str] = ("loss",), ax=None, title: str = "Learning curves"):
    """Plot train and val columns of a History (e.g. keys=('loss',) draws loss and val_loss)."""
    ax = _ax(ax)
    epochs = np.arange(1, len(history) + 1)
    for key in keys:
        ax.plot(epochs, history[key], marker="o", ms=3, label=f"train {key}")
        if history.rows and f"val_{key}" in history.last:
            ax.plot(epochs, history[f"val_{key}"], marker="s", ms=3, label=f"test {key}")
    ax.set(title=title, xlabel="epoch", ylabel=", ".join(keys))
    ax.legend()
    return ax


def image_grid(images, labels: Sequence[str] | None = None, *, ncols: int = 8,
               title: str | None = None, cmap: str = "gray", fig=None, size: float = 1.2):
    """Show images (N, C, H, W) or (N, H, W) in a grid, with an optional label under each."""
    import matplotlib.pyplot as plt

    images = images.detach().cpu() if torch.is_tensor(images) else torch.as_tensor(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W) or (N, H, W), got shape {tuple(images.shape)}.")
    n = len(images)
    if n == 0:
        raise ValueError("image_grid got no images.")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = fig or plt.figure(figsize=(size * ncols, size * nrows + (0.4 if title else 0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i].permute(1, 2, 0).float().numpy()
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img.clip(0, 1), cmap=cmap)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8, fontweight="normal")
    if title:
        fig.suptitle(title)
    return fig


def decision_boundary(predict: Callable[[torch.Tensor], torch.Tensor], X, y, ax=None, *,
                      steps: int = 200, margin: float = 0.5, title: str = "Decision boundary",
                      xlabel: str = "$x_1$", ylabel: str = "$x_2$"):
    """Shade the class `predict` gives each point of the plane, and scatter the data on top."""
    ax = _ax(ax)
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y).reshape(-1)
    lo, hi = X.min(0).values - margin, X.max(0).values + margin
    gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], steps), torch.linspace(lo[1], hi[1], steps),
                            indexing="xy")
    with torch.no_grad():
        zz = predict(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)).reshape(gx.shape)
    ax.contourf(gx.numpy(), gy.numpy(), zz.float().numpy(), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y.numpy(), cmap="coolwarm", edgecolors="k", s=20)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def heatmap(matrix, xticklabels=None, yticklabels=None, ax=None, *, title: str = "",
            xlabel: str = "", ylabel: str = "", fmt: str = "{:.0f}", cmap: str = "Blues"):
    """A labelled heat-map with each cell's value written in it (confusion matrices, attention)."""
    ax = _ax(ax)
    m = np.asarray(matrix.cpu() if torch.is_tensor(matrix) else matrix, dtype=float)
    im = ax.imshow(m, cmap=cmap)
    ax.grid(False)
    if xticklabels is not None:
        ax.set_xticks(range(m.shape[1]), xticklabels, rotation=45, ha="right")
    if yticklabels is not None:
        ax.set_yticks(range(m.shape[0]), yticklabels)
    if m.size <= 400:
        thresh = (m.max() + m.min()) / 2
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                    color="white" if v > thresh else "black")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def confusion_matrix(y_true, y_pred, num_classes: int) -> torch.Tensor:
    """Counts C[i, j] of examples of true class i predicted as j."""
    y_true = torch.as_tensor(y_true).reshape(-1).long()
    y_pred = torch.as_tensor(y_pred).reshape(-1).long()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}.")
    idx = y_true * num_classes + y_pred
    return torch.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)
