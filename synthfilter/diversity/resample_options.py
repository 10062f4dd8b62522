"""The options and the report of :func:`~synthfilter.diversity.resample.resample_tails`.

:class:`ResampleConfig` is the one source of its options (checked on construction);
:class:`ResampleReport` is what it returns beside the rows: rows per cluster before and
after, invalid rows, junk shares and copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..columns import EMBEDDING
from ..reports import Report

__all__ = ["ResampleConfig", "ResampleReport"]


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
        How rows are chosen inside a cluster: ``"isolation"`` (default: the budget is
        water-filled over the top-level clusters, and inside each the most atypical rows
        come first, by :func:`~synthfilter.diversity.isolation.isolation_scores`, ties by
        seeded hash; with ``reference`` or ``by`` the budget still goes down to the leaves
        or categories), ``"hash"`` (down to the leaves, then smallest seeded hash: an
        unbiased sample of each leaf) or ``"centroid"`` (down to the leaves, closest to the
        centroid first). On real text with planted rare topics ``"isolation"`` keeps 2.2-3.1
        times their share where ``"hash"`` keeps 1.4-1.6 times (``benchmarks/resample_topics.py``).
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

    embedding_column: str = EMBEDDING.name
    feature_columns: tuple[str, ...] | None = None
    by: str | None = None
    alpha: float = 0.0
    target: Mapping[Any, float] | None = None
    n_clusters: tuple[int, ...] | int | None = None
    within: Literal["isolation", "hash", "centroid"] = "isolation"
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
        if self.within not in ("isolation", "hash", "centroid"):
            raise ValueError(f"within must be 'isolation', 'hash' or 'centroid', got {self.within!r}")
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
