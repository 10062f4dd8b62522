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
from dataclasses import dataclass, field
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
from .junk import JunkRows, junk_rows

__all__ = ["resample_tails", "ResampleConfig", "ResampleReport", "CLUSTER_COLUMN"]

CLUSTER_COLUMN = CLUSTER.name


@dataclass
class ResampleReport(Report):
    """Rows per cluster before and after, what was dropped as invalid, junk shares and copies.

    ``junk_before`` / ``junk_after``: ``{"junk": rows of any kind, "unknown": ..., "short":
    ..., "boilerplate": ...}`` among the usable input rows and the output rows (a repeated
    row counted once per copy), for the kinds that could be checked (``junk_kinds``);
    ``junk_rule`` says whether junk was kept from being up-weighted (the shares are
    measured either way). ``max_copies`` is the cap on copies of one row,
    ``max_copies_used`` the most copies of one row in the output.
    """

    size: int
    mode: str
    before: dict[str, int]
    after: dict[str, int]
    invalid_dropped: int
    reference: dict[str, float] | None = None
    junk_rule: bool = False
    junk_kinds: tuple[str, ...] = ()
    junk_before: dict[str, int] = field(default_factory=dict)
    junk_after: dict[str, int] = field(default_factory=dict)
    max_copies: int = 1
    max_copies_used: int = 0

    @property
    def junk_share_before(self) -> float:
        """Share of the usable input rows that are junk (of any kind)."""
        return _share(self.junk_before.get("junk", 0), sum(self.before.values()))

    @property
    def junk_share_after(self) -> float:
        """Share of the output rows that are junk (of any kind)."""
        return _share(self.junk_after.get("junk", 0), sum(self.after.values()))

    def to_dict(self) -> dict[str, Any]:
        from .metrics import coverage_entropy
        rows_before, rows_after = sum(self.before.values()), sum(self.after.values())
        return {"size": self.size, "mode": self.mode, "rows_before": rows_before,
                "rows_after": rows_after, "invalid_dropped": self.invalid_dropped,
                "clusters": len(self.before), "clusters_kept": sum(1 for v in self.after.values() if v),
                "coverage_entropy_before": round(coverage_entropy(list(self.before.values())), 4),
                "coverage_entropy_after": round(coverage_entropy(list(self.after.values())), 4),
                "junk_rule": self.junk_rule, "junk_kinds": list(self.junk_kinds),
                "junk_share_before": round(self.junk_share_before, 6),
                "junk_share_after": round(self.junk_share_after, 6),
                "junk_kind_share_before": {k: round(_share(self.junk_before.get(k, 0), rows_before), 6)
                                           for k in self.junk_kinds},
                "junk_kind_share_after": {k: round(_share(self.junk_after.get(k, 0), rows_after), 6)
                                          for k in self.junk_kinds},
                "junk_rows_before": self.junk_before, "junk_rows_after": self.junk_after,
                "max_copies": self.max_copies, "max_copies_used": self.max_copies_used,
                "before": self.before, "after": self.after, "reference_share": self.reference}

    def summary_lines(self) -> list[str]:
        d = self.to_dict()
        lines = [f"resample ({self.mode}): {d['rows_before']} -> {d['rows_after']} rows, "
                 f"{d['clusters_kept']}/{d['clusters']} clusters kept, coverage entropy "
                 f"{d['coverage_entropy_before']:.3f} -> {d['coverage_entropy_after']:.3f}, "
                 f"invalid rows dropped: {self.invalid_dropped}"]
        if self.junk_kinds:
            kinds = ", ".join(f"{k} {d['junk_kind_share_before'][k]:.1%} -> {d['junk_kind_share_after'][k]:.1%}"
                              for k in self.junk_kinds)
            lines.append(f"junk ({'not up-weighted' if self.junk_rule else 'rule off'}): "
                         f"{self.junk_share_before:.1%} -> {self.junk_share_after:.1%} of rows ({kinds})")
        lines.append(f"copies of one row: at most {self.max_copies_used} (cap {self.max_copies})")
        return lines


