"""Policies: how each generation's training set is built, composable with ``+``.

A policy is a *base* that says where the candidate pool comes from, then optional
*steps* that transform it with the library's own functions on real ``datasets.Dataset``
objects:

bases
    ``replace`` (only the last generation's samples), ``accumulate`` (the real data and
    every generation so far), ``accumulate-subsample`` (the same, subsampled by hash to
    the generation size), ``keep-real:F`` (fraction F of the original real data plus
    generated samples), ``fresh-real:F`` (fraction F fresh real samples each generation).
steps
    ``quota:F`` (:func:`synthfilter.enforce_quota` with at most F synthetic, by
    provenance), ``filter`` (a detector fitted each generation on a small known-real
    slice and generated samples drops likely-synthetic rows; ``filter:TPR:FPR`` uses a
    simulated detector with those rates instead), ``tail`` / ``tail:ref``
    (:func:`synthfilter.resample_tails` down to the generation size, ``ref`` anchored to
    the real data's cluster proportions), ``select-likely`` (keep the samples the current
    model finds most likely: a negative control).

A spec that starts with a step uses ``accumulate`` as its base: ``"filter"`` is
``"accumulate+filter"``. When a spec has a step that selects rows, the model generates
twice the generation size so there is something to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Policy", "parse_policy", "BASES", "STEPS"]

BASES = ("replace", "accumulate", "accumulate-subsample", "keep-real", "fresh-real")
STEPS = ("quota", "filter", "tail", "select-likely")
_FRACTION_BASES = ("keep-real", "fresh-real")


def _fraction(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"policy {where!r}: {text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"policy {where!r}: fraction {value} is outside [0, 1]")
    return value


@dataclass(frozen=True)
class Policy:
    """A parsed policy: ``base`` (with ``base_fraction``) and ``steps`` as (name, args)."""

    spec: str
    base: str
    base_fraction: float | None = None
    steps: tuple[tuple[str, tuple[Any, ...]], ...] = field(default_factory=tuple)

    @property
    def selects(self) -> bool:
        return any(name in ("filter", "tail", "select-likely") for name, _ in self.steps)


def parse_policy(spec: str) -> Policy:
    """Parse ``"accumulate+quota:0.1"``-style specs; raises ``ValueError`` naming what is wrong."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"policy must be a non-empty string, got {spec!r}")
    parts = [p.strip() for p in spec.split("+")]
    base, base_fraction = "accumulate", None
    head = parts[0].split(":")
    if head[0] in BASES:
        base = head[0]
        if base in _FRACTION_BASES:
            if len(head) != 2:
                raise ValueError(f"policy {parts[0]!r}: {base} needs a fraction, e.g. {base}:0.1")
            base_fraction = _fraction(head[1], parts[0])
        elif len(head) > 1:
            raise ValueError(f"policy {parts[0]!r}: {base} takes no argument")
        parts = parts[1:]
    steps = []
    for part in parts:
        name, *args = part.split(":")
        if name in BASES:
            raise ValueError(f"policy {spec!r}: base {name!r} must come first")
        if name not in STEPS:
            raise ValueError(f"unknown policy step {name!r} in {spec!r}; bases: {list(BASES)}, steps: {list(STEPS)}")
        if name == "quota":
            if len(args) != 1:
                raise ValueError(f"policy {part!r}: quota needs a share, e.g. quota:0.1")
            value = _fraction(args[0], part)
            if value >= 1.0:
                raise ValueError(f"policy {part!r}: quota share must be below 1")
            steps.append((name, (value,)))
        elif name == "filter":
            if args and len(args) != 2:
                raise ValueError(f"policy {part!r}: filter takes no argument or TPR:FPR, e.g. filter:0.8:0.05")
            steps.append((name, tuple(_fraction(a, part) for a in args)))
        elif name == "tail":
            if args and args != ["ref"]:
                raise ValueError(f"policy {part!r}: tail takes no argument or 'ref'")
            steps.append((name, tuple(args)))
        else:
            if args:
                raise ValueError(f"policy {part!r}: {name} takes no argument")
            steps.append((name, ()))
    return Policy(spec, base, base_fraction, tuple(steps))
