"""The engine-neutral quota: summarise batches -> plan -> keep rows, each a pure function.

Which rows go is decided by ``hash64(seed, row_key)``, never by a random generator:
within every stratum (group x class) the rows with the smallest ``(hash, position)``
are kept. The three functions below are all an engine needs; the ``datasets`` paths
(:mod:`synthfilter.quota.datasets`) and Ray (:mod:`synthfilter.integrations.ray`) are
thin adapters over them, so both keep the same rows.

1. :func:`row_keys` turns an Arrow batch into :class:`RowKeys` (group, class, hash and
   global position per row); :meth:`Summary.of` counts rows and histograms the hash's
   top bits per stratum. Summaries merge by summing, in any order.
2. :func:`make_plan` computes, from the merged :class:`Summary`, how many rows each
   stratum keeps and the hash bucket where its cut falls. When a cut falls inside a
   bucket, one more small pass collects the ``(hash, position)`` pairs of that bucket
   only (:meth:`QuotaPlan.boundary`) and :meth:`QuotaPlan.resolve` fixes the exact cut.
3. :meth:`QuotaPlan.keep` is the per-batch keep mask; :meth:`QuotaPlan.report` the
   :class:`~synthfilter.quota.report.QuotaReport`.

Summaries, boundaries and plans convert to and from Arrow tables and plain dicts, so
an engine can ship them between processes as it likes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from .keys import BUCKET_BITS, RowKeys, row_keys
from .config import HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig
from .report import QuotaReport, report_from_strata

__all__ = ["RowKeys", "Summary", "QuotaPlan", "row_keys", "make_plan", "plan_keep", "BUCKET_BITS"]


# --------------------------------------------------------------------------- pass 1: summaries
@dataclass
class Summary:
    """Mergeable counts: rows per (group, class) and a histogram of the hash's top bits per stratum."""

    counts: dict[tuple[Any, int], int] = field(default_factory=dict)
    histograms: dict[tuple[Any, int], np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, keys: RowKeys) -> "Summary":
        """The summary of one batch."""
        out = cls()
        buckets, strata = keys.buckets, keys.strata
        for code in np.unique(strata):
            mask = strata == code
            key = keys.stratum(code)
            out.counts[key] = int(mask.sum())
            out.histograms[key] = np.bincount(buckets[mask], minlength=1 << BUCKET_BITS).astype(np.int64)
        return out

    def merge(self, other: "Summary") -> "Summary":
        """The sum of two summaries (a new object)."""
        out = Summary(dict(self.counts), {k: v.copy() for k, v in self.histograms.items()})
        for key, n in other.counts.items():
            out.counts[key] = out.counts.get(key, 0) + n
        for key, hist in other.histograms.items():
            out.histograms[key] = out.histograms[key] + hist if key in out.histograms else hist.copy()
        return out

    @classmethod
    def merge_all(cls, parts: Iterable["Summary"]) -> "Summary":
        total = cls()
        for part in parts:
            total = total.merge(part)
        return total

    def to_arrow(self) -> pa.Table:
        """One row per stratum, histograms sparse: what a worker sends back."""
        keys = list(self.counts)
        return pa.table({
            "group": pa.array([repr(k[0]) for k in keys], pa.string()),
            "group_value": pa.array([k[0] for k in keys]) if keys else pa.array([], pa.null()),
            "cls": pa.array([k[1] for k in keys], pa.int8()),
            "count": pa.array([self.counts[k] for k in keys], pa.int64()),
            "buckets": pa.array([np.flatnonzero(self.histograms[k]).astype(np.int32) for k in keys],
                                pa.list_(pa.int32())),
            "bucket_counts": pa.array([self.histograms[k][self.histograms[k] > 0] for k in keys],
                                      pa.list_(pa.int64())),
        })

    @classmethod
    def from_tables(cls, tables: Iterable[pa.Table]) -> "Summary":
        """Merge :meth:`to_arrow` tables."""
        return cls.from_rows(row for t in tables for row in t.to_pylist())

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> "Summary":
        """Merge rows of :meth:`to_arrow` tables (group values matched by their ``repr``)."""
        values: dict[str, Any] = {}
        total = cls()
        for row in rows:
            values.setdefault(row["group"], row["group_value"])
            key = (values[row["group"]], int(row["cls"]))
            hist = np.zeros(1 << BUCKET_BITS, dtype=np.int64)
            hist[np.asarray(row["buckets"], dtype=np.int64)] = np.asarray(row["bucket_counts"], dtype=np.int64)
            total = total.merge(cls({key: int(row["count"])}, {key: hist}))
        return total


