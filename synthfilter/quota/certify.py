"""The score cut of the quota on the estimated share: chosen on one half of the rows, certified on the other.

A cut keeps the corpus rows scoring below it. The estimated share of what a cut keeps
follows from the corpus's human rows ``N_h``: the kept human rows are ``N_h * H(t)``,
``H(t)`` being the reference's share below the cut, so the kept share is
``1 - N_h * H(t) / K(t)`` with ``K(t)`` the rows kept (:func:`kept_shares`). ``N_h`` comes
from an anchor (below) or the two-reference likelihood.

Choosing the cut and vouching for it on the same rows is optimistic: the largest of
thousands of correlated cuts that happens to pass is the one taken. So the rows of
corpus and reference are split in two by the lowest bit of each row's hash:

1. the *selection* half estimates the kept share of every cut and proposes a ladder of
   cuts in ascending order, to a little past the largest cut whose estimate meets the
   target;
2. the *certification* half tests them in that order (fixed-sequence testing, so no
   correction for the number of cuts is owed): a cut passes when the top of the
   bootstrap ``confidence`` interval of its kept share, on the certification half, puts
   the output at or below the target; the last cut before the first failure is taken.

The certified figures (``share``, ``low``, ``high``) are measured on the certification
half, whose rows did not choose the cut.

With a human reference only (``"bbe"``) nothing tells synthetic text that scores like
human text apart: every estimate rests on an *anchor*, a score up to which the corpus is
taken to be human, and holds only as far as that is true. The anchor is
:func:`~synthfilter.quota.estimators.low_anchor` of all the rows (the lowest ratio of corpus
to reference share among scores below which at least 30% of the reference lies); both
halves estimate at it, the ladder starts at it (where the kept share is 0 by that
assumption), and the certification half's bootstrap then has only its counts' noise.
Chosen where the ratio of all the rows is lowest, the certification half's ratio there
leans low, which overstates the synthetic rows kept: the safe direction. With an AI
reference (``"mle"``) the ladder starts at the cut whose selection-half interval top is lowest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .estimators import (ScoreBins, bootstrap_counts, choose_method, interval_bounds, likelihood_bins, low_anchor,
                         point_estimate)

__all__ = ["LADDER_STEPS", "LADDER_OVERSHOOT", "CutDecision", "kept_shares", "split_bins", "certify_cut"]

#: Cuts proposed for certification, and how far past the selection half's choice the last one reaches (in rows kept).
LADDER_STEPS, LADDER_OVERSHOOT = 12, 1.2
#: The first cut of the ladder keeps at least this many rows, and this share of the scored rows.
LADDER_MIN_ROWS, LADDER_MIN_SHARE = 30, 0.05


@dataclass
class CutDecision:
    """The certified cut of one group.

    Attributes
    ----------
    bins:
        Bins kept (of the common :class:`ScoreBins`); scored rows below ``edge`` are kept.
    edge:
        The score cut (``inf``: every scored row kept, ``-inf``: none).
    share, low, high:
        Estimated synthetic share of the kept scored rows and its ``confidence``
        interval, measured on the certification half (0 when nothing is kept).
    bound:
        The top of that interval carried to the whole output (known-human rows dilute it):
        what the target was checked against.
    ladder:
        Every cut tested, in order: ``{"edge", "kept", "high", "bound", "passed"}``.
    """

    bins: int
    edge: float
    share: float
    low: float
    high: float
    bound: float
    ladder: list[dict[str, Any]] = field(default_factory=list)


def kept_shares(method: str, corpus: np.ndarray, human: np.ndarray, ai: np.ndarray | None,
                groups: np.ndarray | None, anchor: int | None = None) -> np.ndarray:
    """Estimated synthetic share of the rows kept by every prefix of bins (entry ``b``: the first ``b`` bins).

    Counts may carry a leading batch axis (bootstrap replicates). ``anchor`` (``"bbe"``
    only) fixes the bin best-bin estimation anchors on, instead of choosing it on these
    counts: the human rows are then ``corpus rows up to the anchor / reference share up to
    it``. Keeping nothing has share 0; a share the estimator cannot decide is NaN.
    """
    zero = np.zeros(corpus.shape[:-1] + (1,))
    n_kept = np.concatenate([zero, np.cumsum(corpus, axis=-1)], axis=-1)
    h = np.concatenate([zero, np.cumsum(human, axis=-1)], axis=-1)
    h = h / np.maximum(h[..., -1:], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "bbe" and anchor is not None:
            humans = n_kept[..., anchor + 1:anchor + 2] / h[..., anchor + 1:anchor + 2]
            humans = np.where(np.isfinite(humans), humans, np.nan)
        else:
            a = np.asarray(point_estimate(method, corpus, human, ai, groups), dtype=np.float64)[..., None]
            humans = (1.0 - a) * n_kept[..., -1:]
        out = 1.0 - humans * h / n_kept
    out = np.where(np.isnan(humans), np.nan, np.clip(out, 0.0, 1.0))
    return np.where(n_kept > 0, out, 0.0)


def split_bins(corpus: np.ndarray, corpus_half: np.ndarray, human: np.ndarray, human_half: np.ndarray,
               ai: np.ndarray | None = None, ai_half: np.ndarray | None = None) -> tuple[ScoreBins, ScoreBins, ScoreBins]:
    """Common bins of all rows, and the counts of the selection half (``half`` False) and the certification half."""
    full = ScoreBins.of(corpus, human, ai)

    def half(flag: bool) -> ScoreBins:
        return ScoreBins(full.edges, full.count(corpus[corpus_half == flag]), full.count(human[human_half == flag]),
                         None if ai is None else full.count(ai[ai_half == flag]))

    return full, half(False), half(True)


def _ladder(point: np.ndarray, high: np.ndarray, valid: np.ndarray, kept: np.ndarray, target: float,
            start: int | None = None) -> list[int]:
    """The cuts to certify, ascending, :data:`LADDER_STEPS` of them evenly spaced in rows kept: from ``start``
    (else the cut whose selection-half bound is lowest: small cuts are uncertain, large ones hold more synthetic
    rows) to a fifth past the largest cut whose selection-half estimate meets the target."""
    candidates = np.flatnonzero(valid)
    if not len(candidates):
        return []
    if start is None:  # a start keeping a handful of rows would be "certified" by a bootstrap blind to their noise
        sizeable = candidates[kept[candidates] >= min(kept[-1], max(LADDER_MIN_ROWS, LADDER_MIN_SHARE * kept[-1]))]
        start = int(sizeable[np.argmin(high[sizeable])])
        if high[start] > 1 - 1e-12:
            return []
    meets = candidates[point[candidates] <= target + 1e-12]
    top = max(float(kept[meets[-1]]) * LADDER_OVERSHOOT if len(meets) else 0.0, float(kept[start]))
    ladder = {start}
    for k in np.linspace(kept[start], top, LADDER_STEPS):
        fits = candidates[(kept[candidates] <= k) & (candidates >= start)]
        if len(fits):
            ladder.add(int(fits[-1]))
    return sorted(ladder)


def certify_cut(full: ScoreBins, select: ScoreBins, certify: ScoreBins, target: float, *, known_human: int = 0,
                confidence: float = 0.9, seed: int = 0, method: str = "bbe", n_boot: int = 200) -> CutDecision:
    """The largest certified cut (see the module docstring).

    ``full``, ``select`` and ``certify`` are the common bins' counts of all rows and of each
    half (:func:`split_bins`). ``known_human`` rows (decided by provenance) are kept besides
    and dilute the share: a cut keeping ``K`` scored rows of estimated share ``s`` gives an
    output share ``s * K / (K + known_human)``.
    """
    method = choose_method(method, full.ai is not None)
    kept_all = np.concatenate([[0], np.cumsum(full.corpus)])
    valid = np.ones(len(kept_all), bool)
    valid[:-1] = full.corpus > 0  # a cut sits right below a corpus row, or above them all
    valid[0] = True

    def output_share(share: np.ndarray, kept: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(kept > 0, share * kept / (kept + known_human), 0.0)

    # with a human reference only, every estimate is anchored at one bin: up to it the corpus is taken to be
    # human (its cut keeps share 0), and the ladder starts there; chosen on all rows, the certification half's
    # ratio at it leans low, which overstates the synthetic rows: the safe direction
    anchor = low_anchor(full.corpus, full.human) if method == "bbe" else None
    groups = likelihood_bins(select.human, select.ai) if method == "mle" else None
    scale = kept_all[-1] / max(int(select.corpus.sum()), 1)
    kept_select = np.concatenate([[0], np.cumsum(select.corpus)]) * scale
    point_select = kept_shares(method, select.corpus, select.human, select.ai, groups, anchor)
    start = None
    if anchor is not None:
        at_or_below = np.flatnonzero(valid & (kept_all > 0) & (np.arange(len(kept_all)) <= anchor + 1))
        start = int(at_or_below[-1]) if len(at_or_below) else None
        high_select = point_select
    else:  # the two-reference likelihood: start at the cut the selection half is surest of
        _, high_select = interval_bounds(point_select, kept_shares(
            method, *bootstrap_counts(select, method, n_boot, seed + 1), groups), confidence)
    ladder = _ladder(output_share(np.nan_to_num(point_select, nan=1.0), kept_select),
                     output_share(high_select, kept_select), valid & (kept_all > 0), kept_all, target, start)

    # the certification half: measured on its own rows, at the anchor chosen above
    groups = likelihood_bins(certify.human, certify.ai) if method == "mle" else None
    point = kept_shares(method, certify.corpus, certify.human, certify.ai, groups, anchor)
    reps = kept_shares(method, *bootstrap_counts(certify, method, n_boot, seed), groups, anchor)
    low, high = interval_bounds(point, reps, confidence)
    kept_certify = np.concatenate([[0], np.cumsum(certify.corpus)])
    high = np.where((kept_certify == 0) & (kept_all > 0), 1.0, high)  # nothing of this cut in the half: not certifiable
    bound = output_share(high, kept_all)
    tested, final = [], 0
    for b in ladder:
        passed = bool(bound[b] <= target + 1e-12)
        tested.append({"edge": full.upper_edge(b), "kept": int(kept_all[b]), "high": round(float(high[b]), 6),
                       "bound": round(float(bound[b]), 6), "passed": passed})
        if not passed:
            break
        final = b
    share = float(np.nan_to_num(point[final])) if final else 0.0
    return CutDecision(final, full.upper_edge(final) if final < full.n_bins else float("inf"), share,
                       float(low[final]) if final else 0.0, float(high[final]) if final else 0.0,
                       float(bound[final]) if final else 0.0, tested)
