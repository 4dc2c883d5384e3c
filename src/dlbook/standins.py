"""Quick-tier stand-ins: data with the real data sets' shapes, made offline from what dependencies ship."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

PHOTO_CLASSES = ("astronaut", "cat", "coffee", "rocket", "galaxies",
                 "tissue", "retina", "hopper", "brick", "grass")


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


TEST_REGION = 0.3  # the last 30 % of each photo's long side gives the test crops, the rest train


def _jitter_colour(crops: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per crop: a random hue rotation, brightness and contrast, and grey with probability 0.2."""
    n = len(crops)
    grey = crops.mean(1, keepdim=True)                                     # (n, 1, 32, 32)
    angle = torch.rand(n, generator=gen) * 2 * torch.pi
    # rotate colours about the grey axis (Rodrigues' formula for the unit axis (1,1,1)/sqrt 3)
    k = torch.full((3,), 3 ** -0.5)
    K = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    eye = torch.eye(3)
    cos, sin = angle.cos()[:, None, None], angle.sin()[:, None, None]
    R = eye + sin * K + (1 - cos) * (K @ K)                                # (n, 3, 3)
    out = torch.einsum("nij,njhw->nihw", R, crops)
    brightness = 0.6 + 0.8 * torch.rand(n, 1, 1, 1, generator=gen)
    contrast = 0.6 + 0.8 * torch.rand(n, 1, 1, 1, generator=gen)
    mean = out.mean((1, 2, 3), keepdim=True)
    out = (out - mean) * contrast + mean * brightness
    to_grey = torch.rand(n, generator=gen) < 0.2
    out[to_grey] = (grey[to_grey] * brightness[to_grey]).expand(-1, 3, -1, -1)
    return out.clamp_(0, 1)


@lru_cache(maxsize=4)
def _photo_patches(train: bool, n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.ops import roi_align

    gen = torch.Generator().manual_seed(seed + (0 if train else 1))
    images, labels = [], []
    for label, photo in enumerate(_photos()):
        img = torch.from_numpy(photo).permute(2, 0, 1)[None]  # (1, 3, H, W)
        img = F.interpolate(img, scale_factor=192 / min(img.shape[-2:]), mode="area")
        H, W = img.shape[-2:]
        # split the photo's long side: train crops never overlap test crops
        cut = int((W if W >= H else H) * (1 - TEST_REGION))
        if W >= H:
            x0, x1, y0, y1 = (0, cut, 0, H) if train else (cut, W, 0, H)
        else:
            x0, x1, y0, y1 = (0, W, 0, cut) if train else (0, W, cut, H)
        side = 32 + torch.rand(n_per_class, generator=gen) * 16               # 32-48 px
        left = x0 + torch.rand(n_per_class, generator=gen) * (x1 - x0 - side)
        top = y0 + torch.rand(n_per_class, generator=gen) * (y1 - y0 - side)
        boxes = torch.stack([torch.zeros(n_per_class), left, top, left + side, top + side], 1)
        crops = roi_align(img, boxes, output_size=32, sampling_ratio=2, aligned=True)
        flip = torch.rand(n_per_class, generator=gen) < 0.5
        crops[flip] = crops[flip].flip(-1)
        images.append(_jitter_colour(crops, gen))
        labels.append(torch.full((n_per_class,), label, dtype=torch.int64))
    order = torch.randperm(n_per_class * len(images), generator=gen)
    return torch.cat(images)[order], torch.cat(labels)[order]


def photo_patches(train: bool = True, n_per_class: int | None = None, seed: int = 10):
    """A CIFAR-10-shaped stand-in (X, y): 32x32 crops of ten photographs, one class per photo.

    Train crops come from the first 70 % of each photo's long side and test crops from the rest,
    so no pixel is in both splits; every crop gets a random hue rotation, brightness and
    contrast (and is grey one time in five), so that colour alone cannot name the class.
    Default sizes: 250 train and 50 test crops per class (2,500 / 500)."""
    n = n_per_class or (250 if train else 50)
    X, y = _photo_patches(train, n, seed)
    return X.clone(), y.clone()


def exam_scores(n: int = 100, seed: int = 0):
    """Two exam scores (30-100) and an admitted label, like the book's logistic-regression data."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(30, 100, size=(n, 2))
    logit = 0.2 * (X[:, 0] + X[:, 1] - 130)  # admitted when the scores add up to about 130
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)[:, None]
