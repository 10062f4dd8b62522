"""Uncertainty over seeds: intervals for a mean, paired tests against a reference policy, Holm's correction.

Seeds are the unit of replication. Cells share random numbers across policies (same
seed, same real data), so two policies are compared *paired*, seed by seed, on the
metric's badness (:func:`~synthfilter.collapse.directions.badness`, lower is better):

continuous metrics
    the Wilcoxon signed-rank test on the per-seed differences (exact null distribution
    when there are no ties, else the normal approximation with tie correction), with the
    statistic that test is about: the Hodges-Lehmann estimate of the shift (the median of
    the Walsh averages of the differences) and its distribution-free interval, the
    inversion of the same test. The effect size is the matched-pairs rank-biserial
    correlation.
binary metrics (0/1 per seed, for example "the minority class was lost")
    the exact McNemar test: a two-sided binomial test of the discordant seeds (one policy
    had the event, the other not) against 1/2; the estimate is the difference of the two
    event rates with the interval of the same conditional binomial (Clopper-Pearson).

The interval of one policy's mean is Student's t interval below :data:`MIN_BOOTSTRAP_SEEDS`
seeds (percentile bootstraps cover far below their nominal level with 3-8 seeds) and a
BCa bootstrap from there on.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

__all__ = ["mean_interval", "rate_interval", "paired_test", "signed_rank_test", "mcnemar_test", "holm",
           "MIN_BOOTSTRAP_SEEDS", "RESAMPLES", "WILCOXON", "WILCOXON_APPROX", "MCNEMAR"]

#: bootstrap resamples of every BCa interval
RESAMPLES = 2000
#: below this many seeds a mean's interval is Student's t interval, from here on a BCa bootstrap
MIN_BOOTSTRAP_SEEDS = 12
#: the names of the tests, as summary.json records them
WILCOXON = "Wilcoxon signed-rank (exact)"
WILCOXON_APPROX = "Wilcoxon signed-rank (normal approximation, tie-corrected)"
MCNEMAR = "McNemar (exact binomial on discordant seeds)"
#: the largest number of pairs whose signed-rank null distribution is computed exactly
_EXACT_MAX = 200
_NORMAL = NormalDist()


def mean_interval(values: Sequence[float], confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float, str]:
    """(mean, low, high, method) of the finite ``values``.

    ``method`` is ``"t"`` (Student's t interval) for fewer than :data:`MIN_BOOTSTRAP_SEEDS`
    values and ``"bca"`` (a BCa bootstrap of :data:`RESAMPLES` resamples, seeded by ``seed``)
    from there on; ``"none"`` for no value (all NaN) and ``"exact"`` for one value or equal
    values (a zero-width interval).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan"), "none"
    mean = float(v.mean())
    if len(v) == 1 or np.ptp(v) == 0:
        return mean, mean, mean, "exact"
    if len(v) < MIN_BOOTSTRAP_SEEDS:
        low, high = _t_interval(v, confidence)
        return mean, low, high, "t"
    low, high = _bca_interval(v, confidence, seed)
    return mean, min(low, mean), max(high, mean), "bca"


def _t_interval(v: np.ndarray, confidence: float) -> tuple[float, float]:
    from scipy.stats import t

    half = float(t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()) - half, float(v.mean()) + half


def _bca_interval(v: np.ndarray, confidence: float, seed: int) -> tuple[float, float]:
    """Efron's bias-corrected and accelerated bootstrap interval of the mean (the acceleration from the jackknife)."""
    n, mean = len(v), float(v.mean())
    boot = np.sort(v[np.random.default_rng(seed).integers(0, n, size=(RESAMPLES, n))].mean(axis=1))
    below = (np.sum(boot < mean) + 0.5 * np.sum(boot == mean)) / RESAMPLES
    z0 = _NORMAL.inv_cdf(float(np.clip(below, 1.0 / RESAMPLES, 1.0 - 1.0 / RESAMPLES)))
    jack = (v.sum() - v) / (n - 1)
    dev = jack.mean() - jack
    accel = float(np.sum(dev**3) / (6.0 * np.sum(dev**2) ** 1.5)) if np.any(dev) else 0.0
    out = []
    for z in (_NORMAL.inv_cdf((1 - confidence) / 2), _NORMAL.inv_cdf((1 + confidence) / 2)):
        level = _NORMAL.cdf(z0 + (z0 + z) / (1.0 - accel * (z0 + z)))
        out.append(float(np.quantile(boot, level)))
    return out[0], out[1]


def rate_interval(events: int, trials: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """(rate, low, high): ``events / trials`` with its exact Clopper-Pearson interval (NaN for no trial)."""
    from scipy.stats import binomtest

    if trials <= 0:
        return float("nan"), float("nan"), float("nan")
    ci = binomtest(int(events), int(trials)).proportion_ci(confidence, method="exact")
    return events / trials, float(ci.low), float(ci.high)


@lru_cache(maxsize=None)
def _signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ <= t) for t = 0..n(n+1)/2 under the null: the exact signed-rank distribution of n untied pairs."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return np.cumsum(counts / 2.0**n)


def _walsh_interval(d: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Hodges-Lehmann estimate (median of the Walsh averages) and its distribution-free interval."""
    n = len(d)
    i, j = np.triu_indices(n)
    with np.errstate(invalid="ignore"):
        walsh = (d[i] + d[j]) / 2.0
    walsh = np.sort(np.where(np.isnan(walsh), 0.0, walsh))  # +inf and -inf average to no shift
    m = len(walsh)
    alpha = 1.0 - confidence
    if n <= _EXACT_MAX:
        cdf = _signed_rank_cdf(n)
        k = int(np.searchsorted(cdf, alpha / 2, side="right"))  # P(T+ <= k - 1) <= alpha / 2
    else:
        k = int(np.floor(m / 2 - _NORMAL.inv_cdf(1 - alpha / 2) * np.sqrt(n * (n + 1) * (2 * n + 1) / 24)))
    estimate = float(np.median(walsh))
    if k < 1:  # too few pairs for any interval at this level
        return estimate, float("-inf"), float("inf")
    return estimate, float(walsh[k - 1]), float(walsh[m - k])


def signed_rank_test(policy: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Wilcoxon signed-rank test of per-seed badness (lower is better), ``policy`` against ``baseline``.

    The differences are ``baseline - policy`` (positive when the policy is better); pairs with
    a NaN are left out; an infinite badness (a lost tail) is the largest difference there is.
    Returns ``test`` (:data:`WILCOXON` or :data:`WILCOXON_APPROX`), ``n_pairs``, ``p_value``
    (two-sided; 1.0 when every difference is zero, NaN below two pairs), ``estimate`` with
    ``ci_low``/``ci_high`` (the Hodges-Lehmann shift and its interval), ``estimator`` and
    ``effect`` (rank-biserial correlation in [-1, 1], positive when the policy is better).
    """
    from scipy.stats import rankdata

    a, b = np.asarray(policy, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    out = {"test": WILCOXON, "estimator": "Hodges-Lehmann shift", "n_pairs": int(len(a))}
    nan = float("nan")
    if len(a) < 2:
        return {**out, "p_value": nan, "estimate": nan, "ci_low": nan, "ci_high": nan, "effect": nan}
    with np.errstate(invalid="ignore"):
        diff = np.where(a == b, 0.0, b - a)  # two equal infinities (both lost) are a tie
    estimate, low, high = _walsh_interval(diff, confidence)
    d = np.where(np.isfinite(diff), diff, np.sign(diff) * np.finfo(np.float64).max)  # ranks only from here on
    x = d[d != 0]
    if len(x) == 0:
        return {**out, "p_value": 1.0, "estimate": estimate, "ci_low": low, "ci_high": high, "effect": 0.0}
    ranks = rankdata(np.abs(x))
    effect = float((ranks[x > 0].sum() - ranks[x < 0].sum()) / ranks.sum())
    if len(np.unique(np.abs(x))) == len(x) and len(x) <= _EXACT_MAX:
        cdf = _signed_rank_cdf(len(x))
        t_plus = int(round(ranks[x > 0].sum()))
        t_max = len(x) * (len(x) + 1) // 2
        p = min(1.0, 2.0 * min(cdf[t_plus], cdf[t_max - t_plus]))  # the distribution is symmetric
    else:  # scipy's "approx" method (zeros dropped, no continuity correction), without its per-call overhead
        out["test"] = WILCOXON_APPROX
        n = len(x)
        _, ties = np.unique(np.abs(x), return_counts=True)
        var = n * (n + 1) * (2 * n + 1) / 24.0 - np.sum(ties**3 - ties) / 48.0
        z = (ranks[x > 0].sum() - n * (n + 1) / 4.0) / np.sqrt(var) if var > 0 else 0.0
        p = 2.0 * (1.0 - _NORMAL.cdf(abs(z)))
    return {**out, "p_value": float(p), "estimate": estimate, "ci_low": low, "ci_high": high, "effect": effect}


def mcnemar_test(policy: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Exact McNemar test of a 0/1 per-seed outcome where 1 is the bad event (``lower`` is better).

    ``better`` counts the seeds where only the baseline had the event, ``worse`` those where
    only the policy had it; the two-sided binomial test of ``better`` out of ``better + worse``
    against 1/2 gives ``p_value`` (1.0 without discordant seeds). ``estimate`` is the baseline's
    event rate minus the policy's, ``(better - worse) / n_pairs``, with the interval of the same
    conditional binomial (Clopper-Pearson) mapped to that scale; ``effect`` is
    ``(better - worse) / (better + worse)``. Values other than 0 and 1 raise ``ValueError``.
    """
    from scipy.stats import binomtest

    a, b = np.asarray(policy, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        raise ValueError("mcnemar_test needs 0/1 outcomes per seed, got other values")
    n = len(a)
    better, worse = int(np.sum((b == 1) & (a == 0))), int(np.sum((a == 1) & (b == 0)))
    out = {"test": MCNEMAR, "estimator": "difference of event rates", "n_pairs": n, "better": better, "worse": worse}
    nan = float("nan")
    if n == 0:
        return {**out, "p_value": nan, "estimate": nan, "ci_low": nan, "ci_high": nan, "effect": nan}
    discordant = better + worse
    if discordant == 0:
        return {**out, "p_value": 1.0, "estimate": 0.0, "ci_low": 0.0, "ci_high": 0.0, "effect": 0.0}
    res = binomtest(better, discordant, 0.5)
    ci = res.proportion_ci(confidence, method="exact")
    scale = discordant / n
    return {**out, "p_value": float(res.pvalue), "estimate": (better - worse) / n,
            "ci_low": float(scale * (2 * ci.low - 1)), "ci_high": float(scale * (2 * ci.high - 1)),
            "effect": (better - worse) / discordant}


def paired_test(policy: Sequence[float], baseline: Sequence[float], binary: bool = False) -> dict[str, float]:
    """:func:`mcnemar_test` for a ``binary`` metric's badness, else :func:`signed_rank_test`."""
    return mcnemar_test(policy, baseline) if binary else signed_rank_test(policy, baseline)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and is not counted), in the input order."""
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