def _share(part: int, whole: int) -> float:
    return float(part) / whole if whole else 0.0


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
    max_copies:
        The most copies of one row in the result. ``1`` means no repetition; with ``k > 1``
        a cluster whose share exceeds its rows repeats them (each at most ``k`` times), and
        ``size`` may reach ``k`` times the usable rows. Default ``None``: taken from the
        older ``replace``/``max_repeats`` (``max_repeats`` if ``replace`` else 1, i.e. 1
        by default).
    replace, max_repeats:
        The older spelling of ``max_copies``: ``replace=True`` allows ``max_repeats``
        copies (default 4). Still accepted; ``replace=True, max_repeats=k`` is
        ``max_copies=k``. Passing ``max_copies`` with a different ``max_repeats``, or
        ``max_copies=1`` with ``replace=True``, is an error.
    junk:
        Never up-weight junk rows (see :mod:`synthfilter.diversity.junk`): within each
        stratum they get at most their proportional share of the budget, and more only
        when the other rows cannot fill it; they are never repeated beyond that share.
        Default ``None``: on when clustering, off with ``by`` (categories the caller
        chose). ``False`` restores the plain balancing; the report measures junk shares
        either way.
    min_words:
        Rows of ``text_column`` with fewer words are junk (``short``). Default 5; 0 turns
        the kind off.
    boilerplate_min_repeats:
        Rows whose normalised text (lower case, digits and punctuation collapsed) occurs
        in at least this many rows are junk (``boilerplate``). Default 3; 0 turns the
        kind off (1 is not allowed: every row would be junk).
    label_column:
        Rows whose label is ``"unknown"`` are junk (``unknown``). Default ``"sf_label"``;
        ``None`` or a missing column turns the kind off.
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
    max_repeats: int | None = None
    max_copies: int | None = None
    junk: bool | None = None
    min_words: int = 5
    boilerplate_min_repeats: int = 3
    label_column: str | None = "sf_label"
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
        for name in ("max_repeats", "max_copies"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.max_copies is not None:
            if self.max_repeats is not None and self.max_repeats != self.max_copies:
                raise ValueError(f"max_repeats={self.max_repeats} and max_copies={self.max_copies}: max_repeats is "
                                 "the older name of max_copies; pass one")
            if self.replace and self.max_copies == 1:
                raise ValueError("replace=True asks for repeated rows but max_copies=1 forbids them")
        if isinstance(self.min_words, bool) or not isinstance(self.min_words, (int, np.integer)) or self.min_words < 0:
            raise ValueError(f"min_words must be an integer >= 0 (0: off), got {self.min_words!r}")
        b = self.boilerplate_min_repeats
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 0 or b == 1:
            raise ValueError(f"boilerplate_min_repeats must be 0 (off) or an integer >= 2, got {b!r}")
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
    def copies(self) -> int:
        """The most copies of one row: ``max_copies``, else ``max_repeats`` (4 if unset) with ``replace``, else 1."""
        if self.max_copies is not None:
            return int(self.max_copies)
        return int(self.max_repeats if self.max_repeats is not None else 4) if self.replace else 1

    @property
    def repeats(self) -> int:
        """Alias of :attr:`copies` (times a row may be drawn; 1 without replacement)."""
        return self.copies

    @property
    def junk_rule(self) -> bool:
        """Whether junk is kept from being up-weighted (``junk``, default: only when clustering)."""
        return self.by is None if self.junk is None else bool(self.junk)


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
    return _Clusters(leaves, dist, hashes, usable, n_leaf, hierarchy=hierarchy, weights=weights, n_invalid=n_invalid)


def _choose(c: _Clusters, size: int, cfg: ResampleConfig, strata: Sequence | None,
            stratum_sizes: Mapping[Any, int] | None, n_rows: int) -> np.ndarray:
    """Rows drawn: the budget water-filled over the clusters, per stratum; positions in order.

    Every row has a cap on its copies (``cfg.copies``). With the junk rule, junk rows first
    get only their proportional share (:func:`_junk_caps`); the clusters are water-filled
    over those caps, and only if that cannot fill the budget do junk rows get the rest of
    their copies, in a second water-filling.
    """
    # ties between clusters by a hash of the cluster, or of the category's value (its index follows row order)
    tie = hash_keys(np.arange(c.n_leaf, dtype=np.int64), cfg.seed) if c.names is None else hash_keys(c.names, cfg.seed)
    rank = c.hashes.astype(np.float64) if cfg.within == "hash" else c.dist.astype(np.float64)
    junk = c.junk.mask if (cfg.junk_rule and c.junk is not None and c.junk.kinds) else None
    copies = cfg.copies

    def allocate(capacity: np.ndarray, budget: int) -> np.ndarray:
        if c.hierarchy is not None and c.hierarchy.parents:
            return _allocate_hierarchy(c.hierarchy, capacity, budget, c.weights, tie)
        return water_fill(capacity, budget, c.weights, tie)

    picks = []
    for name, members, budget in _strata_budgets(c.usable, size, strata, stratum_sizes, n_rows):
        # members grouped by leaf, in rank order inside each leaf
        members = _rank_order(members, rank, c.hashes)
        members = members[np.argsort(c.leaves[members], kind="stable")]
        bounds = np.searchsorted(c.leaves[members], np.arange(c.n_leaf + 1))
        caps = np.full(len(members), copies, dtype=np.int64)
        extra = np.zeros(len(members), dtype=np.int64)
        if junk is not None and junk[members].any():
            is_junk = junk[members]
            caps[is_junk] = _junk_caps(members, is_junk, bounds, budget, copies, tie)
            extra[is_junk] = copies - caps[is_junk]
        leaf_of = c.leaves[members]
        alloc = allocate(np.bincount(leaf_of, weights=caps, minlength=c.n_leaf).astype(np.int64), budget)
        more = np.zeros(c.n_leaf, dtype=np.int64)
        if int(alloc.sum()) < budget and extra.any():
            # the other rows cannot fill the budget: junk rows get the rest of their copies
            more = allocate(np.bincount(leaf_of, weights=extra, minlength=c.n_leaf).astype(np.int64),
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
