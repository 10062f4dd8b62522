"""The quota on the estimated true share (``basis="estimated"``): a per-group score cut, certified.

Within each group the rows most likely to be synthetic go first: scored rows whose class
is not known are kept while their score is below the group's cut, chosen on one half of
the rows and certified on the other (:func:`~synthfilter.quota.certify.certify_cut`) so
that the top of the certified ``confidence`` interval of the output's synthetic share is
at most the target. The reference is the user's (``reference=``) or, without one, the
group's own rows known human by provenance (scored like the rest). It is checked first
(:func:`~synthfilter.quota.reference_check.check_reference`): a reference too small, or
whose humans score higher than the corpus's, is refused with
:class:`~synthfilter.quota.reference_check.UnfitReference`.

Rows whose class is known (provenance) are kept when human; known-synthetic rows (and
unknown rows under ``unknown="synthetic"``) go before any scored row and are kept, by
smallest ``(hash, position)``, only as far as room is left once every scored row is kept.
Unknown rows are kept (``unknown="human"``, excluded from the estimate) or dropped
(``"drop"``). The keep decision is a pure function of a row's group, class, score, hash
and position and the plan, so every engine keeps the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .certify import CutDecision, certify_cut, split_bins
from .config import CLASS_NAMES, HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig
from .estimate import ShareEstimate, combined, estimate_scores
from .keys import RowKeys
from .reference import Reference, own_reference
from .reference_check import UnfitReference
from .report import QuotaReport, report_from_strata

__all__ = ["EstimatedPlan", "make_estimated_plan"]

_ALL = (1 << 64, 1 << 62)  # a (hash, position) above every row's


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
    decisions: dict[Any, CutDecision] = field(default_factory=dict)

    needs_boundary = False

    def keep(self, keys: RowKeys) -> np.ndarray:
        """Boolean keep mask of a batch's :class:`~synthfilter.quota.keys.RowKeys`."""
        mask = np.zeros(len(keys.hashes), dtype=bool)
        known = keys.known if keys.known is not None else np.zeros(len(mask), bool)
        scored = np.isfinite(keys.scores) & ~known
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
        """The :class:`QuotaReport`, with the estimated share before and the certified share after."""
        report = report_from_strata(self.cfg, self.counts, self.kept)
        report.basis = "estimated"
        lost = {k: sum(b[k] for b in report.before.values()) - sum(a[k] for a in report.after.values())
                for k in CLASS_NAMES}
        report.dropped = {k: v for k, v in (("likely-synthetic", lost["human"] + lost["synthetic"]),
                                            ("unknown", lost["unknown"])) if v}
        report.estimate_before, report.estimate_after = combined(self.before), combined(self.after)
        report.certification = {str(g): {"edge": d.edge, "share": round(d.share, 6), "low": round(d.low, 6),
                                         "high": round(d.high, 6), "bound": round(d.bound, 6), "ladder": d.ladder}
                                for g, d in self.decisions.items()}
        if self.cfg.by is not None:
            report.estimate_before.by = {str(g): e for g, e in self.before.items()}
            report.estimate_after.by = {str(g): e for g, e in self.after.items()}
        return report


def _carried(prior: Mapping[str, float], scores: np.ndarray, known_h: int, target: float, cfg: QuotaConfig,
             naive: float, unknown: int, ref: Reference) -> tuple[ShareEstimate, CutDecision]:
    """An earlier pass's certified share of the kept scored rows, carried to these rows (see :func:`make_estimated_plan`)."""
    share, low, high = (float(prior[k]) for k in ("share", "low", "high"))
    carried = ShareEstimate(share, low, high, naive, cfg.confidence, "bbe" if cfg.method == "auto" else cfg.method,
                            len(scores), unknown, len(ref), reference_source=ref.source, basis="certified")
    keep = len(scores)
    if high > target and high * keep > target * (keep + known_h):
        keep = max(0, math.floor(target * known_h / (high - target) + 1e-9))
    ordered = np.sort(scores)
    edge = math.inf if keep >= len(scores) else float(ordered[keep])
    bound = high * keep / (keep + known_h) if keep else 0.0
    return carried, CutDecision(keep, edge, share if keep else 0.0, low if keep else 0.0, high if keep else 0.0, bound,
                                [{"carried_from": "an earlier quota pass", "kept": keep, "high": high, "bound": bound}])


