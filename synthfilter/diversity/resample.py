"""Tail-diversity resampling: hierarchical k-means and balanced (water-filling) selection.

The recipe of Vo et al. 2024 ("Automatic Data Curation for Self-Supervised Learning"),
seeded and made deterministic: cluster the rows (MiniBatchKMeans fitted on a hash-chosen
sample), cluster the centroids again for a second level, then hand out the row budget
down the hierarchy with a *water-filling* cap, so small clusters are kept whole and
large ones are cut to the same level. Within a leaf cluster, rows are taken by smallest
``hash64(seed, row key)`` or by distance to the centroid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import datasets
import numpy as np
import pyarrow.compute as pc
from tqdm.auto import tqdm

from ..columns import CLUSTER
from ..hashing import hash_keys
from ..reports import Report
from .clustering import Hierarchy, assign_clusters, default_levels, fit_hierarchy, row_features, row_hashes, water_fill
from .encoders import EMBEDDING_COLUMN

__all__ = ["resample_tails", "ResampleConfig", "ResampleReport", "CLUSTER_COLUMN"]

CLUSTER_COLUMN = CLUSTER.name


@dataclass
class ResampleReport(Report):
    """Rows per cluster before and after, and what was dropped as invalid."""

    size: int
    mode: str
    before: dict[str, int]
    after: dict[str, int]
    invalid_dropped: int
    reference: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        from .metrics import coverage_entropy
        return {"size": self.size, "mode": self.mode, "rows_before": sum(self.before.values()),
                "rows_after": sum(self.after.values()), "invalid_dropped": self.invalid_dropped,
                "clusters": len(self.before), "clusters_kept": sum(1 for v in self.after.values() if v),
                "coverage_entropy_before": round(coverage_entropy(list(self.before.values())), 4),
                "coverage_entropy_after": round(coverage_entropy(list(self.after.values())), 4),
                "before": self.before, "after": self.after, "reference_share": self.reference}

    def summary_lines(self) -> list[str]:
        d = self.to_dict()
        return [f"resample ({self.mode}): {d['rows_before']} -> {d['rows_after']} rows, "
                f"{d['clusters_kept']}/{d['clusters']} clusters kept, coverage entropy "
                f"{d['coverage_entropy_before']:.3f} -> {d['coverage_entropy_after']:.3f}, "
                f"invalid rows dropped: {self.invalid_dropped}"]


# --------------------------------------------------------------------------- public API
def _pick_within(members: np.ndarray, take: int, rank: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """``take`` picks from ``members`` (repeating every member equally when take > len); ties by row hash."""
    ordered = members[np.lexsort((members, hashes[members], rank[members]))]
    reps, rest = divmod(take, len(ordered))
    return np.concatenate([np.tile(ordered, reps), ordered[:rest]])


@dataclass(frozen=True)
class ResampleConfig:
    """How :func:`resample_tails` clusters and chooses rows: the one source of its options.

    Attributes
    ----------
    embedding_column, feature_columns:
        What is clustered: the list-of-floats column (default ``"sf_embedding"``) or the
        named numeric columns.
    by:
        Rebalance the categories of this column instead of clustering (the "90% yellow /
        10% blue" case), toward ``target`` proportions (a dict) or ``count**alpha``
        (``alpha=0``, the default, is uniform; 1 keeps the input proportions).
    n_clusters:
        Leaf clusters, or a tuple ``(leaves, level2, ...)`` for the hierarchy. Default:
        about ``sqrt(rows)`` leaves (at most 1000) under at most 10 top-level clusters.
    within:
        How rows are chosen inside a leaf: ``"hash"`` (default; smallest seeded hash, an
        unbiased sample) or ``"centroid"`` (closest to the centroid first).
    replace, max_repeats:
        Upsample with replacement when a cluster's share exceeds its rows, each row at
        most ``max_repeats`` times (default 4). Default ``replace=False``.
    sample_size:
        Rows (chosen by hash) used to fit k-means. Default 100,000.
    invalid:
        Rows with a null, NaN or wrong-length vector: ``"error"`` (default) raises,
        ``"drop"`` leaves them out (counted in the report).
    id_column, text_column:
        Row key for hashing: ``id_column``, else ``text_column`` if present (default
        ``"text"``), else the vector itself.
    seed:
        Seeds the hash, the fitting sample and k-means. Default 0.
    """

    embedding_column: str = EMBEDDING_COLUMN
    feature_columns: tuple[str, ...] | None = None
    by: str | None = None
    alpha: float = 0.0
    target: Mapping[Any, float] | None = None
    n_clusters: tuple[int, ...] | int | None = None
    within: Literal["hash", "centroid"] = "hash"
    replace: bool = False
    max_repeats: int = 4
    sample_size: int = 100_000
    invalid: Literal["error", "drop"] = "error"
    id_column: str | None = None
    text_column: str | None = "text"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.within not in ("hash", "centroid"):
            raise ValueError(f"within must be 'hash' or 'centroid', got {self.within!r}")
        if self.invalid not in ("error", "drop"):
            raise ValueError(f"invalid must be 'error' or 'drop', got {self.invalid!r}")
        if self.max_repeats < 1:
            raise ValueError(f"max_repeats must be >= 1, got {self.max_repeats!r}")
        if self.feature_columns is not None:
            object.__setattr__(self, "feature_columns", tuple(self.feature_columns))

    @classmethod
    def build(cls, config: "ResampleConfig | None" = None, options: dict | None = None) -> "ResampleConfig":
        """``config`` itself, or a new config from the options by name (not both)."""
        if config is None:
            return cls(**(options or {}))
        if options:
            raise TypeError("pass either config= or resampling options, not both")
        if not isinstance(config, ResampleConfig):
            raise TypeError(f"config must be a ResampleConfig, got {type(config).__name__}")
        return config

    @property
    def repeats(self) -> int:
        """Times a row may be drawn (1 without replacement)."""
        return self.max_repeats if self.replace else 1


@dataclass
class _Clusters:
    """Per row: leaf (or category), distance to its centroid, hash; and what the allocation needs."""

    leaves: np.ndarray
    dist: np.ndarray
    hashes: np.ndarray
    usable: np.ndarray
    n_leaf: int
    names: list | None = None
    hierarchy: Hierarchy | None = None
    weights: np.ndarray | None = None
    n_invalid: int = 0


def resample_tails(ds: datasets.Dataset, size: int, *, config: ResampleConfig | None = None,
                   reference: datasets.Dataset | None = None, strata: str | Sequence | None = None,
                   stratum_sizes: Mapping[Any, int] | None = None, progress: bool = False,
                   return_report: bool = False, **options: Any):
    """Select ``size`` rows balanced over clusters (or categories), keeping the tails.

    Parameters
    ----------
    ds:
        The dataset, with an embedding column (see :class:`synthfilter.Embedder`) or
        numeric ``feature_columns``; with ``by``, only that column is needed.
    size:
        Rows in the result. Larger than the usable rows needs ``replace=True``.
    config, options:
        A :class:`ResampleConfig`, or its fields by name (``embedding_column``,
        ``feature_columns``, ``by``, ``alpha``, ``target``, ``n_clusters``, ``within``,
        ``replace``, ``max_repeats``, ``sample_size``, ``invalid``, ``id_column``,
        ``text_column``, ``seed``); see :class:`ResampleConfig` for their meaning and
        defaults.
    reference:
        A trusted dataset (same embedding/feature columns) whose cluster proportions the
        result should match, instead of flattening toward uniform: restores tails lost
        in a contaminated set without over-inflating them.
    strata, stratum_sizes:
        Resample each stratum separately over the same clusters: ``strata`` is a column
        name or one value per row, ``stratum_sizes`` the rows each stratum keeps (they
        sum to ``size``; strata not named keep none). Keeps a human/synthetic mix
        exactly while balancing clusters. Default ``None``: one stratum.
    progress:
        Show progress bars. Default ``False``.
    return_report:
        Also return a :class:`ResampleReport`. Default ``False``.

    Returns the selected rows in their original order (a repeated row appears once per
    repeat, adjacent), with an added ``sf_cluster`` column (leaf cluster, or category
    index with ``by``).
    """
    cfg = ResampleConfig.build(config, options)
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(f"ds must be a datasets.Dataset, got {type(ds).__name__}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}")
    steps = tqdm(total=4, desc="resample", disable=not progress)
    clusters = _cluster(ds, size, cfg, reference, steps)
    if isinstance(strata, str):
        if strata not in ds.column_names:
            raise KeyError(f"strata: column {strata!r} not found; columns present: {ds.column_names}")
        strata = ds[strata]
    chosen = _choose(clusters, size, cfg, strata, stratum_sizes, ds.num_rows)
    steps.update(1)
    steps.close()
    base = ds.remove_columns(CLUSTER_COLUMN) if CLUSTER_COLUMN in ds.column_names else ds
    out = base.add_column(CLUSTER_COLUMN, clusters.leaves.astype(np.int64).tolist()).select(chosen)
    if not return_report:
        return out
    return out, _report(clusters, chosen, size, cfg, reference is not None)


def _cluster(ds: datasets.Dataset, size: int, cfg: ResampleConfig, reference: datasets.Dataset | None,
             steps: Any) -> _Clusters:
    """Leaves (or categories), distances, hashes and reference weights of every row."""
    if cfg.by is not None:
        leaves, names = _categories(ds, cfg.by)
        X, valid = None, np.ones(ds.num_rows, dtype=bool)
    else:
        X, valid = row_features(ds, cfg.embedding_column, cfg.feature_columns)
    n_invalid = int((~valid).sum())
    if n_invalid and cfg.invalid == "error":
        raise ValueError(f"{n_invalid} rows have a null, NaN or wrong-length vector in "
                         f"{cfg.feature_columns or cfg.embedding_column!r}; pass invalid='drop' to leave them out")
    usable = np.flatnonzero(valid)
    if size > len(usable) * cfg.repeats:
        hint = "" if cfg.replace else "; pass replace=True to upsample"
        raise ValueError(f"size={size} is larger than the {len(usable)} usable rows (x{cfg.repeats}){hint}")
    hashes = row_hashes(ds, X if X is not None else np.zeros((ds.num_rows, 1), np.float32), cfg.seed,
                        cfg.id_column, cfg.text_column)
    steps.update(1)
    if cfg.by is not None:
        steps.update(2)
        weights = None
        if cfg.target is not None:
            missing = set(cfg.target) - set(names)
            if missing:
                raise ValueError(f"target names categories not in column {cfg.by!r}: {sorted(missing, key=str)}")
            weights = np.array([float(cfg.target.get(n, 0.0)) for n in names])
        elif cfg.alpha != 0.0:
            weights = np.bincount(leaves[usable], minlength=len(names)).astype(np.float64) ** cfg.alpha
        return _Clusters(leaves, np.zeros(ds.num_rows, dtype=np.float32), hashes, usable, len(names), names,
                         weights=weights, n_invalid=n_invalid)
    n_clusters = cfg.n_clusters
    levels = (n_clusters,) if isinstance(n_clusters, (int, np.integer)) else tuple(n_clusters or default_levels(len(usable)))
    if levels[0] < 1:
        raise ValueError(f"n_clusters must be positive, got {n_clusters!r}")
    if len(usable) < levels[0]:
        raise ValueError(f"n_clusters: {levels[0]} clusters need at least {levels[0]} usable rows, got {len(usable)}")
    sample = usable[np.argsort(hashes[usable], kind="stable")[:cfg.sample_size]]
    hierarchy = fit_hierarchy(X, levels, cfg.seed, sample)
    steps.update(1)
    leaves, dist = assign_clusters(X, hierarchy.centroids)
    n_leaf = len(hierarchy.centroids)
    steps.update(1)
    weights = None
    if reference is not None:
        ref_X, ref_valid = row_features(reference, cfg.embedding_column, cfg.feature_columns)
        if ref_X.shape[1] != X.shape[1]:
            raise ValueError(f"reference vectors have {ref_X.shape[1]} dimensions, the data {X.shape[1]}")
        ref_leaves, _ = assign_clusters(ref_X[ref_valid], hierarchy.centroids)
        weights = np.bincount(ref_leaves, minlength=n_leaf).astype(np.float64)
    return _Clusters(leaves, dist, hashes, usable, n_leaf, hierarchy=hierarchy, weights=weights, n_invalid=n_invalid)


def _choose(c: _Clusters, size: int, cfg: ResampleConfig, strata: Sequence | None,
            stratum_sizes: Mapping[Any, int] | None, n_rows: int) -> np.ndarray:
    """Rows drawn: the budget water-filled over the clusters, per stratum; positions in order."""
    # ties between clusters by a hash of the cluster, or of the category's value (its index follows row order)
    tie = hash_keys(np.arange(c.n_leaf, dtype=np.int64), cfg.seed) if c.names is None else hash_keys(c.names, cfg.seed)
    rank = c.hashes.astype(np.float64) if cfg.within == "hash" else c.dist.astype(np.float64)
    picks = []
    for name, members, budget in _strata_budgets(c.usable, size, strata, stratum_sizes, n_rows):
        capacity = np.bincount(c.leaves[members], minlength=c.n_leaf) * cfg.repeats
        if c.hierarchy is not None and c.hierarchy.parents:
            alloc = _allocate_hierarchy(c.hierarchy, capacity, budget, c.weights, tie)
        else:
            alloc = water_fill(capacity, budget, c.weights, tie)
        if int(alloc.sum()) < budget:
            where = "" if name is None else f" of stratum {name!r}"
            raise ValueError(f"size={budget}{where}: only {int(alloc.sum())} rows can be drawn from the clusters "
                             "that carry weight")
        sorted_members = members[np.argsort(c.leaves[members], kind="stable")]
        bounds = np.searchsorted(c.leaves[sorted_members], np.arange(c.n_leaf + 1))
        picks += [_pick_within(sorted_members[bounds[k]:bounds[k + 1]], int(alloc[k]), rank, c.hashes)
                  for k in range(c.n_leaf) if alloc[k]]
    return np.sort(np.concatenate(picks)) if picks else np.zeros(0, dtype=np.int64)


def _report(c: _Clusters, chosen: np.ndarray, size: int, cfg: ResampleConfig, anchored: bool) -> "ResampleReport":
    label = (lambda k: str(c.names[k])) if c.names is not None else str
    before = np.bincount(c.leaves[c.usable], minlength=c.n_leaf)
    after = np.bincount(c.leaves[chosen], minlength=c.n_leaf)
    ref_share = None
    if c.weights is not None and c.weights.sum() > 0:
        ref_share = {label(k): round(float(w / c.weights.sum()), 6) for k, w in enumerate(c.weights)}
    mode = "by:" + cfg.by if cfg.by else ("reference" if anchored else "uniform")
    return ResampleReport(int(size), mode, {label(k): int(before[k]) for k in range(c.n_leaf)},
                          {label(k): int(after[k]) for k in range(c.n_leaf)}, c.n_invalid, ref_share)


def _strata_budgets(usable: np.ndarray, size: int, strata: str | Sequence | None,
                    stratum_sizes: Mapping[Any, int] | None, n_rows: int) -> list[tuple[Any, np.ndarray, int]]:
    """(usable rows of the stratum, rows to draw from it) for every stratum with a budget."""
    if strata is None:
        return [(None, usable, size)]
    if stratum_sizes is None:
        raise ValueError("strata needs stratum_sizes: the rows each stratum keeps")
    values = list(strata)
    if len(values) != n_rows:
        raise ValueError(f"strata: {len(values)} values for {n_rows} rows")
    if sum(stratum_sizes.values()) != size:
        raise ValueError(f"stratum_sizes sum to {sum(stratum_sizes.values())}, not size={size}")
    codes = {name: i for i, name in enumerate(stratum_sizes)}
    row_codes = np.array([codes.get(v, -1) for v in values], dtype=np.int64)
    out = []
    for name, budget in stratum_sizes.items():
        if budget:
            out.append((name, usable[row_codes[usable] == codes[name]], int(budget)))
    return out


def _allocate_hierarchy(h: Hierarchy, capacity: np.ndarray, size: int, weights: np.ndarray | None,
                        tie: np.ndarray) -> np.ndarray:
    """Water-fill the budget over top-level clusters, then down each level to the leaves."""
    n_leaf = len(capacity)
    # maps[i]: cluster index at level i for every leaf (level 0 = leaves)
    maps = [np.arange(n_leaf)]
    for parent in h.parents:
        maps.append(parent[maps[-1]])
    w_leaf = np.ones(n_leaf) if weights is None else weights

    def split(members: np.ndarray, budget: int, level: int) -> np.ndarray:
        alloc = np.zeros(n_leaf, dtype=np.int64)
        if level == 0:
            alloc[members] = water_fill(capacity[members], budget, w_leaf[members] if weights is not None else None,
                                        tie[members])
            return alloc
        ids = maps[level][members]
        uniq = np.unique(ids)
        cap = np.array([capacity[members[ids == u]].sum() for u in uniq])
        wts = None if weights is None else np.array([w_leaf[members[ids == u]].sum() for u in uniq])
        part = water_fill(cap, budget, wts, hash_keys(uniq.astype(np.int64), level))
        for u, b in zip(uniq, part):
            if b:
                alloc += split(members[ids == u], int(b), level - 1)
        return alloc

    return split(np.arange(n_leaf), size, len(maps) - 1)


def _categories(ds: datasets.Dataset, by: str) -> tuple[np.ndarray, list]:
    if by not in ds.column_names:
        raise KeyError(f"by: column {by!r} not found; columns present: {ds.column_names}")
    col = (ds.with_format("arrow")[:] if ds._indices is not None else ds.data.table).column(by)
    if col.null_count:
        raise ValueError(f"by: column {by!r} has {col.null_count} null values; fill them first")
    enc = pc.dictionary_encode(col).combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()
