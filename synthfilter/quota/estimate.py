"""The true synthetic share of a corpus, estimated from detector scores and known-human text.

A share counted from labels (``sf_label == "synthetic"``) is only as good as the
detector's threshold on text like the corpus; on sources the detector never saw it
misses most synthetic rows. The estimators here use the whole score distribution
instead, against a *reference*: scores of text known to be human (and optionally of
text known to be AI-generated) of the same kind as the corpus.

* ``"bbe"``: best-bin mixture-proportion estimation (Garg et al., NeurIPS 2021) with
  a human reference only. The corpus is a mixture ``(1 - a) H + a S``; over the
  lowest scores, where synthetic text is rarest, the corpus-to-reference ratio of
  cumulative shares bounds the human share from above. The threshold is chosen with
  their confidence correction. It assumes the lowest-scoring region holds (almost)
  no synthetic text; where AI text scores like human text (a detector with AUROC
  near 0.5 on this data) it *underestimates* the synthetic share, and no interval
  from a human reference alone can reveal that.
* ``"mle"``: maximum likelihood over binned score distributions with a human and an
  AI reference (in the spirit of Liang et al., ICML 2024, who use word frequencies).
  Unbiased when the references match the corpus's two components; its bootstrap
  interval widens by itself when the references' scores overlap.

Both work on counts over common score bins, so the bootstrap (multinomial resampling
of each count vector, seeded) and the search for a quota cut cost the same for a
thousand rows or ten million. Everything here is NumPy on arrays of scores; the
``datasets`` front end is :func:`synthfilter.estimate_share`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..reports import Report

__all__ = ["ShareEstimate", "ScoreBins", "estimate_scores", "bbe_share", "mle_share", "METHODS", "choose_method",
           "likelihood_bins", "point_estimate", "bootstrap_counts", "interval_bounds"]

METHODS = ("auto", "bbe", "mle")
#: Score bins shared by corpus and references (quantiles of the pooled scores).
MAX_BINS = 2048
#: Bins of the MLE's likelihood (merged from the fine bins at reference quantiles).
MLE_BINS = 20
_ALPHA_GRID = np.linspace(0.0, 1.0, 501)
_BBE_GAMMA, _BBE_DELTA = 0.01, 0.1


# --------------------------------------------------------------------------- bins
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
            pooled = np.unique(np.quantile(pooled, np.linspace(0, 1, max_bins + 1)[1:-1], method="lower"))
            edges = pooled
        else:
            edges = pooled[1:]
        n = len(edges) + 1

        def count(a: np.ndarray) -> np.ndarray:
            return np.bincount(np.searchsorted(edges, a, side="right"), minlength=n).astype(np.int64)

        return cls(edges, count(arrays[0]), count(arrays[1]), count(arrays[2]) if ai is not None else None)

    def bin_of(self, scores: np.ndarray) -> np.ndarray:
        """Bin index of each score."""
        return np.searchsorted(self.edges, np.asarray(scores, dtype=np.float64), side="right")

    def upper_edge(self, bins: int) -> float:
        """Scores below this value fall in the first ``bins`` bins (``inf`` for all of them)."""
        return float(self.edges[bins - 1]) if 0 < bins <= len(self.edges) else (float("inf") if bins > 0 else float("-inf"))


# --------------------------------------------------------------------------- estimators
def bbe_share(corpus: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Synthetic share by best-bin estimation on the low-score side; counts may carry a leading batch axis.

    ``corpus`` and ``human`` are counts per bin (ascending score); returns one share
    per row of the batch axis (a 0-d array without one).
    """
    cu = np.cumsum(corpus, axis=-1, dtype=np.float64)
    ch = np.cumsum(human, axis=-1, dtype=np.float64)
    nu, nh = cu[..., -1:], ch[..., -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        qu, qh = cu / nu, ch / nh
        slack = np.sqrt(np.log(4 / _BBE_DELTA) / (2 * np.maximum(nh, 1))) + np.sqrt(np.log(4 / _BBE_DELTA) / (2 * np.maximum(nu, 1)))
        objective = np.where(qh > 0, qu / qh + (1 + _BBE_GAMMA) * slack / qh, np.inf)
        best = np.argmin(objective, axis=-1)[..., None]
        ratio = np.take_along_axis(qu, best, -1) / np.take_along_axis(qh, best, -1)
    share = 1.0 - np.clip(ratio[..., 0], 0.0, 1.0)
    return np.where((nu[..., 0] > 0) & (nh[..., 0] > 0), share, np.nan)


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


# --------------------------------------------------------------------------- the estimate
@dataclass
class ShareEstimate(Report):
    """The estimated true synthetic share, its interval, and the share counted from labels.

    Attributes
    ----------
    share, low, high:
        Point estimate and the ``confidence`` bootstrap interval (NaN when no row
        could be scored).
    naive:
        Share of scored rows labelled synthetic (what counting ``sf_label`` says).
    confidence:
        Two-sided coverage of ``[low, high]``.
    method:
        ``"bbe"`` (human reference only) or ``"mle"`` (human and AI references).
    rows, unknown:
        Rows used (scored) and rows excluded (``sf_label="unknown"`` or no score).
    reference_rows, ai_reference_rows:
        Reference rows used.
    separation:
        AUROC of corpus scores against human-reference scores (0.5: the corpus scores
        like known-human text), and with an AI reference, ``reference_auroc`` of the
        AI against the human reference (near 0.5: the detector cannot tell them apart
        on this data, and any estimate from it is weak).
    by:
        Per-group estimates when ``by=`` was given.
    """

    share: float
    low: float
    high: float
    naive: float
    confidence: float
    method: str
    rows: int
    unknown: int
    reference_rows: int
    ai_reference_rows: int = 0
    separation: float = float("nan")
    reference_auroc: float = float("nan")
    known_human: int = 0
    known_synthetic: int = 0
    by: dict[str, "ShareEstimate"] = field(default_factory=dict)

    def with_known(self, human: int, synthetic: int) -> "ShareEstimate":
        """This estimate over scored rows combined with rows whose class is known (provenance).

        The share becomes ``(synthetic + share * rows) / (human + synthetic + rows)``, and
        so do ``low`` and ``high``; ``naive`` is left as it is.
        """
        if not human and not synthetic:
            return self
        total = human + synthetic + self.rows

        def mix(x: float) -> float:
            return (synthetic + (0.0 if np.isnan(x) else x) * self.rows) / total

        if not self.rows:
            share = low = high = synthetic / total
        else:
            share, low, high = mix(self.share), mix(self.low), mix(self.high)
        return ShareEstimate(share, low, high, self.naive, self.confidence, self.method, self.rows, self.unknown,
                             self.reference_rows, self.ai_reference_rows, self.separation, self.reference_auroc,
                             human, synthetic, self.by)

    def describe(self) -> str:
        """One line: ``labels say 4.1%; estimated true share 23% [19%, 27%]``."""
        if np.isnan(self.share):
            why = "no scored rows" if not self.rows else "the references do not separate"
            return f"labels say {_pct(self.naive)}; true share not estimable ({why})"
        return (f"labels say {_pct(self.naive)}; estimated true share {_pct(self.share)} "
                f"[{_pct(self.low)}, {_pct(self.high)}]")

    def to_dict(self) -> dict[str, Any]:
        out = {k: (None if isinstance(v, float) and np.isnan(v) else (round(v, 6) if isinstance(v, float) else v))
               for k, v in self.__dict__.items() if k != "by"}
        out["by"] = {g: e.to_dict() for g, e in self.by.items()}
        return out

    def summary_lines(self) -> list[str]:
        caveat = "" if self.method == "mle" else " (human reference only: a lower bound where AI text scores like human text)"
        known = (f", {self.known_human + self.known_synthetic} decided by provenance"
                 if self.known_human or self.known_synthetic else "")
        lines = [f"synthetic share ({self.method}, {self.confidence:.0%} interval, {self.rows} scored rows{known}, "
                 f"{self.unknown} unknown excluded): {self.describe()}{caveat}"]
        if not np.isnan(self.reference_auroc) and self.reference_auroc < 0.65:
            lines.append(f"warning: the detector barely separates the references (AUROC {self.reference_auroc:.2f}); "
                         "the estimate is weak")
        for g, e in self.by.items():
            lines.append(f"  {g}: {e.describe()} ({e.rows} rows)")
        return lines


def _pct(x: float) -> str:
    if x is None or np.isnan(x):
        return "n/a"
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def _auroc(neg: np.ndarray, pos: np.ndarray) -> float:
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


def _check_scores(name: str, values: Any) -> np.ndarray:
    """Finite scores of ``values`` as float64 (NaN, i.e. unscored, rows dropped)."""
    try:
        a = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numeric detector scores, got {type(values).__name__}") from None
    return a[np.isfinite(a)]


def estimate_scores(corpus: Any, human: Any, ai: Any = None, *, naive: float = float("nan"), unknown: int = 0,
                    confidence: float = 0.9, seed: int = 0, method: str = "auto", n_boot: int = 200) -> ShareEstimate:
    """Estimate the synthetic share of ``corpus`` scores against reference scores.

    Parameters
    ----------
    corpus, human, ai:
        Detector scores (higher = more likely AI) of the corpus, of known-human text
        and optionally of known-AI text; NaN scores are ignored.
    naive, unknown:
        The label-count share and the number of unscored rows, carried into the result.
    confidence:
        Coverage of the bootstrap interval, in ``(0, 1)``. Default 0.9.
    seed:
        Seed of the bootstrap. Default 0.
    method:
        ``"auto"`` (default: ``"mle"`` when ``ai`` is given, else ``"bbe"``), ``"bbe"`` or ``"mle"``.
    n_boot:
        Bootstrap replicates. Default 200.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    corpus, human = _check_scores("corpus", corpus), _check_scores("reference", human)
    ai = None if ai is None else _check_scores("ai_reference", ai)
    method = choose_method(method, ai is not None)
    if len(human) == 0:
        raise ValueError("reference: no scored known-human rows; the estimate needs a human reference")
    if ai is not None and len(ai) == 0:
        raise ValueError("ai_reference: no scored rows")
    nan = float("nan")
    if len(corpus) == 0:
        return ShareEstimate(nan, nan, nan, naive, confidence, method, 0, unknown, len(human), 0 if ai is None else len(ai))
    bins = ScoreBins.of(corpus, human, ai)
    groups = likelihood_bins(bins.human, bins.ai) if method == "mle" else None
    share, low, high = _interval(method, (bins.corpus, bins.human, bins.ai), bootstrap_counts(bins, method, n_boot, seed),
                                 groups, confidence)
    return ShareEstimate(share, low, high, naive, confidence, method, len(corpus), unknown, len(human),
                         0 if ai is None else len(ai), _auroc(bins.human, bins.corpus),
                         nan if ai is None else _auroc(bins.human, bins.ai))


def _interval(method: str, counts: tuple, boot: tuple, groups: np.ndarray | None,
              confidence: float) -> tuple[float, float, float]:
    """Bias-corrected point estimate and its interval (see :func:`interval_bounds`) from counts and their replicates."""
    point = point_estimate(method, *counts, groups)
    share, low, high = interval_bounds(np.atleast_1d(point), point_estimate(method, *boot, groups)[:, None], confidence)
    return float(share[0]), float(low[0]), float(high[0])


def interval_bounds(point: np.ndarray, reps: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: bias-corrected point and interval, from point estimates ``(k,)`` and replicates ``(B, k)``.

    Both estimators are biased in small samples (the best bin is chosen where the
    ratio happens to be low; the likelihood lets reference noise pass for a synthetic
    component), and the bootstrap replicates carry the same bias, so the point is
    ``2 * estimate - mean(replicates)`` and the interval is the basic bootstrap
    ``[2 * estimate - q_high, 2 * estimate - q_low]``, which the benchmark showed to
    cover far better than percentile intervals near the middle, joined with the
    percentile interval ``[q_low, q_high]``: near 0 and 1 the replicates are skewed and
    the reflection alone cannot reach past twice the estimate (an estimate of 0 would get
    the interval ``[0, 0]`` however spread the replicates are). At exactly 0 or 1 the
    estimate is not bias-corrected. A replicate the estimator cannot decide (NaN: no
    corpus rows, or references alike over the kept range) counts as 0 at the low end and
    1 at the high end; an undecidable estimate is NaN in ``[0, 1]``.
    """
    decided = np.isfinite(reps)
    q_low = np.quantile(np.where(decided, reps, 0.0), (1 - confidence) / 2, axis=0)
    q_high = np.quantile(np.where(decided, reps, 1.0), (1 + confidence) / 2, axis=0)
    n_decided = decided.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_decided > 0, np.where(decided, reps, 0.0).sum(axis=0) / n_decided, np.nan)
    inner = (point > 0) & (point < 1) & np.isfinite(mean)
    share = np.where(inner, np.clip(2 * point - mean, 0.0, 1.0), point)
    low = np.minimum(np.clip(2 * point - q_high, 0.0, 1.0), q_low)
    high = np.maximum(np.clip(2 * point - q_low, 0.0, 1.0), q_high)
    unknown = ~np.isfinite(point)
    low, high = np.where(unknown, 0.0, np.minimum(low, share)), np.where(unknown, 1.0, np.maximum(high, share))
    return share, low, high
