"""Collapse metrics: distances to the real distribution, tail mass, and curve summaries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["w2_gaussian", "sliced_w2", "tail_mass_ratio", "js_divergence", "kl_divergence", "curve_auc",
           "generations_to_degrade"]


def w2_gaussian(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared Wasserstein-2 distance between two Gaussians (closed form)."""
    from scipy.linalg import sqrtm

    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    root = sqrtm(cov2)
    cross = sqrtm(root @ cov1 @ root)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * np.real(cross)))


def sliced_w2(a: np.ndarray, b: np.ndarray, projections: int = 64, seed: int = 0) -> float:
    """Squared sliced Wasserstein-2 distance between two samples (quantile matching per direction)."""
    a, b = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(projections, a.shape[1]))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    qs = np.linspace(0.005, 0.995, 200)
    return float(np.mean((_quantiles(a @ dirs.T, qs) - _quantiles(b @ dirs.T, qs)) ** 2))


def _quantiles(x: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.quantile(x, qs, axis=0)`` (linear interpolation) from one sort of each column instead of a partition
    per quantile: the same values, several times faster for many quantiles."""
    s = np.sort(x, axis=0)
    pos = qs * (len(s) - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(s) - 1)
    frac = (pos - lo)[:, None]
    return s[lo] + frac * (s[hi] - s[lo])


def tail_mass_ratio(sample: np.ndarray, real: np.ndarray, lower: float = 1.0, upper: float = 99.0) -> float:
    """Share of ``sample`` outside the real data's [lower, upper] percentiles over the real share.

    Multivariate data uses the distance to the real mean (upper percentile only).
    1.0 = tails as heavy as the real data, 0 = no tails left.
    """
    real, sample = np.asarray(real, dtype=np.float64), np.asarray(sample, dtype=np.float64)
    if real.ndim == 1 or real.shape[1] == 1:
        r, s = real.ravel(), sample.ravel()
        lo, hi = np.percentile(r, [lower, upper])
        real_mass = np.mean((r < lo) | (r > hi))
        return float(np.mean((s < lo) | (s > hi)) / real_mass)
    center = real.mean(axis=0)
    dr = np.linalg.norm(real - center, axis=1)
    ds = np.linalg.norm(sample - center, axis=1)
    hi = np.percentile(dr, upper)
    return float(np.mean(ds > hi) / np.mean(dr > hi))


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = 1e-12) -> float:
    """KL(p || q) in nats for discrete distributions, ``q`` smoothed additively: ``(q + eps) / (1 + K eps)``
    over its K categories, so a category the model lost costs ``log(p / eps)`` instead of infinity.

    The collapse scenarios pass ``eps=1e-6`` (a lost category of real probability p adds about
    ``p * 13.8``); ``eps=0`` gives the exact divergence (infinite when q misses p's support).
    """
    p = np.asarray(p, dtype=np.float64) / np.sum(p)
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    q = (q + eps) / (1.0 + len(q) * eps)
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / q[m])))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (natural log, in [0, log 2])."""
    p = np.asarray(p, dtype=np.float64) / np.sum(p)
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    m = (p + q) / 2
    return 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m)


def curve_auc(values: Sequence[float]) -> float:
    """Mean of a metric over generations 1..G (trapezoid area divided by the span)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v[0]) if len(v) else float("nan")
    return float(np.trapezoid(v) / (len(v) - 1))


def generations_to_degrade(values: Sequence[float], fraction: float = 0.5, higher_is_better: bool | str = True) -> int | None:
    """First generation worse than generation 0 by ``fraction`` (None if never); see
    :func:`synthfilter.collapse.directions.generations_to_degrade`, which also takes
    ``target:X`` directions (``higher_is_better`` may be one of those strings)."""
    from .directions import generations_to_degrade as by_direction

    return by_direction(values, higher_is_better, fraction)
