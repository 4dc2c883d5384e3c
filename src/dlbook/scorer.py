"""A digit classifier that scores generated digits (chapter 6): losses are not progress for a GAN.

`score_digits(images)` classifies images with a small CNN trained once on real digits and returns
an Inception-score-style number, exp(E_x KL(p(y|x) || p(y))): near 10 when the images are
recognisable digits (confident predictions) of all ten classes (diverse predictions), near 1 for
noise or for a generator that collapsed onto one class. `frechet_distance` compares the classifier's
features of two image sets (the FID recipe, on this digit classifier instead of Inception-v3).

The classifier's weights ship with the package (`sample_data/digit_classifier.pt`). It was trained by
`train_digit_classifier` on the 4,000 training digits of the real MNIST sample, which come from the
official MNIST *test* set; it never saw the sample's 1,000 test digits or the official training set,
so both are fair "real digit" references. It works at 14x14: 28x28 inputs are average-pooled, so
samples of a 14x14 GAN and of a 28x28 GAN are scored alike. `tools/make_digit_classifier.py`
rebuilds the weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS = Path(__file__).with_name("sample_data") / "digit_classifier.pt"
SIZES = {784: 28, 196: 14}


class DigitClassifier(nn.Module):
    """A small CNN for 1x14x14 digits in [0, 1]: 3 conv layers, 2 pools, 128 features, 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                                    # 32 x 7 x 7
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 3 x 3
            nn.Flatten(), nn.Linear(576, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def to_classifier_input(images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)):
    """Check images and bring them to (N, 1, 14, 14) in [0, 1].

    Accepts (N, 784), (N, 196), (N, 28, 28), (N, 14, 14), (N, 1, 28, 28) or (N, 1, 14, 14), with
    pixel values in `value_range`: (-1, 1) for a tanh output (the book's normalisation), (0, 1) for
    `load_mnist` or a sigmoid output."""
    if not torch.is_tensor(images):
        raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}.")
    x = images.detach().float().cpu()
    if x.ndim == 2 and x.shape[1] in SIZES:
        side = SIZES[x.shape[1]]
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1 or tuple(x.shape[2:]) not in {(28, 28), (14, 14)} or not len(x):
        raise ValueError(
            f"images must be a batch of grey digits, 28x28 or 14x14: (N, 784), (N, 196), (N, H, W) or "
            f"(N, 1, H, W) with N >= 1; got shape {tuple(images.shape)}.")
    lo, hi = value_range
    if not hi > lo:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}.")
    if not torch.isfinite(x).all():
        raise ValueError("images contain NaN or inf: the generator diverged; nothing to score.")
    slack = 1e-3 * (hi - lo)
    if x.min() < lo - slack or x.max() > hi + slack:
        raise ValueError(
            f"pixel values span [{x.min():.3g}, {x.max():.3g}], outside value_range={value_range}; "
            "pass value_range=(0, 1) for images in [0, 1], or (-1, 1) for a tanh output.")
    x = ((x - lo) / (hi - lo)).clamp_(0, 1)
    return F.avg_pool2d(x, 2) if x.shape[-1] == 28 else x


@lru_cache(maxsize=1)
def digit_classifier() -> DigitClassifier:
    """The shipped, trained classifier (CPU, eval mode, frozen)."""
    if not WEIGHTS.is_file():
        raise FileNotFoundError(f"{WEIGHTS} is missing: reinstall dlbook (`pip install -e .` in a "
                                "checkout), or rebuild it with `python tools/make_digit_classifier.py`.")
    net = DigitClassifier()
    try:
        net.load_state_dict(torch.load(WEIGHTS, map_location="cpu", weights_only=True))
    except Exception as err:  # a damaged file or one from another architecture
        raise RuntimeError(f"{WEIGHTS} could not be loaded ({err}); reinstall dlbook, or rebuild it "
                           "with `python tools/make_digit_classifier.py`.") from err
    net.eval().requires_grad_(False)
    return net


