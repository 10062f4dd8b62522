"""The quota on the estimated true share (``basis="estimated"``): a per-group score cut.

Within each group the rows most likely to be synthetic go first: scored rows are kept
while their score is below the group's cut, chosen as the largest prefix (in score
order) whose estimated synthetic share, top of its ``confidence`` interval, is at
most the target (:func:`~synthfilter.quota.estimate_cut.largest_kept_prefix`). Rows whose
class is known without a score (provenance) are kept when human; known-synthetic rows
(and unknown rows under ``unknown="synthetic"``) go before any scored row and are kept,
by smallest ``(hash, position)``, only as far as room is left once every scored row
is kept. Unknown rows are kept (``unknown="human"``, excluded from the estimate) or
dropped (``"drop"``). The keep decision is a pure function of a row's group, class,
score, hash and position and the plan, so every engine keeps the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .classify import classify
from .config import CLASS_NAMES, HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig
from .estimate import ScoreBins, ShareEstimate, estimate_scores
from .estimate_cut import largest_kept_prefix
from .reference import group_part
from .report import QuotaReport, report_from_strata

__all__ = ["estimated_classes", "EstimatedPlan", "make_estimated_plan", "keys_table", "keys_from_tables"]

_ALL = (1 << 64, 1 << 62)  # a (hash, position) above every row's


def estimated_classes(table: pa.Table, cfg: QuotaConfig) -> tuple[np.ndarray, np.ndarray]:
    """Class per row (as labelled, or by provenance) and the score used for estimation (NaN if none)."""
    if cfg.score_column not in table.column_names:
        raise KeyError(f"score column {cfg.score_column!r} not found (columns present: {table.column_names}); "
                       "basis='estimated' needs detector scores: run ds.map(synthfilter.tag, batched=True) first")
    scores = pc.fill_null(table.column(cfg.score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False).copy()
    if cfg.label_column in table.column_names or cfg.provenance is not None:
        if cfg.label_column in table.column_names:
            classes = classify(table, cfg)
        else:
            classes = np.where(np.isfinite(scores), HUMAN, UNKNOWN).astype(np.int8)
            decision = cfg.provenance.decide(table)
            classes[decision.decided] = decision.classes[decision.decided]
        if cfg.provenance is not None:
            scores[cfg.provenance.decide(table).decided] = np.nan  # known provenance is not estimated
    else:
        classes = np.where(np.isfinite(scores), HUMAN, UNKNOWN).astype(np.int8)
    scores[classes == UNKNOWN] = np.nan
    return classes, scores


@dataclass
class EstimatedPlan:
    """Per group: the score cut for scored rows and the ``(hash, position)`` cut for known-synthetic rows."""

    cfg: QuotaConfig
    counts: dict[tuple[Any, int], int]
    kept: dict[tuple[Any, int], int]
    edges: dict[Any, float]
    synthetic_cuts: dict[Any, tuple[int, int]]
    before: dict[Any, ShareEstimate] = field(default_factory=dict)
    after: dict[Any, ShareEstimate] = field(default_factory=dict)

    needs_boundary = False

    def keep(self, keys: Any) -> np.ndarray:
        """Boolean keep mask of a batch's :class:`~synthfilter.quota.plan.RowKeys`."""
        mask = np.zeros(len(keys.hashes), dtype=bool)
        scored = np.isfinite(keys.scores)
        surely_synthetic = ~scored & ((keys.classes == SYNTHETIC) | ((keys.classes == UNKNOWN) & (self.cfg.unknown == "synthetic")))
        for code in np.unique(keys.groups):
            group = keys.names[int(code)]
            g = keys.groups == code
            mask |= g & scored & (keys.scores < self.edges.get(group, math.inf))
            mask |= g & ~scored & (keys.classes == HUMAN)
            if self.cfg.unknown == "human":
                mask |= g & ~scored & (keys.classes == UNKNOWN)
            h, p = self.synthetic_cuts.get(group, (-1, -1))
            s = g & surely_synthetic
            if h == _ALL[0]:
                mask |= s
            elif h >= 0:
                cut = np.uint64(h)
                mask |= s & ((keys.hashes < cut) | ((keys.hashes == cut) & (keys.positions <= p)))
        return mask

    def report(self) -> QuotaReport:
        """The :class:`QuotaReport`, with the estimated share before and after beside the label counts."""
        report = report_from_strata(self.cfg, self.counts, self.kept)
        report.basis = "estimated"
        lost = {k: sum(b[k] for b in report.before.values()) - sum(a[k] for a in report.after.values())
                for k in CLASS_NAMES}
        report.dropped = {k: v for k, v in (("likely-synthetic", lost["human"] + lost["synthetic"]),
                                            ("unknown", lost["unknown"])) if v}
        report.estimate_before, report.estimate_after = _overall(self.before), _overall(self.after)
        if self.cfg.by is not None:
            report.estimate_before.by = {str(g): e for g, e in self.before.items()}
            report.estimate_after.by = {str(g): e for g, e in self.after.items()}
        return report


