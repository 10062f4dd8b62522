"""The score cut of the quota on the estimated share: the kept part's share for every cut, and the largest cut
that holds the target (:mod:`synthfilter.quota.estimate` has the estimators and intervals these build on)."""

from __future__ import annotations

import numpy as np

from .estimate import ScoreBins, bootstrap_counts, interval_bounds, likelihood_bins, point_estimate, choose_method

__all__ = ["kept_share_bounds", "largest_kept_prefix"]


def kept_share_bounds(bins: ScoreBins, *, confidence: float = 0.9, seed: int = 0, method: str = "bbe",
                      n_boot: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimated synthetic share of the rows kept by every score cut: ``(share, low, high)`` per prefix.

    Entry ``b`` (0 to ``len(bins.corpus)``) is for keeping the first ``b`` bins. The
    kept part's share follows from the whole corpus's estimate ``a`` (one fit on all
    rows, far steadier than re-fitting on a narrow low-score range): the kept human rows
    are ``(1 - a) * N * H(b)``, ``H(b)`` being the human reference's share below the
    cut, so the kept share is ``1 - (1 - a) * N * H(b) / N(b)``. Each bootstrap replicate
    redraws corpus and references and so ``a``, ``H`` and ``N`` together; the interval
    per cut is :func:`interval_bounds`' over those replicates.
    """
    method = choose_method(method, bins.ai is not None)
    groups = likelihood_bins(bins.human, bins.ai) if method == "mle" else None
    boot = bootstrap_counts(bins, method, n_boot, seed)

    def kept(a: np.ndarray, corpus: np.ndarray, human: np.ndarray) -> np.ndarray:
        n_kept = np.concatenate([np.zeros(corpus.shape[:-1] + (1,)), np.cumsum(corpus, axis=-1)], axis=-1)
        h = np.concatenate([np.zeros(human.shape[:-1] + (1,)), np.cumsum(human, axis=-1)], axis=-1)
        h = h / np.maximum(h[..., -1:], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - (1.0 - a[..., None]) * n_kept[..., -1:] * h / n_kept
        out = np.where(np.isnan(a)[..., None], np.nan, np.clip(out, 0.0, 1.0))
        return np.where(n_kept > 0, out, 0.0)  # nothing kept: nothing synthetic

    point = kept(np.asarray(point_estimate(method, bins.corpus, bins.human, bins.ai, groups), dtype=np.float64),
                 bins.corpus, bins.human)
    reps = kept(np.asarray(point_estimate(method, *boot, groups), dtype=np.float64), boot[0], boot[1])
    return interval_bounds(point, reps, confidence)


def largest_kept_prefix(bins: ScoreBins, max_share: float, *, confidence: float = 0.9, seed: int = 0,
                        method: str = "bbe", n_boot: int = 200, known_human: int = 0) -> tuple[int, tuple[float, float, float]]:
    """The most low-score bins a corpus can keep with the upper bound of its estimated share ``<= max_share``.

    Keeping the first ``b`` bins keeps the corpus rows scoring below
    ``bins.upper_edge(b)``; the kept part's share and interval come from
    :func:`kept_share_bounds`. ``known_human`` rows (decided by provenance) are kept too
    and dilute the share: the test is ``high * kept <= max_share * (kept + known_human)``.
    Returns ``b`` (0 when no cut qualifies) and the kept part's ``(share, low, high)``,
    ``high`` being the top of the ``confidence`` interval. The largest qualifying cut is
    taken, every cut being checked; a cut sits right below a bin holding corpus rows, or
    above all of them.
    """
    share, low, high = kept_share_bounds(bins, confidence=confidence, seed=seed, method=method, n_boot=n_boot)
    n_kept = np.concatenate([[0], np.cumsum(bins.corpus)])
    ok = high * n_kept <= max_share * (n_kept + known_human) + 1e-12
    # a cut sits right below a corpus row (or above them all): between two corpus rows, the one
    # kept set is estimated with all the reference mass below the next row
    ok[:-1] &= bins.corpus > 0
    ok[0] = True
    b = int(np.flatnonzero(ok)[-1])
    return b, (float(share[b]), float(low[b]), float(high[b]))
