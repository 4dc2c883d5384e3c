"""Quick-tier stand-ins: small, learnable data with the real data sets' shapes, made offline."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

PHOTO_CLASSES = ("astronaut", "cat", "coffee", "rocket", "galaxies",
                 "tissue", "retina", "hopper", "brick", "grass")


def _split(n: int, train: bool, test_fraction: float, seed: int) -> np.ndarray:
    """Indices of a fixed, shuffled train/test split."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1 - test_fraction)))
    return order[:cut] if train else order[cut:]


@lru_cache(maxsize=1)
def _digits28_all() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # (N, 1, 8, 8)
    # MNIST centres each digit in a 20x20 box inside a 28x28 frame: do the same
    X = F.interpolate(X, size=(20, 20), mode="bilinear", align_corners=False).clamp_(0, 1)
    X = F.pad(X, (4, 4, 4, 4))
    return X, torch.tensor(digits.target, dtype=torch.int64)


def digits28(train: bool = True):
    """scikit-learn's 1,797 real handwritten digits as MNIST-shaped (X, y): 80 % train, 20 % test."""
    X, y = _digits28_all()
    idx = torch.from_numpy(_split(len(y), train, 0.2, seed=28))
    return X[idx].clone(), y[idx].clone()


def _photos() -> list[np.ndarray]:
    """The ten source photographs as float RGB arrays in [0, 1]."""
    import matplotlib.image as mpimg
    from matplotlib import cbook
    from skimage import data

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        hopper = mpimg.imread(fh, format="jpg")
    raw = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(),
           data.hubble_deep_field(), data.immunohistochemistry(), data.retina(), hopper,
           data.brick(), data.grass()]
    out = []
    for img in raw:
        img = np.asarray(img, dtype=np.float32) / 255.0
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        out.append(img[..., :3])
    return out


@lru_cache(maxsize=2)
def _photo_patches(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.ops import roi_align

    gen = torch.Generator().manual_seed(seed)
    images, labels = [], []
    for label, photo in enumerate(_photos()):
        img = torch.from_numpy(photo).permute(2, 0, 1)[None]  # (1, 3, H, W)
        img = F.interpolate(img, scale_factor=160 / min(img.shape[-2:]), mode="area")
        H, W = img.shape[-2:]
        side = torch.randint(40, min(H, W) // 2 + 1, (n_per_class,), generator=gen).float()
        top = torch.rand(n_per_class, generator=gen) * (H - side)
        left = torch.rand(n_per_class, generator=gen) * (W - side)
        boxes = torch.stack([torch.zeros(n_per_class), left, top, left + side, top + side], 1)
        crops = roi_align(img, boxes, output_size=32, sampling_ratio=2, aligned=True)
        flip = torch.rand(n_per_class, generator=gen) < 0.5
        crops[flip] = crops[flip].flip(-1)
        images.append(crops)
        labels.append(torch.full((n_per_class,), label, dtype=torch.int64))
    return torch.cat(images).clamp_(0, 1), torch.cat(labels)


def photo_patches(train: bool = True, n_per_class: int = 300):
    """A CIFAR-10-shaped stand-in (X, y): random 32x32 crops of ten photographs, one class each."""
    X, y = _photo_patches(n_per_class, seed=10)
    idx = torch.from_numpy(_split(len(y), train, 1 / 6, seed=32))
    return X[idx].clone(), y[idx].clone()


def exam_scores(n: int = 100, seed: int = 0):
    """Two exam scores (30-100) and an admitted label, like the book's logistic-regression data."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(30, 100, size=(n, 2))
    logit = 0.2 * (X[:, 0] + X[:, 1] - 130)  # admitted when the scores add up to about 130
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)[:, None]
