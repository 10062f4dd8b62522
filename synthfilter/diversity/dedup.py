"""Semantic deduplication (SemDeDup, Abbas et al. 2023) within clusters."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, Literal

import datasets
import numpy as np
from tqdm.auto import tqdm

from ..reports import Report
from .clustering import assign_clusters, default_levels, fit_hierarchy, row_features, row_hashes
from .encoders import EMBEDDING_COLUMN
from .resample import CLUSTER_COLUMN

__all__ = ["dedup_semantic", "DedupReport"]


@dataclass
class DedupReport(Report):
    """Rows dropped as near-duplicates, per cluster."""

    threshold: float
    rows_before: int
    rows_after: int
    dropped_per_cluster: dict[str, int]
    duplicate_of: np.ndarray | None = field(default=None, repr=False)
    """Per input row, the position of the kept row it is a near-duplicate of (-1 when kept)."""
    not_compared: int = 0
    """Rows kept without comparison (``compare`` was false for them)."""

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "rows_before": self.rows_before, "rows_after": self.rows_after,
                "dropped": self.rows_before - self.rows_after, "not_compared": self.not_compared,
                "dropped_per_cluster": {k: v for k, v in self.dropped_per_cluster.items() if v}}

    def summary_lines(self) -> list[str]:
        return [f"dedup_semantic (cosine > {self.threshold}): {self.rows_before} -> {self.rows_after} rows, "
                f"{self.rows_before - self.rows_after} near-duplicates dropped in "
                f"{sum(1 for v in self.dropped_per_cluster.values() if v)} clusters"
                + (f"; {self.not_compared} rows kept uncompared" if self.not_compared else "")]


def _greedy_keep(Xc: np.ndarray, threshold: float, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Keep mask, and per dropped row the earlier kept row it is a near-duplicate of (-1 for kept rows).

    A row goes if its cosine similarity to an earlier kept row exceeds ``threshold``; it is
    attributed to the most similar such row (the first one found within a block).
    """
    norms = np.linalg.norm(Xc, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    Xn = (Xc / norms).astype(np.float32)
    keep = np.ones(len(Xn), dtype=bool)
    of = np.full(len(Xn), -1, dtype=np.int64)
    kept_rows: list[np.ndarray] = []
    kept_index: list[np.ndarray] = []
    for start in range(0, len(Xn), block):
        part = Xn[start:start + block]
        dup = np.zeros(len(part), dtype=bool)
        if kept_rows:
            sims_prev = np.minimum(part @ np.concatenate(kept_rows).T, 1.0)
            dup = sims_prev.max(axis=1) > threshold
            of[start + np.flatnonzero(dup)] = np.concatenate(kept_index)[sims_prev[dup].argmax(axis=1)]
        sims = np.minimum(part @ part.T, 1.0)  # float32 rounding can give identical rows a cosine above 1
        for i in range(len(part)):
            if dup[i]:
                continue
            later = (sims[i, i + 1:] > threshold) & ~dup[i + 1:]
            of[start + i + 1 + np.flatnonzero(later)] = start + i
            dup[i + 1:] |= later
        keep[start:start + len(part)] = ~dup
        kept_rows.append(part[~dup])
        kept_index.append(start + np.flatnonzero(~dup))
    return keep, of


def dedup_semantic(ds: datasets.Dataset, threshold: float = 0.95, *, embedding_column: str = EMBEDDING_COLUMN,
                   feature_columns: list[str] | None = None, cluster_column: str | None = None,
                   n_clusters: int | None = None, invalid: Literal["error", "keep"] = "error", seed: int = 0,
                   compare: Sequence[bool] | np.ndarray | None = None, progress: bool = False,
                   return_report: bool = False):
    """Drop rows whose cosine similarity to an earlier kept row of the same cluster exceeds ``threshold``.

    Parameters
    ----------
    threshold:
        Cosine similarity above which a row counts as a near-duplicate, in (0, 1].
        Default 0.95.
    embedding_column, feature_columns:
        The vectors compared (default ``"sf_embedding"``).
    cluster_column:
        Existing cluster ids to dedup within (for example ``"sf_cluster"`` from
        :func:`resample_tails`). Default: that column if present, else k-means with
        ``n_clusters`` (default about ``sqrt(rows)``) fitted here.
    invalid:
        Rows without a usable vector: ``"error"`` (default) raises, ``"keep"`` keeps them.
    seed:
        Seeds the k-means fit. Default 0.
    compare:
        One boolean per row: only rows marked ``True`` are compared (and can be dropped);
        the others are kept as they are and counted in the report's ``not_compared``. For
        rows whose embedding means nothing, such as text in a language the embedding
        model was not trained on (``clean`` passes ``sf_lang`` in :attr:`Embedder.languages`).
        Default ``None``: every row.
    return_report:
        Also return a :class:`DedupReport` with drops per cluster and, per input row, the
        kept row it duplicates (``duplicate_of``). Default ``False``.

    "Earlier" is row order; the result keeps the original order. Memory per cluster is
    O(cluster size x 2048); pairwise work is O(size^2), so keep clusters in the
    thousands of rows.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be a cosine similarity in (0, 1], got {threshold!r}")
    X, valid = row_features(ds, embedding_column, feature_columns)
    if (~valid).any() and invalid == "error":
        raise ValueError(f"{int((~valid).sum())} rows have a null, NaN or wrong-length vector; pass invalid='keep'")
    not_compared = 0
    if compare is not None:
        compare = np.asarray(compare, dtype=bool)
        if compare.shape != (ds.num_rows,):
            raise ValueError(f"compare must hold one boolean per row ({ds.num_rows}), got shape {compare.shape}")
        not_compared = int((~compare).sum())
        valid = valid & compare
    usable = np.flatnonzero(valid)
    cluster_column = cluster_column or (CLUSTER_COLUMN if CLUSTER_COLUMN in ds.column_names else None)
    if cluster_column is not None:
        if cluster_column not in ds.column_names:
            raise KeyError(f"cluster_column {cluster_column!r} not found; columns present: {ds.column_names}")
        labels = np.asarray(ds[cluster_column], dtype=np.int64)
    elif len(usable):
        k = n_clusters or default_levels(len(usable))[0]
        k = min(k, len(usable))
        hashes = row_hashes(ds, X, seed, None, None)
        sample = usable[np.argsort(hashes[usable], kind="stable")[:100_000]]
        labels, _ = assign_clusters(X, fit_hierarchy(X, (k,), seed, sample).centroids)
    else:
        labels = np.zeros(ds.num_rows, dtype=np.int64)
    keep = np.ones(ds.num_rows, dtype=bool)
    duplicate_of = np.full(ds.num_rows, -1, dtype=np.int64)
    dropped: dict[str, int] = {}
    clusters, sizes = np.unique(labels[usable], return_counts=True)
    order = np.argsort(labels[usable], kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    bar = tqdm(total=len(usable), desc="dedup", unit="row", disable=not progress)
    for i, c in enumerate(clusters):
        members = usable[order[bounds[i]:bounds[i + 1]]]
        mask, of = _greedy_keep(X[members], threshold)
        bar.update(len(members))
        keep[members[~mask]] = False
        duplicate_of[members[~mask]] = members[of[~mask]]
        dropped[str(int(c))] = int((~mask).sum())
    bar.close()
    out = ds.select(np.flatnonzero(keep)) if not keep.all() else ds
    if return_report:
        return out, DedupReport(threshold, ds.num_rows, out.num_rows, dropped, duplicate_of, not_compared)
    return out
