"""Mixture-proportion estimators of the synthetic share, on binned detector scores, and their bootstrap.

A corpus is a mixture ``(1 - a) H + a S`` of human text (score distribution ``H``) and
synthetic text (``S``). Given a *reference* of known-human text of the same kind (and
optionally of known-AI text), these estimate ``a``:

* ``"bbe"``: best-bin estimation (Garg et al., NeurIPS 2021) with a human reference only.
  Over the lowest scores, where synthetic text is rarest, the corpus-to-reference ratio
  of cumulative shares bounds the human share from above; the cut is chosen with their
  confidence correction. It assumes the lowest-scoring region holds (almost) no synthetic
  text: where AI text scores like human text it *underestimates*, and nothing computed
  from a human reference alone can reveal that.
* ``"mle"``: the maximum-likelihood mixture weight over binned scores with a human and an
  AI reference (in the spirit of Liang et al., ICML 2024, who use word frequencies).

Everything works on counts over common score bins (:class:`ScoreBins`), so the bootstrap
(multinomial redraws of every count vector, seeded) costs the same for a thousand rows or
ten million. The point is the plain estimate (a bootstrap bias correction made the error
larger at every share from 5% up) and the interval :func:`interval_bounds`; both were
chosen by ``benchmarks/estimate_intervals.py`` on real detector scores (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ScoreBins", "bbe_share", "bbe_anchor", "low_anchor", "ANCHOR_MIN_REFERENCE", "mle_share", "likelihood_bins", "point_estimate", "bootstrap_counts",
           "interval_bounds", "auroc_of_counts", "METHODS", "choose_method", "MAX_BINS", "MLE_BINS"]

METHODS = ("auto", "bbe", "mle")
#: Score bins shared by corpus and references (quantiles of the pooled scores).
MAX_BINS = 2048
#: Bins of the MLE's likelihood (merged from the fine bins at reference quantiles).
MLE_BINS = 20
_ALPHA_GRID = np.linspace(0.0, 1.0, 501)
_BBE_GAMMA, _BBE_DELTA = 0.01, 0.1
#: Least share of the reference below the quota's anchor (:func:`low_anchor`).
ANCHOR_MIN_REFERENCE = 0.3


@dataclass(frozen=True)
class ScoreBins:
    """Counts of corpus, human-reference and AI-reference scores over common bins (ascending score).

    ``edges[i]`` is the lower edge of bin ``i + 1``: a score ``x`` falls in bin
    ``searchsorted(edges, x, side="right")``, so equal scores share a bin.
    """

    edges: np.ndarray
    corpus: np.ndarray
    human: np.ndarray
    ai: np.ndarray | None = None

    @classmethod
    def of(cls, corpus: np.ndarray, human: np.ndarray, ai: np.ndarray | None = None,
           max_bins: int = MAX_BINS) -> "ScoreBins":
        """Bin finite scores; bin edges are quantiles of all scores pooled (at most ``max_bins`` bins)."""
        arrays = [np.asarray(a, dtype=np.float64) for a in (corpus, human) + ((ai,) if ai is not None else ())]
        pooled = np.unique(np.concatenate(arrays))
        if len(pooled) > max_bins:
            edges = np.unique(np.quantile(pooled, np.linspace(0, 1, max_bins + 1)[1:-1], method="lower"))
        else:
            edges = pooled[1:]
        bins = cls(edges, np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(edges, bins.count(arrays[0]), bins.count(arrays[1]), bins.count(arrays[2]) if ai is not None else None)

    @property
    def n_bins(self) -> int:
        return len(self.edges) + 1

    def count(self, scores: np.ndarray) -> np.ndarray:
        """Counts of ``scores`` over these bins."""
        return np.bincount(self.bin_of(scores), minlength=self.n_bins).astype(np.int64)

    def bin_of(self, scores: np.ndarray) -> np.ndarray:
        """Bin index of each score."""
        return np.searchsorted(self.edges, np.asarray(scores, dtype=np.float64), side="right")

    def upper_edge(self, bins: int) -> float:
        """Scores below this value fall in the first ``bins`` bins (``inf`` for all of them)."""
        return float(self.edges[bins - 1]) if 0 < bins <= len(self.edges) else (float("inf") if bins > 0 else float("-inf"))


def _bbe_objective(corpus: np.ndarray, human: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best-bin's upper-bound objective per bin, and the corpus's and reference's cumulative shares."""
    cu = np.cumsum(corpus, axis=-1, dtype=np.float64)
    ch = np.cumsum(human, axis=-1, dtype=np.float64)
    nu, nh = cu[..., -1:], ch[..., -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        qu, qh = cu / nu, ch / nh
        slack = (np.sqrt(np.log(4 / _BBE_DELTA) / (2 * np.maximum(nh, 1)))
                 + np.sqrt(np.log(4 / _BBE_DELTA) / (2 * np.maximum(nu, 1))))
        objective = np.where(qh > 0, qu / qh + (1 + _BBE_GAMMA) * slack / qh, np.inf)
    return objective, qu, qh


def bbe_anchor(corpus: np.ndarray, human: np.ndarray) -> int:
    """The bin best-bin estimation anchors on: the corpus's and reference's shares up to it give the human share."""
    return int(np.argmin(_bbe_objective(np.asarray(corpus), np.asarray(human))[0]))


def low_anchor(corpus: np.ndarray, human: np.ndarray, min_reference: float = ANCHOR_MIN_REFERENCE) -> int:
    """The bin with the lowest corpus-to-reference ratio of cumulative shares among those below which at least
    ``min_reference`` of the reference lies (the last bin always qualifies).

    Up to such a bin the corpus is taken to be human, as best-bin estimation takes it up to
    its anchor; best-bin's confidence correction moves its anchor to higher scores, where
    more synthetic text hides, and without a floor on the reference's share the lowest ratio
    is the noise of a few rows. Used by the quota's certification
    (:mod:`synthfilter.quota.certify`); see ``benchmarks/estimate.py``.
    """
    _, qu, qh = _bbe_objective(np.asarray(corpus), np.asarray(human))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(qh >= min_reference - 1e-12, qu / qh, np.inf)
    return int(np.argmin(ratio))


def bbe_share(corpus: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Synthetic share by best-bin estimation on the low-score side; counts may carry a leading batch axis.

    ``corpus`` and ``human`` are counts per bin (ascending score); returns one share
    per row of the batch axis (a 0-d array without one).
    """
    objective, qu, qh = _bbe_objective(corpus, human)
    best = np.argmin(objective, axis=-1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.take_along_axis(qu, best, -1) / np.take_along_axis(qh, best, -1)
    share = 1.0 - np.clip(ratio[..., 0], 0.0, 1.0)
    return np.where((qu[..., -1] > 0) & (qh[..., -1] > 0), share, np.nan)


def likelihood_bins(human: np.ndarray, ai: np.ndarray, n_groups: int = MLE_BINS) -> np.ndarray:
    """Fine bin -> likelihood bin, at quantiles of the pooled references (so each holds reference mass)."""
    pooled = np.cumsum(human / max(human.sum(), 1) + ai / max(ai.sum(), 1))
    cuts = np.linspace(0, pooled[-1], n_groups + 1)[1:-1]
    return np.searchsorted(cuts, pooled - 1e-12, side="left")


def mle_share(corpus: np.ndarray, human: np.ndarray, ai: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Synthetic share maximising the binned mixture likelihood; counts may carry a leading batch axis.

    ``groups`` maps fine bins to likelihood bins (default: :data:`MLE_BINS` bins at
    quantiles of the pooled references). Reference densities are add-half smoothed.
    """
    corpus, human, ai = (np.asarray(a, dtype=np.float64) for a in (corpus, human, ai))
    if groups is None:
        groups = likelihood_bins(human.reshape(-1, human.shape[-1]).sum(0), ai.reshape(-1, ai.shape[-1]).sum(0))
    onehot = np.zeros((len(groups), int(groups.max()) + 1))
    onehot[np.arange(len(groups)), groups] = 1.0
    cu, fh, fa = corpus @ onehot, human @ onehot + 0.5, ai @ onehot + 0.5
    fh /= fh.sum(-1, keepdims=True)
    fa /= fa.sum(-1, keepdims=True)
    mix = (1 - _ALPHA_GRID)[:, None] * fh[..., None, :] + _ALPHA_GRID[:, None] * fa[..., None, :]
    ll = (cu[..., None, :] * np.log(mix)).sum(-1)
    share = _ALPHA_GRID[np.argmax(ll, axis=-1)]
    flat = ll.max(-1) - ll.min(-1) < 1e-9  # one likelihood bin, or references alike there: not identifiable
    return np.where((cu.sum(-1) > 0) & ~flat, share, np.nan)


def point_estimate(method: str, corpus: np.ndarray, human: np.ndarray, ai: np.ndarray | None,
                   groups: np.ndarray | None) -> np.ndarray:
    """The share by ``method`` (``"bbe"`` or ``"mle"``) from counts (a leading batch axis allowed)."""
    return bbe_share(corpus, human) if method == "bbe" else mle_share(corpus, human, ai, groups)


def _resample(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n_boot, len(counts)), dtype=np.int64)
    return rng.multinomial(total, counts / total, size=n_boot)


def bootstrap_counts(bins: ScoreBins, method: str, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``n_boot`` multinomial redraws of the corpus, human and (for ``"mle"``) AI counts, seeded."""
    rng = np.random.default_rng([int(seed), 0x5F])
    return (_resample(bins.corpus, n_boot, rng), _resample(bins.human, n_boot, rng),
            _resample(bins.ai, n_boot, rng) if method == "mle" else None)


def interval_bounds(point: np.ndarray, reps: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the bootstrap interval ``(low, high)`` from point estimates ``(k,)`` and replicates ``(B, k)``.

    The high end is the percentile ``q_high`` (the ``(1 + confidence) / 2`` quantile of the
    replicates); the low end is the lower of the percentile ``q_low`` and the basic
    (reflected) ``2 * point - q_high``, so it reaches 0 where the estimate sits near 0 and
    its replicates all lie above it. The interval always holds ``point``. Chosen by
    ``benchmarks/estimate_intervals.py`` on real detector scores: the basic interval's high
    end covers the truth in under 70% of runs away from 0 and the percentile interval's low
    end misses a true share of 0 in most runs; this one covers at both ends as well as the
    better of the two. A replicate the estimator cannot decide (NaN: no corpus rows, or
    references alike over the kept range) counts as 0 at the low end and 1 at the high end;
    an undecidable point estimate gets ``[0, 1]``.
    """
    decided = np.isfinite(reps)
    q_low = np.quantile(np.where(decided, reps, 0.0), (1 - confidence) / 2, axis=0)
    high = np.quantile(np.where(decided, reps, 1.0), (1 + confidence) / 2, axis=0)
    unknown = ~np.isfinite(point)
    safe = np.where(unknown, 0.0, point)
    low = np.minimum(q_low, np.clip(2 * safe - high, 0.0, 1.0))
    low = np.where(unknown, 0.0, np.minimum(low, safe))
    high = np.where(unknown, 1.0, np.maximum(high, safe))
    return low, high


def auroc_of_counts(neg: np.ndarray, pos: np.ndarray) -> float:
    """AUROC of ``pos`` against ``neg`` from bin counts (ties count half)."""
    n, p = neg.sum(), pos.sum()
    if not n or not p:
        return float("nan")
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (n * p))


def choose_method(method: str, has_ai: bool) -> str:
    """``"auto"`` -> ``"mle"`` with an AI reference, ``"bbe"`` without; validates ``method``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "mle" and not has_ai:
        raise ValueError("method='mle' needs ai_reference= (scores or texts known to be AI-generated)")
    return ("mle" if has_ai else "bbe") if method == "auto" else method