def _overall(per_group: dict[Any, ShareEstimate]) -> ShareEstimate:
    """One group's estimate as is; several groups' combined by their row counts (intervals added conservatively)."""
    if len(per_group) == 1:
        return next(iter(per_group.values()))
    parts = list(per_group.values())
    total = sum(e.rows + e.known_human + e.known_synthetic for e in parts)

    def weighted(attr: str) -> float:
        vals = [(getattr(e, attr), e.rows + e.known_human + e.known_synthetic) for e in parts]
        return float(sum(v * w for v, w in vals if not math.isnan(v)) / total) if total else math.nan

    labelled = [(e.naive, e.rows + e.known_human + e.known_synthetic) for e in parts if not math.isnan(e.naive)]
    naive = sum(v * w for v, w in labelled) / max(sum(w for _, w in labelled), 1) if labelled else math.nan
    return ShareEstimate(weighted("share"), weighted("low"), weighted("high"), naive, parts[0].confidence, parts[0].method,
                         sum(e.rows for e in parts), sum(e.unknown for e in parts), parts[0].reference_rows,
                         parts[0].ai_reference_rows, known_human=sum(e.known_human for e in parts),
                         known_synthetic=sum(e.known_synthetic for e in parts))


def _part(ref: tuple[np.ndarray, np.ndarray | None] | None, group: Any) -> np.ndarray | None:
    return None if ref is None else group_part(*ref, group)


