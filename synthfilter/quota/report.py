"""What a quota did: :class:`QuotaReport`, from per-group class counts before and after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..reports import Report
from .config import CLASS_NAMES, QuotaConfig

__all__ = ["QuotaReport", "make_report", "counts_by_group", "report_from_strata"]


@dataclass
class QuotaReport(Report):
    """Target vs realised mix, overall and per group, and rows dropped per reason."""

    target: float
    mode: str
    by: str | None
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]
    dropped: dict[str, int]
    unknown_as: str = "human"
    basis: str = "labels"
    estimate_before: Any = None
    """:class:`~synthfilter.quota.estimate.ShareEstimate` of the input (when a reference was given)."""
    estimate_after: Any = None
    """:class:`~synthfilter.quota.estimate.ShareEstimate` of the output (when a reference was given); on the
    estimated basis, the certified share of the kept rows (measured on the half that did not choose the cut)."""
    certification: Any = None
    """On the estimated basis, per ``str(group)``: the score cut (scored rows below it were kept), the certified
    share of the kept scored rows with its interval, the bound the output was held to, and every cut tested."""
    notes: list = field(default_factory=list)
    """What the reader must know about these figures (e.g. that labels understate the share on unseen sources)."""

    def _share(self, c: dict[str, int]) -> float:
        """Synthetic share with unknown rows counted as ``unknown_as`` says."""
        total = c.get("human", 0) + c.get("synthetic", 0) + c.get("unknown", 0)
        synthetic = c.get("synthetic", 0) + (c.get("unknown", 0) if self.unknown_as == "synthetic" else 0)
        return synthetic / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        groups = {g: {"before": self.before[g], "after": self.after.get(g, {}),
                      "share_before": round(self._share(self.before[g]), 6),
                      "share_after": round(self._share(self.after.get(g, {})), 6)} for g in self.before}
        return {"target_max_synthetic": self.target, "mode": self.mode, "by": self.by, "unknown_as": self.unknown_as,
                "rows_before": sum(sum(c.values()) for c in self.before.values()),
                "rows_after": sum(sum(c.values()) for c in self.after.values()),
                "realised_share": round(self._share(_total(self.after)), 6),
                "dropped": self.dropped, "groups": groups, "basis": self.basis,
                "estimated_share_before": None if self.estimate_before is None else self.estimate_before.to_dict(),
                "estimated_share_after": None if self.estimate_after is None else self.estimate_after.to_dict(),
                "certification": self.certification, "notes": list(self.notes)}

    def summary_lines(self) -> list[str]:
        d = self.to_dict()
        on = "estimated true share (top of its interval)" if self.basis == "estimated" else "labelled share"
        lines = [f"quota ({self.mode}) target {on} <= {self.target}: "
                 f"{d['rows_before']} -> {d['rows_after']} rows, realised share {d['realised_share']:.4f} (by labels)",
                 "dropped: " + (", ".join(f"{k}={v}" for k, v in self.dropped.items()) or "nothing")]
        if self.estimate_before is not None:
            lines.append(f"before: {self.estimate_before.describe()}")
            after = self.estimate_after.describe()
            if self.basis == "estimated":
                after += (f" (measured on the half of the rows that did not choose the cut; the output is held to "
                          f"<= {self.target:g} at the top of the {self.estimate_after.confidence:.0%} interval)")
            lines.append(f"after:  {after}")
        elif not self.notes:
            lines.append("true share not estimated (no reference: pass a known-human reference to see it)")
        lines += [f"note: {n}" for n in self.notes]
        if self.by:
            lines.append(f"{'group':<20} {'before':>9} {'after':>9} {'share before':>12} {'share after':>11}")
            for g, x in d["groups"].items():
                lines.append(f"{str(g):<20} {sum(x['before'].values()):>9} {sum(x['after'].values()):>9} "
                             f"{x['share_before']:>12.4f} {x['share_after']:>11.4f}")
        return lines


def _total(per_group: dict[str, dict[str, int]]) -> dict[str, int]:
    out = {"human": 0, "synthetic": 0, "unknown": 0}
    for c in per_group.values():
        for k, v in c.items():
            out[k] += v
    return out


def counts_by_group(groups, names, classes, mask=None) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    g = groups if mask is None else groups[mask]
    c = classes if mask is None else classes[mask]
    codes, n = np.unique(g * 3 + c, return_counts=True)
    for code, count in zip(codes, n):
        name = "all" if names[int(code) // 3] is None else str(names[int(code) // 3])
        out.setdefault(name, {"human": 0, "synthetic": 0, "unknown": 0})[CLASS_NAMES[int(code) % 3]] = int(count)
    return out


def make_report(cfg: QuotaConfig, before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> QuotaReport:
    """The report from per-group class counts before and after: what went, per reason."""
    for g in before:
        after.setdefault(g, {"human": 0, "synthetic": 0, "unknown": 0})
    tb, ta = _total(before), _total(after)
    unknown_reason = {"human": "surplus-human", "synthetic": "surplus-synthetic", "drop": "unknown"}[cfg.unknown]
    dropped = {"surplus-synthetic": tb["synthetic"] - ta["synthetic"], "surplus-human": tb["human"] - ta["human"]}
    dropped[unknown_reason] = dropped.get(unknown_reason, 0) + tb["unknown"] - ta["unknown"]
    return QuotaReport(float(cfg.max_synthetic), cfg.mode, cfg.by, before, after,
                       {k: v for k, v in dropped.items() if v}, cfg.unknown)


def report_from_strata(cfg: QuotaConfig, counts: dict[tuple[Any, int], int],
                       kept: dict[tuple[Any, int], int]) -> QuotaReport:
    """The report from rows per ``(group, class code)`` before (``counts``) and after (``kept``)."""
    before: dict[str, dict[str, int]] = {}
    after: dict[str, dict[str, int]] = {}
    for (group, cls), n in counts.items():
        name = "all" if cfg.by is None else str(group)
        before.setdefault(name, dict.fromkeys(CLASS_NAMES, 0))[CLASS_NAMES[cls]] = n
        after.setdefault(name, dict.fromkeys(CLASS_NAMES, 0))[CLASS_NAMES[cls]] = min(n, kept.get((group, cls), 0))
    return make_report(cfg, before, after)
