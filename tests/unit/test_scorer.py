"""dlbook.scorer: the shipped digit classifier that scores generated digits (chapter 6)."""
from __future__ import annotations

import pytest
import torch

from dlbook.data import load_mnist_sample
from dlbook.scorer import (classify_digits, digit_classifier, frechet_distance, gaussian_frechet,
                           inception_score, real_digits, score_digits, to_classifier_input,
                           train_digit_classifier)


@pytest.fixture(scope="module")
def held_out():
    return load_mnist_sample(train=False)


def test_shipped_classifier_is_accurate_on_held_out_digits(held_out):
    X, y = held_out
    acc = (classify_digits(X, (0, 1)).argmax(1) == y).float().mean().item()
    assert acc >= 0.96
    assert sum(p.numel() for p in digit_classifier().parameters()) == 103_210


def test_real_digits_score_high_and_noise_scores_one(held_out):
    X, _ = held_out
    real = score_digits(X * 2 - 1)
    assert real.inception_score > 8.5 and real.confidence > 0.95 and real.n == 1000
    assert sum(real.histogram) == pytest.approx(1, abs=1e-3)
    assert max(real.histogram) < 0.15  # all ten digits, about evenly
    noise = score_digits(torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)), (0, 1))
    assert noise.inception_score < 1.2 and noise.confidence < 0.3
    ones = score_digits(X[held_out[1] == 1], (0, 1))  # real but one class: confident, not diverse
    assert ones.inception_score < 1.5 and ones.confidence > 0.95
    assert "digit score" in str(real)


def test_shapes_and_ranges_are_scored_alike(held_out):
    X = held_out[0][:64]
    p = classify_digits(X, (0, 1))
    small = torch.nn.functional.avg_pool2d(X, 2)
    for same in (X.flatten(1), X[:, 0], small, small.flatten(1), small[:, 0]):
        assert torch.allclose(classify_digits(same, (0, 1)), p, atol=1e-5)
    assert torch.allclose(classify_digits(X * 2 - 1), p, atol=1e-5)  # default range is tanh's
    assert to_classifier_input(X, (0, 1)).shape == (64, 1, 14, 14)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(4, 3, 28, 28), "grey digits"), (torch.zeros(4, 100), "grey digits"),
    (torch.zeros(0, 1, 28, 28), "grey digits"), (torch.full((2, 784), float("nan")), "NaN"),
    (torch.full((2, 784), 0.5) * torch.tensor(3.0), "outside value_range"),
])
def test_bad_input_gets_a_clear_error(bad, match):
    with pytest.raises(ValueError, match=match):
        score_digits(bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        score_digits([[0.0] * 784])


def test_inception_score_bounds():
    assert inception_score(torch.eye(10)) == pytest.approx(10)          # confident, all classes
    assert inception_score(torch.eye(10)[[3] * 10]) == pytest.approx(1)  # confident, one class
    assert inception_score(torch.full((10, 10), 0.1)) == pytest.approx(1)  # unsure
    with pytest.raises(ValueError):
        inception_score(torch.ones(10))


def test_gaussian_frechet_matches_scipy_and_closed_form():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(1)
    a = torch.randn(400, 5, generator=g, dtype=torch.float64) @ torch.randn(5, 5, generator=g,
                                                                           dtype=torch.float64)
    b = torch.randn(300, 5, generator=g, dtype=torch.float64) + 2
    ca, cb = torch.cov(a.T).numpy(), torch.cov(b.T).numpy()
    root = scipy_linalg.sqrtm(ca @ cb).real
    ref = float(((a.mean(0) - b.mean(0)) ** 2).sum()) + ca.trace() + cb.trace() - 2 * root.trace()
    assert gaussian_frechet(a, b) == pytest.approx(ref, rel=1e-6)
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    x = torch.tensor([[0.0], [2.0]], dtype=torch.float64)  # mean 1, var 2
    assert gaussian_frechet(x, x * 3) == pytest.approx(4 + (2 ** 0.5 - 3 * 2 ** 0.5) ** 2)
    assert gaussian_frechet(a, a) == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="feature sets"):
        gaussian_frechet(a, b[:, :3])


def test_frechet_distance_separates_real_from_noise(held_out):
    X, _ = held_out
    train = load_mnist_sample(train=True)[0][:1000]
    real = frechet_distance(X, train, (0, 1))
    noise = frechet_distance(torch.rand(1000, 784, generator=torch.Generator().manual_seed(0)),
                             train, (0, 1))
    assert real < 20 and noise > 20 * real


def test_training_learns_digits_from_a_thousand(held_out):
    X, y = load_mnist_sample(train=True)
    net = train_digit_classifier(X[:1000], y[:1000], epochs=4, seed=0)
    with torch.no_grad():
        acc = (net(to_classifier_input(held_out[0], (0, 1))).argmax(1) == held_out[1]).float().mean()
    assert acc > 0.7
    with pytest.raises(ValueError, match="one label"):
        train_digit_classifier(X[:10], y[:9])


def test_real_digits_are_the_held_out_sample_in_the_quick_tier(held_out):
    X, y = real_digits(500, quick=True)
    assert torch.equal(X, held_out[0][:500]) and torch.equal(y, held_out[1][:500])
    with pytest.raises(ValueError, match="between 1 and 1000"):
        real_digits(5000, quick=True)