# --------------------------------------------------------------------------- the quota arithmetic
def plan_keep(counts: dict[tuple[Any, int], int], cfg: QuotaConfig) -> dict[tuple[Any, int], int]:
    """Rows to keep per (group, class) so every group meets the quota."""
    share = cfg.share
    keep: dict[tuple[Any, int], int] = {}
    for group in sorted({g for g, _ in counts}, key=repr):
        n = {c: counts.get((group, c), 0) for c in (HUMAN, SYNTHETIC, UNKNOWN)}
        unk_as = {"human": HUMAN, "synthetic": SYNTHETIC, "drop": None}[cfg.unknown]
        n_h = n[HUMAN] + (n[UNKNOWN] if unk_as == HUMAN else 0)
        n_s = n[SYNTHETIC] + (n[UNKNOWN] if unk_as == SYNTHETIC else 0)
        if cfg.mode == "cap":
            h = n_h
            s = min(n_s, math.floor(share * n_h / (1 - share)))
        else:
            # largest total T with floor(share*T) <= n_s and T - floor(share*T) <= n_h
            total = min(n_h + n_s, math.floor(n_h / (1 - share)))
            if share > 0:
                total = min(total, math.ceil((n_s + 1) / share) - 1)
            s = math.floor(share * total)
            h = total - s
            if h + s < cfg.min_rows:
                where = f" in group {group!r}" if cfg.by else ""
                raise ValueError(
                    f"min_rows: an exact share of {cfg.max_synthetic} would leave {h + s} rows{where} "
                    f"({n_h} human, {n_s} synthetic available), fewer than min_rows={cfg.min_rows}"
                )
        # split the kept human/synthetic budget back over the original classes
        if unk_as == HUMAN:
            keep[(group, HUMAN)] = min(n[HUMAN], h)
            keep[(group, UNKNOWN)] = h - keep[(group, HUMAN)]
            keep[(group, SYNTHETIC)] = s
        elif unk_as == SYNTHETIC:
            keep[(group, SYNTHETIC)] = min(n[SYNTHETIC], s)
            keep[(group, UNKNOWN)] = s - keep[(group, SYNTHETIC)]
            keep[(group, HUMAN)] = h
        else:
            keep[(group, HUMAN)], keep[(group, SYNTHETIC)], keep[(group, UNKNOWN)] = h, s, 0
    return keep


