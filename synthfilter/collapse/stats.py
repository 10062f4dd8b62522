"""Uncertainty over seeds: bootstrap intervals, paired tests against a baseline, Holm's correction.

Seeds are the unit of replication. Cells share random numbers across policies (same
seed, same real data), so a policy and the baseline are compared *paired*, seed by seed:
the Wilcoxon signed-rank test on the per-seed differences of the metric's badness
(:func:`~synthfilter.collapse.directions.badness`), with the matched-pairs rank-biserial
correlation as the effect size, and a bootstrap interval for the mean difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap_mean_interval", "paired_test", "holm"]

#: bootstrap resamples of every interval
RESAMPLES = 2000


def bootstrap_mean_interval(values: Sequence[float], confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the mean of the finite ``values`` and its percentile bootstrap interval.

    ``RESAMPLES`` resamples with replacement, seeded by ``seed``; NaN for an empty input, the
    value itself (a zero-width interval) for one value.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(v) == 1:
        return float(v[0]), float(v[0]), float(v[0])
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(RESAMPLES, len(v)))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(v.mean()), float(low), float(high)


def paired_test(policy: Sequence[float], baseline: Sequence[float], seed: int = 0) -> dict[str, float]:
    """Paired comparison of per-seed badness (lower is better), policy against baseline.

    Returns ``diff_mean``, ``diff_ci_low``, ``diff_ci_high`` (the mean of baseline - policy:
    positive when the policy is better, with its 95% bootstrap interval), ``p_value`` (two-sided
    Wilcoxon signed-rank; 1.0 when every difference is zero, NaN with fewer than two finite
    pairs; the exact null distribution up to 25 pairs without ties in ``|difference|``, else the
    normal approximation with tie correction) and ``effect`` (matched-pairs rank-biserial correlation in [-1, 1], positive when
    the policy is better). Pairs where either side is not finite (an infinite distance of a lost
    tail counts as the largest value) are compared by rank only.
    """
    from scipy.stats import rankdata, wilcoxon

    a, b = np.asarray(policy, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    out = {"n_pairs": int(len(a))}
    if len(a) < 2:
        return {**out, "diff_mean": float("nan"), "diff_ci_low": float("nan"), "diff_ci_high": float("nan"),
                "p_value": float("nan"), "effect": float("nan")}
    finite = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        diff = np.where(a == b, 0.0, b - a)  # two equal infinities (both lost) are a tie
    mean, low, high = bootstrap_mean_interval(diff[finite], seed=seed) if finite.any() else (float("nan"),) * 3
    # ranks of |difference| with infinities as the largest: the test and effect use ranks only
    d = np.where(np.isfinite(diff), diff, np.sign(diff) * np.finfo(np.float64).max)
    nonzero = d != 0
    if not nonzero.any():
        return {**out, "diff_mean": mean, "diff_ci_low": low, "diff_ci_high": high, "p_value": 1.0, "effect": 0.0}
    ranks = rankdata(np.abs(d[nonzero]))
    effect = float((ranks[d[nonzero] > 0].sum() - ranks[d[nonzero] < 0].sum()) / ranks.sum())
    x = d[nonzero]
    # exact null distribution for small samples without ties; otherwise the normal approximation with
    # its tie correction (scipy's permutation fallback for ties costs seconds per test)
    method = "exact" if len(x) <= 25 and len(np.unique(np.abs(x))) == len(x) else "approx"
    p = float(wilcoxon(x, zero_method="wilcox", alternative="two-sided", method=method).pvalue)
    return {**out, "diff_mean": mean, "diff_ci_low": low, "diff_ci_high": high, "p_value": p, "effect": effect}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(len(p), np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    if len(idx) == 0:
        return out.tolist()
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out.tolist()
