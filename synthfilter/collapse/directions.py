"""Which way is better for each collapse metric, and the curve summaries that depend on it.

Every scenario metric declares ``better``:

``"higher"`` / ``"lower"``
    More (less) is better: recall-like shares, diversity; distances, perplexity, NLL.
``"target:X"``
    Closeness to the real value ``X`` is better. Ratios to the real data (tail mass,
    variance ratio) use ``target:1``: a model that puts 8x the real mass in the tail is as
    wrong as one that puts 1/8 of it there, so their distance is ``|log(value / X)|``.
    ``target:0`` (for a log ratio) uses ``|value|``.

:func:`badness` puts every metric on a lower-is-better scale (the distance for targets,
the value for ``lower``, minus the value for ``higher``); paired comparisons, plots of
targets and "generations to degrade" use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["check_better", "target_of", "badness", "distance_label", "generations_to_degrade"]


def check_better(better: str) -> str:
    """``better`` itself when it is ``higher``, ``lower`` or ``target:X`` (X a finite number >= 0)."""
    if better in ("higher", "lower"):
        return better
    if isinstance(better, str) and better.startswith("target:"):
        try:
            x = float(better.split(":", 1)[1])
        except ValueError:
            x = float("nan")
        if np.isfinite(x) and x >= 0:
            return better
    raise ValueError(f"better must be 'higher', 'lower' or 'target:X' with X a number >= 0, got {better!r}")


def target_of(better: str) -> float | None:
    """X of ``target:X``; ``None`` for ``higher``/``lower``."""
    return float(check_better(better).split(":", 1)[1]) if better.startswith("target:") else None


def badness(values: Sequence[float] | np.ndarray, better: str) -> np.ndarray:
    """``values`` on a lower-is-better scale: ``|log(v / X)|`` (``|v|`` for X = 0) for targets,
    ``v`` for ``lower``, ``-v`` for ``higher``. A non-positive value of a ratio metric is
    infinitely far from its target."""
    v = np.asarray(values, dtype=np.float64)
    target = target_of(better)
    if target is None:
        return v if better == "lower" else -v
    if target == 0:
        return np.abs(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.abs(np.log(np.where(v > 0, v, 1.0) / target)), np.where(np.isnan(v), np.nan, np.inf))


def distance_label(metric: str, better: str) -> str:
    """Axis label of what :func:`badness` plots for a target metric."""
    target = target_of(better)
    if target is None:
        return metric
    return f"|{metric}|" if target == 0 else f"|log({metric} / {target:g})|"


def generations_to_degrade(values: Sequence[float], better: str | bool = "higher", fraction: float = 0.5) -> int | None:
    """First generation where the metric is worse than at generation 0 by ``fraction`` (None if never).

    ``higher``: below ``v0 * (1 - fraction)``; ``lower``: above ``v0 * (1 + fraction)`` (or
    above ``fraction`` when v0 is 0); ``target:X``: farther from X than a factor
    ``1 / (1 - fraction)`` (2x for 0.5) beyond generation 0's own distance (``target:0``:
    farther by ``fraction``). ``better`` may be a bool (True = ``higher``) as before.
    """
    if isinstance(better, bool):
        better = "higher" if better else "lower"
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0 or not np.isfinite(v[0]):
        return None
    target = target_of(better)
    if target is None and better == "higher":
        bad = v < v[0] * (1 - fraction)
    elif target is None:
        bad = v > (v[0] * (1 + fraction) if v[0] > 0 else fraction)
    else:
        d = badness(v, better)
        margin = fraction if target == 0 else float(np.log(1.0 / (1.0 - fraction)))
        bad = d > d[0] + margin
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None
