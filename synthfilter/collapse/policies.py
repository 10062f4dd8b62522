"""Policies: how each generation's training set is built, composable with ``+``.

A policy is a *base* that says where the candidate pool comes from, then optional
*steps* that transform it with the library's own functions on real ``datasets.Dataset``
objects:

bases
    ``replace`` (only the last generation's samples), ``accumulate`` (the real data and
    every generation so far), ``accumulate-subsample`` (the same, subsampled by hash to
    the generation size), ``keep-real:F`` (fraction F in [0, 1] of the original real data
    plus generated samples), ``fresh-real:F`` (fraction F in [0, 1] fresh real samples each
    generation).
steps
    ``quota:F`` (:func:`synthfilter.enforce_quota` with at most a share F in [0, 1) of
    synthetic rows, by provenance), ``filter`` (a detector fitted each generation on a
    small known-real slice and generated samples drops likely-synthetic rows;
    ``filter:TPR:FPR`` uses a simulated detector with those rates in [0, 1] instead), ``tail`` / ``tail:ref``
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


def _fraction(text: str, where: str, what: str, high_open: bool = False) -> float:
    """Parse ``text`` as ``what`` in [0, 1] (or [0, 1) with ``high_open``); raises ``ValueError`` naming it."""
    expected = "[0, 1)" if high_open else "[0, 1]"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"policy {where!r}: {what} must be a number in {expected}, "
                         f"got {text!r} (not a number)") from None
    if not (0.0 <= value < 1.0 if high_open else 0.0 <= value <= 1.0):  # NaN fails both
        raise ValueError(f"policy {where!r}: {what} must be in {expected}, got {value!r} (outside {expected})")
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

    def real_rows(self, n: int) -> int | None:
        """Real rows in each generation's candidate pool for sample size ``n`` (``None``: varies by generation)."""
        if self.base == "replace":
            return 0
        if self.base in _FRACTION_BASES:
            return int(round(self.base_fraction * n))
        if self.base == "accumulate":
            return n
        return None

    def check_for(self, n: int, min_rows: int, scenario: str = "the") -> "Policy":
        """Reject a policy that leaves fewer than ``min_rows`` training rows whatever the data.

        A ``quota:F`` step keeps at most a share F of synthetic rows, so a pool with R real
        rows keeps at most R / (1 - F) rows in all; with R = 0 (``replace``,
        ``keep-real:0``) it keeps nothing.
        """
        real = self.real_rows(n)
        quotas = [args[0] for name, args in self.steps if name == "quota"]
        if real is None or not quotas:
            return self
        share = min(quotas)
        most = int(np.floor(real / (1.0 - share) + 1e-9))
        if most < min_rows:
            base = self.base if self.base_fraction is None else f"{self.base}:{self.base_fraction:g}"
            raise ValueError(
                f"policy {self.spec!r}: quota:{share:g} keeps at most a {share:g} share of synthetic rows, and base "
                f"{base!r} has {real} real row(s) per generation (n={n}), so at most {most} row(s) are left to "
                f"train on; the {scenario} model needs at least {min_rows}. Use a base with more real data "
                "(accumulate, keep-real:F or fresh-real:F with a larger F) or a larger quota share")
        return self


def parse_policy(spec: str) -> Policy:
    """Parse ``"accumulate+quota:0.1"``-style specs; raises ``ValueError`` naming what is wrong."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"policy must be a non-empty string, got {spec!r}")
    parts = [p.strip() for p in spec.split("+")]
    if any(not p for p in parts):
        raise ValueError(f"policy {spec!r} has an empty part: join a base and steps with single '+', "
                         "e.g. accumulate+quota:0.1")
    base, base_fraction = "accumulate", None
    head = [h.strip() for h in parts[0].split(":")]
    if head[0] in BASES:
        base = head[0]
        if base in _FRACTION_BASES:
            if len(head) != 2:
                raise ValueError(f"policy {parts[0]!r}: {base} needs a fraction, exactly one, e.g. {base}:0.1")
            base_fraction = _fraction(head[1], parts[0], f"the {base} fraction")
        elif len(head) > 1:
            raise ValueError(f"policy {parts[0]!r}: {base} takes no argument")
        parts = parts[1:]
    steps = []
    for part in parts:
        name, *args = [a.strip() for a in part.split(":")]
        if name in BASES:
            raise ValueError(f"policy {spec!r}: base {name!r} must come first")
        if name not in STEPS:
            raise ValueError(f"unknown policy step {name!r} in {spec!r}; bases: {list(BASES)}, steps: {list(STEPS)}")
        if name == "quota":
            if len(args) != 1:
                raise ValueError(f"policy {part!r}: quota needs one share, e.g. quota:0.1")
            value = _fraction(args[0], part, "the quota share (the most synthetic share kept)",
                              high_open=True)
            steps.append((name, (value,)))
        elif name == "filter":
            if args and len(args) != 2:
                raise ValueError(f"policy {part!r}: filter takes no argument or TPR:FPR, e.g. filter:0.8:0.05")
            steps.append((name, (_fraction(args[0], part, "the filter's true-positive rate TPR"),
                                 _fraction(args[1], part, "the filter's false-positive rate FPR")) if args else ()))
        elif name == "tail":
            if args and args != ["ref"]:
                raise ValueError(f"policy {part!r}: tail takes no argument or 'ref'")
            steps.append((name, tuple(args)))
        else:
            if args:
                raise ValueError(f"policy {part!r}: {name} takes no argument")
            steps.append((name, ()))
    return Policy(spec, base, base_fraction, tuple(steps))
