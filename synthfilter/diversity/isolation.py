"""How atypical each row is: the ranking inside a cluster of tail resampling (``within="isolation"``).

A rare topic that has no cluster of its own lies at the edge of the common clusters it was
absorbed into: far from their centroids. :func:`isolation_scores` measures that at several
granularities (k-means with 4, 8, 16 and 32 centroids, fitted on the same hash-chosen
sample as the hierarchy) and averages each row's distance rank, so no single k decides.
It is the prototypicality of D4 / SemDeDup (Tirumala et al. 2023, Abbas et al. 2023: the
rows closest to a centroid are the most redundant) used as a priority, not as a filter.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from .clustering import assign_clusters, fit_hierarchy

__all__ = ["ISOLATION_KS", "isolation_scores"]

#: The k-means granularities whose distance ranks are averaged.
ISOLATION_KS: tuple[int, ...] = (4, 8, 16, 32)


def isolation_scores(X: np.ndarray, rows: np.ndarray, sample: np.ndarray, seed: int,
                     ks: tuple[int, ...] = ISOLATION_KS) -> np.ndarray:
    """Per row of ``X``: the mean over ``ks`` of the rank (in (0, 1], among ``rows``) of its squared
    distance to the nearest of ``k`` centroids fitted on ``X[sample]``; 0 outside ``rows``.

    Higher is more isolated. Ties share their average rank, so the scores do not depend on
    row order; granularities with more centroids than sample rows are skipped.
    """
    scores = np.zeros(len(X), dtype=np.float64)
    used = [k for k in ks if k <= len(sample)]
    if not len(rows) or not used:
        return scores
    for k in used:
        centroids = fit_hierarchy(X, (k,), seed, sample).centroids
        dist = assign_clusters(X, centroids)[1][rows]
        scores[rows] += rankdata(dist, method="average") / len(rows)
    scores[rows] /= len(used)
    return scores
