"""Clustering for tail resampling and dedup: row vectors, hierarchical k-means, water-filling.

Rows become vectors (an embedding column or numeric columns, :func:`row_features`) and
seeded hashes (:func:`row_hashes`); :func:`fit_hierarchy` fits MiniBatchKMeans on a
hash-chosen sample and clusters the centroids again; :func:`assign_clusters` gives every
row its leaf; :func:`water_fill` hands a budget out over clusters with a common cap, so
small clusters are kept whole and large ones are cut to the same level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.cluster import KMeans, MiniBatchKMeans

from ..hashing import hash_column, hash_keys
from .encoders import EMBEDDING_COLUMN

__all__ = ["water_fill", "row_features", "row_hashes", "Hierarchy", "fit_hierarchy", "assign_clusters",
           "default_levels"]


# --------------------------------------------------------------------------- allocation
def water_fill(capacity: np.ndarray, budget: int, weights: np.ndarray | None = None,
               tie_keys: np.ndarray | None = None) -> np.ndarray:
    """Integer allocation ``a`` with ``a <= capacity`` and ``sum(a) = min(budget, sum(capacity))``.

    ``a_i`` is (up to rounding) ``min(capacity_i, level * weights_i)`` for the one level that
    spends the budget: with equal weights, small groups are taken whole and large ones
    are capped at a common level. Leftover units after flooring go to the largest
    fractional parts, ties broken by ``tie_keys`` (default: position).
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    w = np.ones(len(capacity)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(capacity) or (w < 0).any():
        raise ValueError("weights must be non-negative, one per group")
    budget = int(min(budget, capacity[w > 0].sum()))
    alloc = np.zeros(len(capacity), dtype=np.float64)
    active = np.flatnonzero((w > 0) & (capacity > 0))
    order = active[np.argsort(capacity[active] / w[active], kind="stable")]
    remaining, weight_left = float(budget), float(w[order].sum())
    for pos, i in enumerate(order):
        level = remaining / weight_left if weight_left > 0 else 0.0
        if capacity[i] <= level * w[i]:
            alloc[i] = capacity[i]
            remaining -= capacity[i]
            weight_left -= w[i]
        else:
            rest = order[pos:]
            alloc[rest] = level * w[rest]
            break
    out = np.floor(alloc + 1e-9).astype(np.int64)
    out = np.minimum(out, capacity)
    short = budget - int(out.sum())
    if short > 0:
        frac = alloc - out
        frac[(out >= capacity) | (w <= 0)] = -1.0
        ties = np.arange(len(capacity)) if tie_keys is None else tie_keys
        pick = np.lexsort((ties, -frac))[:short]
        out[pick] += 1
    return out


# --------------------------------------------------------------------------- features
def row_features(ds: datasets.Dataset, embedding_column: str = EMBEDDING_COLUMN,
                 feature_columns: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, valid)``: float32 matrix of the embedding (or numeric feature columns) and a mask of usable rows.

    Null, empty, wrong-length or non-finite vectors are marked invalid (their row of X is 0).
    """
    table = ds.with_format("arrow")[:] if ds._indices is not None else ds.data.table
    if feature_columns:
        missing = [c for c in feature_columns if c not in ds.column_names]
        if missing:
            raise KeyError(f"feature_columns {missing} not found; columns present: {ds.column_names}")
        cols = [pc.fill_null(table.column(c).cast(pa.float64()), math.nan).to_numpy(zero_copy_only=False)
                for c in feature_columns]
        X = np.column_stack(cols).astype(np.float32)
    else:
        if embedding_column not in ds.column_names:
            raise KeyError(
                f"embedding column {embedding_column!r} not found (columns present: {ds.column_names}); "
                "add it with ds.map(synthfilter.Embedder(), batched=True), or pass feature_columns=[...]"
            )
        col = table.column(embedding_column).combine_chunks()
        if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type) or pa.types.is_fixed_size_list(col.type)):
            raise TypeError(f"embedding column {embedding_column!r} must hold lists of floats, got {col.type}")
        lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
        dim = int(np.bincount(lengths[lengths > 0]).argmax()) if (lengths > 0).any() else 0
        X = np.zeros((len(col), dim), dtype=np.float32)
        good_len = lengths == dim
        if dim and good_len.all() and col.null_count == 0:
            X = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(col), dim)
        elif dim:
            rows = np.flatnonzero(good_len)
            X[rows] = pc.list_flatten(col.take(pa.array(rows))).to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(rows), dim)
    valid = np.isfinite(X).all(axis=1) & (X.shape[1] > 0)
    if not feature_columns:
        valid &= good_len
    if not valid.all():
        X = np.array(X, copy=True)  # Arrow-backed arrays are read-only
        X[~valid] = 0.0
    return X, valid


def row_hashes(ds: datasets.Dataset, X: np.ndarray, seed: int, id_column: str | None,
               text_column: str | None) -> np.ndarray:
    """Per-row ``hash64(seed, key)``: key = ``id_column``, else ``text_column``, else the vector itself."""
    if id_column is not None or (text_column is not None and text_column in ds.column_names):
        name = id_column if id_column is not None else text_column
        if name not in ds.column_names:
            raise KeyError(f"id_column {name!r} not found; columns present: {ds.column_names}")
        return hash_column((ds.with_format("arrow")[:] if ds._indices is not None else ds.data.table).column(name), seed)
    # content key: a wrapping linear hash of the vector's bits, then SplitMix64
    bits = np.ascontiguousarray(X).view(np.uint32)
    mult = hash_keys(np.arange(bits.shape[1], dtype=np.int64), 12345) | np.uint64(1)
    keys = np.zeros(len(X), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(X), 65536):
            keys[start:start + 65536] = (bits[start:start + 65536].astype(np.uint64) * mult).sum(axis=1)
    return hash_keys(keys.view(np.int64), seed)


# --------------------------------------------------------------------------- clustering
@dataclass
class Hierarchy:
    """Leaf centroids and, per upper level, the parent of every cluster of the level below."""

    centroids: np.ndarray
    parents: list[np.ndarray]


def fit_hierarchy(X: np.ndarray, levels: tuple[int, ...], seed: int, sample_index: np.ndarray) -> Hierarchy:
    """Fit k-means on ``X[sample_index]`` for ``levels[0]`` leaves, then k-means on centroids for each further level."""
    sample = X[sample_index]
    k = levels[0]
    if len(sample) < k:
        raise ValueError(f"n_clusters: {k} leaf clusters need at least {k} usable rows, got {len(sample)}")
    if len(sample) > 20 * k:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=max(1024, 4 * k),
                                max_no_improvement=20).fit(sample)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=3).fit(sample)
    centroids = model.cluster_centers_.astype(np.float32)
    parents = []
    points = centroids
    for k_up in levels[1:]:
        if k_up >= len(points):
            break
        up = KMeans(n_clusters=k_up, random_state=seed, n_init=5).fit(points)
        parents.append(up.labels_.astype(np.int64))
        points = up.cluster_centers_
    return Hierarchy(centroids, parents)


def assign_clusters(X: np.ndarray, centroids: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid and squared distance for every row, in chunks."""
    labels = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X), dtype=np.float32)
    c_norm = (centroids.astype(np.float32) ** 2).sum(axis=1)
    for start in range(0, len(X), chunk):
        block = X[start:start + chunk]
        d = c_norm[None, :] - 2.0 * (block @ centroids.T)
        labels[start:start + chunk] = d.argmin(axis=1)
        dist[start:start + chunk] = d[np.arange(len(block)), labels[start:start + chunk]] + (block ** 2).sum(axis=1)
    return labels, dist


def default_levels(n: int) -> tuple[int, ...]:
    """Leaf clusters ~ sqrt(n) (2..1000) under at most 10 top-level clusters.

    The budget is balanced over the top level, so a rare mode is kept whole only when its
    top-level cluster's equal share covers it: with a 20% budget that needs at most
    20 top-level clusters. Ten coarse "concepts" over fine leaves follows Vo et al.
    """
    leaves = int(min(1000, max(2, round(math.sqrt(max(n, 1))))))
    top = min(10, leaves // 4)
    return (leaves, top) if top >= 2 else (leaves,)


# --------------------------------------------------------------------------- report