def _run(images, value_range, batch_size: int = 1000):
    x = to_classifier_input(images, value_range)
    net = digit_classifier()
    with torch.no_grad():
        feats = torch.cat([net.features(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        return feats, net.head(feats)


def classify_digits(images, value_range=(-1.0, 1.0)) -> torch.Tensor:
    """The classifier's probabilities, (N, 10)."""
    return _run(images, value_range)[1].softmax(1)


@dataclass(frozen=True)
class DigitScore:
    """How a set of images looks to the digit classifier."""

    inception_score: float   # exp(E KL(p(y|x) || p(y))): 1 (noise, one class) .. 10 (clear, all classes)
    confidence: float        # mean of the top class probability
    histogram: tuple         # fraction of images predicted as each digit 0..9
    n: int

    def __str__(self):
        hist = " ".join(f"{h:.2f}" for h in self.histogram)
        return (f"digit score {self.inception_score:.2f} (of 10), confidence {self.confidence:.2f}, "
                f"n={self.n}, classes 0-9: {hist}")


def inception_score(probs: torch.Tensor) -> float:
    """exp(mean over images of KL(p(y|x) || p(y))) for class probabilities (N, K)."""
    if probs.ndim != 2 or not len(probs):
        raise ValueError(f"probs must be (N, K) with N >= 1, got shape {tuple(probs.shape)}.")
    p = probs.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return float((p * (p.log() - marginal.log())).sum(1).mean().exp())


def score_digits(images, value_range=(-1.0, 1.0)) -> DigitScore:
    """Score generated (or real, or noise) digits; see the module docstring. Use >= 500 images:
    the score of a few images is biased low (their class histogram cannot be even)."""
    probs = classify_digits(images, value_range)
    hist = torch.bincount(probs.argmax(1), minlength=10).double() / len(probs)
    return DigitScore(inception_score(probs), float(probs.max(1).values.mean()),
                      tuple(round(float(h), 4) for h in hist), len(probs))


def digit_features(images, value_range=(-1.0, 1.0)) -> torch.Tensor:
    """The classifier's 128 penultimate features, (N, 128), float64."""
    return _run(images, value_range)[0].double()


def frechet_distance(images, reference, value_range=(-1.0, 1.0),
                     reference_range: tuple[float, float] | None = None) -> float:
    """Fréchet distance between Gaussians fitted to the classifier features of two image sets
    (0 for identical statistics; lower is closer to the reference). Both sets need >= 2 images."""
    return gaussian_frechet(digit_features(images, value_range),
                            digit_features(reference, reference_range or value_range))


def gaussian_frechet(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to feature rows a (N, D) and b (M, D):
    |mu_a - mu_b|^2 + tr(A + B - 2 (A B)^(1/2))."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"need two feature sets (N, D), (M, D) with N, M >= 2 (500+ for a stable "
                         f"value); got {tuple(a.shape)} and {tuple(b.shape)}.")
    a, b = a.double(), b.double()
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    # trace (A B)^(1/2) = sum of sqrt(eigenvalues) of A^(1/2) B A^(1/2), which is symmetric PSD
    w, v = torch.linalg.eigh(cov_a)
    root_a = v @ torch.diag(w.clamp_min(0).sqrt()) @ v.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((a.mean(0) - b.mean(0)).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross)


def real_digits(n: int = 1000, quick: bool | None = None):
    """Real digits (X in [0, 1], (n, 1, 28, 28); y) that the classifier never saw: the reference
    that generated digits are scored against. Quick tier (or DLBOOK_SAMPLE=1): the sample's 1,000
    held-out digits; full tier: official test digits 5,000 onwards (the sample is the first 5,000)."""
    from .data import fetch, load_mnist_sample, read_idx, use_sample, _to_tensors

    if use_sample(quick):
        X, y = load_mnist_sample(train=False)
    else:
        paths = fetch("mnist")
        X, y = _to_tensors(read_idx(paths["t10k-images-idx3-ubyte.gz"])[5000:, None],
                           read_idx(paths["t10k-labels-idx1-ubyte.gz"])[5000:])
    if not 1 <= n <= len(y):
        raise ValueError(f"n must be between 1 and {len(y)} here, got {n}.")
    return X[:n], y[:n]


def train_digit_classifier(X: torch.Tensor, y: torch.Tensor, *, epochs: int = 20, seed: int = 0,
                           batch_size: int = 64, lr: float = 2e-3,
                           outliers: int = 16) -> DigitClassifier:
    """Train a DigitClassifier on digits X in [0, 1] (any accepted shape) with labels y.

    Random shifts of up to 1 pixel (at 14x14) and AdamW with a one-cycle schedule. Each batch also
    shows `outliers` non-digits (uniform noise, and digits with their pixels shuffled) whose target
    is the uniform distribution, so that noise gets low confidence instead of a confident "8".
    Deterministic for a seed on one machine."""
    x = to_classifier_input(X, (0.0, 1.0))
    y = torch.as_tensor(y, dtype=torch.long)
    if len(y) != len(x) or y.min() < 0 or y.max() > 9:
        raise ValueError("y must hold one label 0..9 per image.")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # seed the initialisation, leave the caller's RNG alone
        torch.manual_seed(seed)
        net = DigitClassifier()
    steps = epochs * -(-len(x) // batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    padded = F.pad(x, (1, 1, 1, 1))
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            dx, dy = torch.randint(0, 3, (2,), generator=gen).tolist()
            xb = padded[idx, :, dy:dy + 14, dx:dx + 14]
            loss = F.cross_entropy(net(xb), y[idx])
            if outliers:
                half = outliers // 2
                noise = torch.rand(outliers - half, 1, 14, 14, generator=gen)
                flat = xb[:half].flatten(1)
                perm = torch.argsort(torch.rand(flat.shape, generator=gen), dim=1)
                junk = torch.cat([noise, flat.gather(1, perm).view(-1, 1, 14, 14)])
                loss = loss - F.log_softmax(net(junk), 1).mean()  # cross-entropy to uniform
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()