@dataclass
class QuotaPlan:
    """How many rows each stratum keeps, and where in the hash order its cut falls."""

    cfg: QuotaConfig
    counts: dict[tuple[Any, int], int]
    """Rows per stratum before the quota."""
    keep_counts: dict[tuple[Any, int], int]
    """Rows per stratum after it."""
    cutoffs: dict[tuple[Any, int], tuple[int, int]]
    """Per stratum: (bucket where the cut falls, rows still to take from that bucket)."""
    cuts: dict[tuple[Any, int], tuple[int, int]] = field(default_factory=dict)
    """Per stratum cut inside its boundary bucket: the last kept (hash, position)."""

    @property
    def needs_boundary(self) -> bool:
        """Whether :meth:`boundary` / :meth:`resolve` must run before :meth:`keep`."""
        return any(remaining for _, remaining in self.cutoffs.values()) and not self.cuts

    def boundary(self, keys: RowKeys) -> list[tuple[tuple[Any, int], int, int]]:
        """``(stratum, hash, position)`` of the batch's rows in their stratum's boundary bucket."""
        out = []
        buckets, strata = keys.buckets, keys.strata
        for code in np.unique(strata):
            key = keys.stratum(code)
            bucket, remaining = self.cutoffs[key]
            if remaining:
                m = (strata == code) & (buckets == bucket)
                out += [(key, h, p) for h, p in zip(keys.hashes[m].tolist(), keys.positions[m].tolist())]
        return out

    def boundary_table(self, keys: RowKeys) -> pa.Table:
        """:meth:`boundary` as an Arrow table (group values by their ``repr``), for an engine to ship."""
        rows = self.boundary(keys)
        return pa.table({"group": pa.array([repr(key[0]) for key, _, _ in rows], pa.string()),
                         "cls": pa.array([key[1] for key, _, _ in rows], pa.int8()),
                         "hash": pa.array([h for _, h, _ in rows], pa.uint64()),
                         "row": pa.array([p for _, _, p in rows], pa.int64())})

    def resolve_tables(self, tables: Iterable[pa.Table]) -> "QuotaPlan":
        """:meth:`resolve` from :meth:`boundary_table` outputs."""
        groups = {repr(g): g for g, _ in self.counts}
        return self.resolve(((groups[g], int(c)), int(h), int(r)) for t in tables
                            for g, c, h, r in zip(*(t.column(n).to_pylist() for n in ("group", "cls", "hash", "row"))))

    def resolve(self, boundary: Iterable[tuple[tuple[Any, int], int, int]]) -> "QuotaPlan":
        """The plan with exact cuts, from every batch's :meth:`boundary` rows."""
        pairs: dict[tuple[Any, int], list[tuple[int, int]]] = {}
        for key, h, p in boundary:
            pairs.setdefault(key, []).append((int(h), int(p)))
        cuts = {key: sorted(pairs.get(key, []))[remaining - 1]
                for key, (_, remaining) in self.cutoffs.items() if remaining > 0}
        return QuotaPlan(self.cfg, self.counts, self.keep_counts, self.cutoffs, cuts)

    def keep(self, keys: RowKeys) -> np.ndarray:
        """Boolean keep mask of a batch (a pure function of the batch and the plan)."""
        if self.needs_boundary:
            raise ValueError("the plan needs its boundary pass: call plan.resolve(boundary rows) first")
        buckets, strata = keys.buckets, keys.strata
        mask = np.zeros(len(keys.hashes), dtype=bool)
        for code in np.unique(strata):
            key = keys.stratum(code)
            in_stratum = strata == code
            bucket, _ = self.cutoffs[key]
            mask |= in_stratum & (buckets < bucket)
            cut = self.cuts.get(key)
            if cut is not None:
                edge = in_stratum & (buckets == bucket)
                h, p = keys.hashes[edge], keys.positions[edge]
                mask[np.flatnonzero(edge)[(h < cut[0]) | ((h == cut[0]) & (p <= cut[1]))]] = True
        return mask

    def report(self) -> QuotaReport:
        """Target against realised mix, overall and per group, and rows dropped per reason."""
        return report_from_strata(self.cfg, self.counts, self.keep_counts)

    @property
    def strata(self) -> dict[str, dict[str, int]]:
        """Rows kept per group and class name (``{group: {"human": n, ...}}``), as the report counts them."""
        return self.report().after


def make_plan(summary: Summary, cfg: QuotaConfig) -> QuotaPlan:
    """The plan from the merged summary of every batch."""
    keep = plan_keep(summary.counts, cfg)
    cutoffs = {}
    for key, n in summary.counts.items():
        k = keep.get(key, 0)
        if k >= n:
            cutoffs[key] = (1 << BUCKET_BITS, 0)  # keep all
            continue
        cum = np.cumsum(summary.histograms[key])
        bucket = int(np.searchsorted(cum, k, side="right"))
        before = int(cum[bucket - 1]) if bucket > 0 else 0
        cutoffs[key] = (bucket, k - before)
    return QuotaPlan(cfg, dict(summary.counts), keep, cutoffs)