def make_estimated_plan(keys: Any, cfg: QuotaConfig, human: tuple[np.ndarray, np.ndarray | None],
                        ai: tuple[np.ndarray, np.ndarray | None] | None = None, n_boot: int = 200) -> EstimatedPlan:
    """The plan from every row's :class:`~synthfilter.quota.plan.RowKeys` (concatenated) and the reference scores.

    ``human`` and ``ai`` are ``(scores, groups or None)`` as
    :func:`~synthfilter.quota.reference.reference_scores` returns them.
    """
    target = float(cfg.max_synthetic)
    counts: dict[tuple[Any, int], int] = {}
    kept: dict[tuple[Any, int], int] = {}
    edges: dict[Any, float] = {}
    cuts: dict[Any, tuple[int, int]] = {}
    before: dict[Any, ShareEstimate] = {}
    after: dict[Any, ShareEstimate] = {}
    scored_all = np.isfinite(keys.scores)
    for code in np.unique(keys.groups):
        group = keys.names[int(code)]
        g = keys.groups == code
        cls, scores, scored = keys.classes[g], keys.scores[g], scored_all[g]
        for c in (HUMAN, SYNTHETIC, UNKNOWN):
            if (cls == c).any():
                counts[(group, c)] = int((cls == c).sum())
        h_ref, a_ref = _part(human, group), _part(ai, group)
        known_h = int((~scored & (cls == HUMAN)).sum())
        unknown = ~scored & (cls == UNKNOWN)
        surely_syn = ~scored & ((cls == SYNTHETIC) | (unknown & (cfg.unknown == "synthetic")))
        kept_unknown_h = int(unknown.sum()) if cfg.unknown == "human" else 0
        labelled = scored | (cls != UNKNOWN)
        naive = float((cls[labelled] == SYNTHETIC).mean()) if labelled.any() else math.nan
        options = dict(confidence=cfg.confidence, seed=cfg.seed, method=cfg.method, n_boot=n_boot)
        before[group] = estimate_scores(scores[scored], h_ref, a_ref, naive=naive, unknown=int(unknown.sum()),
                                        **options).with_known(known_h, int(surely_syn.sum()))
        method = before[group].method
        if scored.any():
            bins = ScoreBins.of(scores[scored], h_ref, a_ref)
            b, (share, low, high) = largest_kept_prefix(bins, target, confidence=cfg.confidence, seed=cfg.seed,
                                                        method=method, n_boot=n_boot, known_human=known_h)
            all_scored = int(bins.corpus[:b].sum()) == int(scored.sum())
            edges[group] = math.inf if all_scored else bins.upper_edge(b)
        else:
            share = low = high = 0.0
            edges[group], all_scored = math.inf, True
        keep_scored = scored & (scores < edges[group])
        n_scored = int(keep_scored.sum())
        room = 0
        if all_scored:  # known-synthetic rows fit while the top of the interval stays within the target
            room = math.floor((target * (known_h + n_scored) - high * n_scored) / (1 - target) + 1e-9)
        sel = np.flatnonzero(surely_syn)
        if room >= len(sel):
            cuts[group] = _ALL
        elif room > 0:
            order = sorted(zip(keys.hashes[g][sel].tolist(), keys.positions[g][sel].tolist()))
            cuts[group] = order[room - 1]
        else:
            cuts[group] = (-1, -1)
        n_syn_kept = min(max(room, 0), len(sel))
        est = ShareEstimate(share, low, high, math.nan, cfg.confidence, method, n_scored, 0 if cfg.unknown == "drop" else kept_unknown_h,
                            before[group].reference_rows, before[group].ai_reference_rows)
        kept_labels = cls[keep_scored]
        after_naive_rows = n_scored + known_h + n_syn_kept
        est.naive = float(((kept_labels == SYNTHETIC).sum() + n_syn_kept) / after_naive_rows) if after_naive_rows else math.nan
        after[group] = est.with_known(known_h, n_syn_kept)
        for c in (HUMAN, SYNTHETIC, UNKNOWN):
            kept_c = int((keep_scored & (cls == c)).sum())
            if c == HUMAN:
                kept_c += known_h
            if c == UNKNOWN and cfg.unknown == "human":
                kept_c += kept_unknown_h
            if c == SYNTHETIC:
                kept_c += min(n_syn_kept, int((~scored & (cls == SYNTHETIC)).sum()))
            if c == UNKNOWN and cfg.unknown == "synthetic":
                kept_c += max(0, n_syn_kept - int((~scored & (cls == SYNTHETIC)).sum()))
            if (group, c) in counts:
                kept[(group, c)] = kept_c
    return EstimatedPlan(cfg, counts, kept, edges, cuts, before, after)


def keys_table(keys: Any) -> pa.Table:
    """A batch's keys as an Arrow table (group values by ``repr``), for an engine to ship to the driver."""
    names = [keys.names[int(c)] for c in keys.groups]
    return pa.table({"group": pa.array([repr(n) for n in names], pa.string()),
                     "group_value": pa.array(names) if len(names) else pa.array([], pa.null()),
                     "cls": pa.array(keys.classes, pa.int8()), "score": pa.array(keys.scores, pa.float64()),
                     "hash": pa.array(keys.hashes, pa.uint64()), "row": pa.array(keys.positions, pa.int64())})


def keys_from_tables(tables: Iterable[pa.Table]) -> Any:
    """:func:`keys_table` outputs merged back into one :class:`~synthfilter.quota.plan.RowKeys`."""
    from .plan import RowKeys

    tables = [t for t in tables if t.num_rows]
    if not tables:
        z = np.zeros(0, np.int64)
        return RowKeys(z, [None], z.astype(np.int8), z.astype(np.uint64), z, z.astype(np.float64))
    reprs = [r for t in tables for r in t.column("group").to_pylist()]
    values = [v for t in tables for v in t.column("group_value").to_pylist()]
    index: dict[str, int] = {}
    names: list = []
    for r, v in zip(reprs, values):
        if r not in index:
            index[r] = len(names)
            names.append(v)
    cat = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    return RowKeys(np.asarray([index[r] for r in reprs], dtype=np.int64), names,
                   cat.column("cls").to_numpy().astype(np.int8), cat.column("hash").to_numpy().astype(np.uint64),
                   cat.column("row").to_numpy().astype(np.int64), cat.column("score").to_numpy(zero_copy_only=False))
