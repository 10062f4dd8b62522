"""Sampling under a quota: how many rows of each group and class a sample of a given size keeps."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..hashing import hash_keys
from .config import HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig

__all__ = ["plan_sample"]


def plan_sample(counts: dict[tuple[Any, int], int], size: int, cfg: QuotaConfig) -> dict[tuple[Any, int], int]:
    """Rows to draw per (group, class) so a sample of ``size`` rows still meets the quota.

    ``counts`` are rows per (group, class) of data that already meets it (the output of
    :func:`enforce_quota` in ``"cap"`` mode). Groups keep their shares (largest
    remainder, ties by the hash of the group); inside a group the synthetic rows keep
    their share but never more than ``floor(max_synthetic * group size)``. Raises
    ``ValueError`` when fewer than ``size`` rows are available.
    """
    counted = (HUMAN, SYNTHETIC) if cfg.unknown == "drop" else (HUMAN, SYNTHETIC, UNKNOWN)
    groups = sorted({g for g, _ in counts}, key=repr)
    n_group = [sum(counts.get((g, c), 0) for c in counted) for g in groups]
    total = sum(n_group)
    if size > total:
        raise ValueError(f"size: {size} rows asked for but only {total} are available")
    exact = [Fraction(size * int(n), total) if total else Fraction(0) for n in n_group]
    take = [math.floor(x) for x in exact]
    order = sorted(range(len(groups)), key=lambda i: (-(exact[i] - take[i]), hash_keys([repr(groups[i])], cfg.seed)[0]))
    for i in order[:size - sum(take)]:
        take[i] += 1
    unk_as = {"human": HUMAN, "synthetic": SYNTHETIC, "drop": None}[cfg.unknown]
    plan: dict[tuple[Any, int], int] = {}
    for g, r in zip(groups, take):
        n = {c: counts.get((g, c), 0) for c in (HUMAN, SYNTHETIC, UNKNOWN)}
        n_s = n[SYNTHETIC] + (n[UNKNOWN] if unk_as == SYNTHETIC else 0)
        n_h = n[HUMAN] + (n[UNKNOWN] if unk_as == HUMAN else 0)
        n_all = n_h + n_s
        s = min(math.floor(cfg.share * r), (r * n_s) // n_all if n_all else 0)
        s = max(s, r - n_h)  # never more human rows than there are
        if s > min(n_s, math.floor(cfg.share * r)) or r > n_all:
            where = f" in group {g!r}" if cfg.by else ""
            raise ValueError(f"size: {r} rows{where} cannot keep a synthetic share <= {cfg.max_synthetic} "
                             f"({n_h} human, {n_s} synthetic available)")
        h = r - s
        for budget, main, cls_as in ((h, HUMAN, HUMAN), (s, SYNTHETIC, SYNTHETIC)):
            extra = n[UNKNOWN] if unk_as == cls_as else 0
            pool = n[main] + extra
            from_unknown = (budget * extra) // pool if pool else 0
            plan[(g, main)] = budget - from_unknown
            if extra:
                plan[(g, UNKNOWN)] = from_unknown
        plan.setdefault((g, UNKNOWN), 0)
    return plan
