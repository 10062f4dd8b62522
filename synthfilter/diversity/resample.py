"""Tail-diversity resampling: hierarchical k-means and balanced (water-filling) selection.

The recipe of Vo et al. 2024 ("Automatic Data Curation for Self-Supervised Learning"),
seeded and made deterministic: cluster the rows (MiniBatchKMeans fitted on a hash-chosen
sample), cluster the centroids again for a second level, then hand out the row budget
down the hierarchy with a *water-filling* cap, so small clusters are kept whole and
large ones are cut to the same level. Within a leaf cluster, rows are taken by smallest
``hash64(seed, row key)`` or by distance to the centroid.

Junk (rows labelled ``unknown``, very short rows, boiler-plate templates; see
:mod:`~synthfilter.diversity.junk`) forms exactly the small odd clusters the balancing
favours, so it is never up-weighted: within each stratum, junk rows together get at
most their proportional share ``floor(budget * junk rows / rows)`` (spread over the
clusters in proportion to their junk rows, the first rows by rank in each), and more
only when the non-junk rows cannot fill the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc
from tqdm.auto import tqdm

from ..columns import CLUSTER
from ..hashing import hash_keys
from .clustering import Hierarchy, assign_clusters, default_levels, fit_hierarchy, row_features, row_hashes, water_fill
from .isolation import isolation_scores
from .junk import JunkRows, junk_rows
from .resample_options import ResampleConfig, ResampleReport

__all__ = ["resample_tails", "ResampleConfig", "ResampleReport", "CLUSTER_COLUMN"]

CLUSTER_COLUMN = CLUSTER.name


# --------------------------------------------------------------------------- public API
def _rank_order(members: np.ndarray, rank: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """``members`` by rank, ties by row hash, then position."""
    return members[np.lexsort((members, hashes[members], rank[members]))]


def _pick_within(ordered: np.ndarray, take: int, caps: np.ndarray) -> np.ndarray:
    """The first ``take`` of the rounds over ``ordered`` (in rank order): round ``j`` holds
    every row with ``caps >= j``. With equal caps this repeats every row equally."""
    if take <= 0:
        return np.zeros(0, dtype=np.int64)
    rounds, got, j = [], 0, 1
    while got < take:
        this = ordered[caps >= j]
        if not len(this):
            raise AssertionError("allocation exceeds the rows' copy caps")  # pragma: no cover
        rounds.append(this)
        got += len(this)
        j += 1
    return np.concatenate(rounds)[:take]


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
    junk: JunkRows | None = None
    units: np.ndarray | None = None
    """Per row, the cluster the budget is water-filled over when not the leaves (the top level)."""
    isolation: np.ndarray | None = None


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
        Rows in the result, exactly. Larger than the usable rows needs ``max_copies > 1``.
    config, options:
        A :class:`ResampleConfig`, or its fields by name (``embedding_column``,
        ``feature_columns``, ``by``, ``alpha``, ``target``, ``n_clusters``, ``within``,
        ``max_copies``, ``replace``, ``max_repeats``, ``junk``, ``min_words``,
        ``boilerplate_min_repeats``, ``label_column``, ``sample_size``, ``invalid``,
        ``id_column``, ``text_column``, ``seed``); see :class:`ResampleConfig` for their
        meaning and defaults.
    reference:
        A trusted dataset (same embedding/feature columns) whose cluster proportions the
        result should match, instead of flattening toward uniform: restores tails lost
        in a contaminated set without over-inflating them.
    strata, stratum_sizes:
        Resample each stratum separately over the same clusters: ``strata`` is a column
        name or one value per row, ``stratum_sizes`` the rows each stratum keeps (they
        sum to ``size``; strata not named keep none). Keeps a human/synthetic mix
        exactly while balancing clusters. Default ``None``: one stratum. The junk share
        is held to its share within each stratum.
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
    clusters.junk = junk_rows(ds, text_column=cfg.text_column, label_column=cfg.label_column,
                              min_words=cfg.min_words, boilerplate_min_repeats=cfg.boilerplate_min_repeats)
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
    if size > len(usable) * cfg.copies:
        hint = "" if cfg.copies > 1 else "; pass max_copies=2 or more (or replace=True) to upsample"
        raise ValueError(f"size={size} is larger than the {len(usable)} usable rows (x{cfg.copies}){hint}")
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
    out = _Clusters(leaves, dist, hashes, usable, n_leaf, hierarchy=hierarchy, weights=weights, n_invalid=n_invalid)
    if cfg.within == "isolation":
        out.isolation = isolation_scores(X, usable, sample, cfg.seed)
        if weights is None and hierarchy.parents:  # balanced over the top level, isolated rows first inside it
            top = np.arange(n_leaf)
            for parent in hierarchy.parents:
                top = parent[top]
            out.units = top[leaves]
    return out


def _choose(c: _Clusters, size: int, cfg: ResampleConfig, strata: Sequence | None,
            stratum_sizes: Mapping[Any, int] | None, n_rows: int) -> np.ndarray:
    """Rows drawn: the budget water-filled over the clusters, per stratum; positions in order.

    Every row has a cap on its copies (``cfg.copies``). With the junk rule, junk rows first
    get only their proportional share (:func:`_junk_caps`); the clusters are water-filled
    over those caps, and only if that cannot fill the budget do junk rows get the rest of
    their copies, in a second water-filling.
    """
    # the budget goes over the top level (units) or down the hierarchy to the leaves
    units, n_units = (c.units, int(c.units.max(initial=-1)) + 1) if c.units is not None else (c.leaves, c.n_leaf)
    # ties between clusters by a hash of the cluster, or of the category's value (its index follows row order)
    tie = hash_keys(np.arange(n_units, dtype=np.int64), cfg.seed) if c.names is None else hash_keys(c.names, cfg.seed)
    rank = {"hash": c.hashes.astype(np.float64), "centroid": c.dist.astype(np.float64),
            "isolation": -c.isolation if c.isolation is not None else c.hashes.astype(np.float64)}[cfg.within]
    junk = c.junk.mask if (cfg.junk_rule and c.junk is not None and c.junk.kinds) else None
    copies = cfg.copies

    def allocate(capacity: np.ndarray, budget: int) -> np.ndarray:
        if c.units is None and c.hierarchy is not None and c.hierarchy.parents:
            return _allocate_hierarchy(c.hierarchy, capacity, budget, c.weights, tie)
        return water_fill(capacity, budget, c.weights if c.units is None else None, tie)

    picks = []
    for name, members, budget in _strata_budgets(c.usable, size, strata, stratum_sizes, n_rows):
        # members grouped by unit, in rank order inside each unit
        members = _rank_order(members, rank, c.hashes)
        members = members[np.argsort(units[members], kind="stable")]
        bounds = np.searchsorted(units[members], np.arange(n_units + 1))
        caps = np.full(len(members), copies, dtype=np.int64)
        extra = np.zeros(len(members), dtype=np.int64)
        if junk is not None and junk[members].any():
            is_junk = junk[members]
            caps[is_junk] = _junk_caps(members, is_junk, bounds, budget, copies, tie)
            extra[is_junk] = copies - caps[is_junk]
        leaf_of = units[members]
        alloc = allocate(np.bincount(leaf_of, weights=caps, minlength=n_units).astype(np.int64), budget)
        more = np.zeros(n_units, dtype=np.int64)
        if int(alloc.sum()) < budget and extra.any():
            # the other rows cannot fill the budget: junk rows get the rest of their copies
            more = allocate(np.bincount(leaf_of, weights=extra, minlength=n_units).astype(np.int64),
                            budget - int(alloc.sum()))
        if int(alloc.sum() + more.sum()) < budget:
            where = "" if name is None else f" of stratum {name!r}"
            raise ValueError(f"size={budget}{where}: only {int(alloc.sum() + more.sum())} rows can be drawn from "
                             "the clusters that carry weight")
        for k in np.flatnonzero(alloc + more):
            rows, lo, hi = members[bounds[k]:bounds[k + 1]], bounds[k], bounds[k + 1]
            picks.append(_pick_within(rows, int(alloc[k]), caps[lo:hi]))
            if more[k]:
                picks.append(_pick_within(rows, int(more[k]), extra[lo:hi]))
    return np.sort(np.concatenate(picks)) if picks else np.zeros(0, dtype=np.int64)


def _junk_caps(members: np.ndarray, is_junk: np.ndarray, bounds: np.ndarray, budget: int, copies: int,
               tie: np.ndarray) -> np.ndarray:
    """Copies each junk row of a stratum may get before the other rows are used up.

    Together ``floor(budget * junk / rows)`` (their share under proportional, unbalanced
    sampling), spread over the leaves in proportion to their junk rows (largest remainder,
    ties by cluster hash), and inside a leaf over its junk rows in rank order (``members``
    is grouped by leaf and rank-ordered inside each).
    """
    n_leaf = len(bounds) - 1
    leaf_of = np.repeat(np.arange(n_leaf), np.diff(bounds))
    per_leaf = np.bincount(leaf_of[is_junk], minlength=n_leaf)
    n_junk = int(per_leaf.sum())
    allowance = min(budget * n_junk // len(members), n_junk * copies)
    leaf_allow = water_fill(per_leaf * copies, allowance, per_leaf.astype(np.float64), tie)
    # inside a leaf: every junk row floor(a/j) copies, the first (a mod j) by rank one more
    junk_leaf = leaf_of[is_junk]
    order_in_leaf = np.arange(n_junk) - np.searchsorted(junk_leaf, junk_leaf, side="left")
    base, rest = np.divmod(leaf_allow[junk_leaf], np.maximum(per_leaf[junk_leaf], 1))
    return base + (order_in_leaf < rest)


def _report(c: _Clusters, chosen: np.ndarray, size: int, cfg: ResampleConfig, anchored: bool) -> "ResampleReport":
    label = (lambda k: str(c.names[k])) if c.names is not None else str
    before = np.bincount(c.leaves[c.usable], minlength=c.n_leaf)
    after = np.bincount(c.leaves[chosen], minlength=c.n_leaf)
    ref_share = None
    if c.weights is not None and c.weights.sum() > 0:
        ref_share = {label(k): round(float(w / c.weights.sum()), 6) for k, w in enumerate(c.weights)}
    mode = "by:" + cfg.by if cfg.by else ("reference" if anchored else "uniform")
    junk = c.junk if c.junk is not None else JunkRows(len(c.leaves))
    return ResampleReport(int(size), mode, {label(k): int(before[k]) for k in range(c.n_leaf)},
                          {label(k): int(after[k]) for k in range(c.n_leaf)}, c.n_invalid, ref_share,
                          junk_rule=cfg.junk_rule and bool(junk.kinds), junk_kinds=junk.checked,
                          junk_before=junk.counts(c.usable) if junk.kinds else {},
                          junk_after=junk.counts(chosen) if junk.kinds else {},
                          max_copies=cfg.copies,
                          max_copies_used=int(np.bincount(chosen).max()) if len(chosen) else 0)


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