def make_estimated_plan(keys: RowKeys, cfg: QuotaConfig, human: Reference | None, ai: Reference | None = None,
                        n_boot: int = 200, prior: Mapping[str, Mapping[str, float]] | None = None) -> EstimatedPlan:
    """The plan from every row's :class:`~synthfilter.quota.keys.RowKeys` (concatenated) and the references.

    ``human=None`` takes each group's own rows known human by provenance as its reference.
    ``prior`` (an earlier pass's report ``certification``, per ``str(group)``) says the rows
    are what that pass kept, less some it did not choose by class (near-duplicates): its
    certified share of the kept scored rows is carried over, not estimated again (a corpus
    cut at a score no longer looks like the reference), and scored rows go, highest scores
    first, only where fewer known-human rows now dilute it past the target.
    Raises :class:`~synthfilter.quota.reference_check.UnfitReference` (a ``ValueError``)
    when a group with scored rows has no fit reference.
    """
    target = float(cfg.max_synthetic)
    plan = EstimatedPlan(cfg, {}, {}, {}, {})
    known_all = keys.known if keys.known is not None else ~np.isfinite(keys.scores)
    for code in np.unique(keys.groups):
        group = keys.names[int(code)]
        g = keys.groups == code
        cls, scores, known = keys.classes[g], keys.scores[g], known_all[g]
        scored = np.isfinite(scores) & ~known
        for c in (HUMAN, SYNTHETIC, UNKNOWN):
            if (cls == c).any():
                plan.counts[(group, c)] = int((cls == c).sum())
        ref = own_reference(scores, known & (cls == HUMAN), keys.certify_half[g]) if human is None else human.part(group)
        a_ref = None if ai is None else ai.part(group)
        known_h = int((known & (cls == HUMAN)).sum())
        unknown = ~scored & ~known & (cls == UNKNOWN)
        surely_syn = ~scored & ((cls == SYNTHETIC) | (unknown & (cfg.unknown == "synthetic")))
        labelled = cls != UNKNOWN
        naive = float((cls[labelled] == SYNTHETIC).mean()) if labelled.any() else math.nan
        where = f" (group {group!r} of {cfg.by!r})" if cfg.by is not None else ""
        options = dict(confidence=cfg.confidence, seed=cfg.seed, method=cfg.method, n_boot=n_boot,
                       reference_source=ref.source)
        if prior is not None and str(group) in prior:
            before, decision = _carried(prior[str(group)], scores[scored], known_h, target, cfg, naive,
                                        int(unknown.sum()), ref)
        else:
            try:
                before = estimate_scores(scores[scored], ref.scores, None if a_ref is None else a_ref.scores,
                                         naive=naive, unknown=int(unknown.sum()), strict=bool(scored.any()), **options)
            except UnfitReference as err:
                raise UnfitReference(f"{err}{where}") from None
            decision = CutDecision(0, math.inf, 0.0, 0.0, 0.0, 0.0)
            if scored.any():
                full, select, certify = split_bins(scores[scored], keys.certify_half[g][scored], ref.scores,
                                                   ref.halves, None if a_ref is None else a_ref.scores,
                                                   None if a_ref is None else a_ref.halves)
                decision = certify_cut(full, select, certify, target, known_human=known_h, confidence=cfg.confidence,
                                       seed=cfg.seed, method=before.method, n_boot=n_boot)
        plan.before[group] = before.with_known(known_h, int(surely_syn.sum()))
        plan.decisions[group] = decision
        plan.edges[group] = decision.edge
        keep_scored = scored & (scores < decision.edge)
        n_scored = int(keep_scored.sum())
        room = 0
        if n_scored == int(scored.sum()):  # known-synthetic rows fit while the certified top stays within the target
            room = math.floor((target * (known_h + n_scored) - decision.high * n_scored) / (1 - target) + 1e-9)
        sel = np.flatnonzero(surely_syn)
        if room >= len(sel):
            plan.synthetic_cuts[group] = _ALL
        elif room > 0:
            order = sorted(zip(keys.hashes[g][sel].tolist(), keys.positions[g][sel].tolist()))
            plan.synthetic_cuts[group] = order[room - 1]
        else:
            plan.synthetic_cuts[group] = (-1, -1)
        n_syn_kept = min(max(room, 0), len(sel))
        kept_rows = n_scored + known_h + n_syn_kept
        kept_labels = cls[keep_scored]
        after = ShareEstimate(decision.share, decision.low, decision.high,
                              float(((kept_labels == SYNTHETIC).sum() + n_syn_kept) / kept_rows) if kept_rows else math.nan,
                              cfg.confidence, before.method, n_scored, 0 if cfg.unknown == "drop" else int(unknown.sum()),
                              before.reference_rows, before.ai_reference_rows, reference_source=ref.source,
                              check=before.check, basis="certified")
        after = after.with_known(known_h, n_syn_kept)
        after.low, after.high = 0.0, target  # the bound the cut was held to (its own bound is in the certification)
        plan.after[group] = after
        for c in (HUMAN, SYNTHETIC, UNKNOWN):
            kept_c = int((keep_scored & (cls == c)).sum())
            if c == HUMAN:
                kept_c += known_h
            if c == UNKNOWN and cfg.unknown == "human":
                kept_c += int(unknown.sum())
            if c == SYNTHETIC:
                kept_c += min(n_syn_kept, int((known & (cls == SYNTHETIC)).sum()))
            if c == UNKNOWN and cfg.unknown == "synthetic":
                kept_c += max(0, n_syn_kept - int((known & (cls == SYNTHETIC)).sum()))
            if (group, c) in plan.counts:
                plan.kept[(group, c)] = kept_c
    return plan
