"""Plots of a collapse run: one figure per metric, the median over seeds with its interquartile band.

A reader should not need the code to read them:

- the title says which way is better, from the metric's declared direction (a metric with a
  target is drawn as its distance to it, so lower is better); bookkeeping columns such as
  ``real_rows`` or ``synthetic_share`` say they have no better direction;
- a value that cannot be drawn is still shown: an infinite median (a lost tail is infinitely
  far from its target) as a ▲ at the top edge, zero or below on a log axis as a ▼ at the
  bottom edge, a generation without any value as a × at the bottom edge;
- at most :data:`MAX_LINES` lines share a panel; more policies are split into small
  multiples, each repeating the baseline and the control, with one colour per policy
  throughout;
- tick labels are plain numbers (``1,000``, ``0.05``), scientific only for the very small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .directions import badness, distance_label, target_of

__all__ = ["MAX_LINES", "BOOKKEEPING", "panels", "tick_label", "direction_text", "curve", "axis_limits", "draw_metric",
           "metric_figure", "plot_metric", "plot_overview"]

#: the most lines drawn in one panel
MAX_LINES = 6
#: result columns that describe a policy rather than measure the model: no better direction
BOOKKEEPING = ("synthetic_share", "train_rows", "real_rows", "real_rows_distinct", "detector_tpr", "detector_fpr")


def panels(policies: list[str], anchors: list[str | None]) -> list[list[str]]:
    """``policies`` split into panels of at most :data:`MAX_LINES`, each holding every anchor (baseline, control)."""
    policies = list(dict.fromkeys(policies))
    if len(policies) <= MAX_LINES:
        return [policies]
    anchors = [a for a in dict.fromkeys(anchors) if a in policies]
    others = [p for p in policies if p not in anchors]
    per = max(1, MAX_LINES - len(anchors))
    return [anchors + others[i:i + per] for i in range(0, len(others), per)]


def tick_label(x: float, _pos: Any = None) -> str:
    """A tick as a plain number: ``1,000``, ``25``, ``0.05``; ``1e-06`` style only below 0.001."""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1e-3:
        return f"{x:.3g}"
    return f"{x:.0e}"


def direction_text(metric: str, better: str | None) -> str:
    """What a reader should look for in the plot of ``metric``."""
    if better is None:
        return "bookkeeping: no better direction"
    target = target_of(better)
    if target is not None:
        return f"distance to {target:g}: lower is better"
    return f"{better} is better"


def curve(per_seed: dict, policy: str, metric: str, better: str | None,
          binary: bool = False) -> tuple[list[int], np.ndarray]:
    """Generations and (q25, median, q75) per generation of ``policy``'s ``metric`` (its distance for a target).

    Quantiles of values with an infinity are order statistics (no interpolation towards infinity).
    A ``binary`` metric gives (low, rate, high): the share of seeds with the value 1 and its exact
    95% interval.
    """
    from .stats import rate_interval

    gens = sorted(g for (p, m, g) in per_seed if p == policy and m == metric)
    bands = []
    for g in gens:
        v = np.array(list(per_seed[(policy, metric, g)].values()), dtype=np.float64)
        if better is not None and target_of(better) is not None:
            v = badness(v, better)
        v = v[~np.isnan(v)]
        if not len(v):
            bands.append([np.nan] * 3)
        elif binary:
            rate, low, high = rate_interval(int(v.sum()), len(v))
            bands.append([low, rate, high])
        else:
            method = "linear" if np.isfinite(v).all() else "inverted_cdf"
            bands.append(np.quantile(v, [0.25, 0.5, 0.75], method=method))
    return gens, np.array(bands).reshape(-1, 3)


def _limits(bands: list[np.ndarray]) -> tuple[float, float, bool]:
    """(low, high, log): y limits from every finite value, a log axis for positive values spanning over 100x."""
    ys = np.concatenate([b.ravel() for b in bands]) if bands else np.array([])
    ys = ys[np.isfinite(ys)]
    if not len(ys):
        return 0.0, 1.0, False
    positive = ys[ys > 0]
    log = bool(len(positive) and positive.max() / positive.min() > 100 and (ys > 0).mean() > 0.5)
    if log:
        low = max(positive.min(), positive.max() * 1e-6)
        return low / 1.5, positive.max() * 1.5, True
    low, high = float(ys.min()), float(ys.max())
    pad = 0.06 * (high - low) if high > low else max(abs(high) * 0.1, 0.05)
    return low - pad, high + pad, False


def axis_limits(per_seed: dict, policies: list[str], metric: str, better: str | None,
                binary: bool = False) -> tuple[float, float, bool]:
    """(low, high, log): the y axis that shows every finite value of ``policies`` (panels sharing it agree)."""
    if binary:
        return -0.03, 1.03, False
    return _limits([curve(per_seed, p, metric, better)[1] for p in policies])


def draw_metric(ax: Any, per_seed: dict, policies: list[str], metric: str, better: str | None,
                colours: dict[str, Any], binary: bool = False,
                limits: tuple[float, float, bool] | None = None) -> set[str]:
    """Draw ``metric`` of ``policies`` on ``ax`` within ``limits`` (default: :func:`axis_limits` of ``policies``);
    returns the kinds of edge markers drawn (``inf``, ``low``, ``none``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    curves = {p: curve(per_seed, p, metric, better, binary) for p in policies}
    curves = {p: c for p, c in curves.items() if c[0]}
    low, high, log = limits or axis_limits(per_seed, policies, metric, better, binary)
    if log:
        ax.set_yscale("log")
    ax.set_ylim(low, high)
    marks: set[str] = set()
    for k, (policy, (gens, band)) in enumerate(curves.items()):
        x = np.array(gens)
        colour = colours[policy]
        med = band[:, 1]
        drawable = np.isfinite(med) & ((med > 0) if log else True)
        # a line style per policy, so that policies with the same curve (e.g. the control and accumulate
        # on a metric both hold) stay visible on top of each other
        ax.plot(x, np.where(drawable, med, np.nan), color=colour, lw=2.0 if k == 0 else 1.7,
                ls=_STYLES[k % len(_STYLES)], label=policy, marker="." if len(x) < 4 else None)
        lo = np.clip(np.where(np.isfinite(band[:, 0]), band[:, 0], np.where(band[:, 0] > 0, high, low)), low, high)
        hi = np.clip(np.where(np.isfinite(band[:, 2]), band[:, 2], np.where(band[:, 2] > 0, high, low)), low, high)
        ok = ~(np.isnan(band[:, 0]) | np.isnan(band[:, 2]))
        ax.fill_between(x, lo, hi, where=ok, color=colour, alpha=0.14, lw=0, interpolate=False)
        up = np.isposinf(med)
        down = (np.isneginf(med) | ((med <= 0) & log)) & ~np.isnan(med)
        missing = np.isnan(med)
        for mask, y, symbol, kind in ((up, high, "^", "inf"), (down, low, "v", "low"), (missing, low, "x", "none")):
            if mask.any():
                ax.plot(x[mask], np.full(mask.sum(), y), ls="none", marker=symbol, ms=7, color=colour, clip_on=False,
                        zorder=5)
                marks.add(kind)
    ax.yaxis.set_major_formatter(FuncFormatter(tick_label))
    if log:
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    return marks


_STYLES = ["-", (0, (5, 2)), "-.", (0, (1, 1.5)), (0, (8, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1))]
_MARK_NOTES = {"inf": "▲ at the top edge: infinite (for a ratio, the tail is gone: 0 is infinitely far from its target)",
               "low": "▼ at the bottom edge: zero or below (not drawable on this log axis)",
               "none": "× at the bottom edge: no value at that generation"}


def _colours(policies: list[str]) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    # tab20's saturated colours first (tab10's), then its light ones: the first policies (the baseline and
    # the control) never share a hue
    tab20 = plt.get_cmap("tab20")
    palette = [tab20(2 * i) for i in range(10)] + [tab20(2 * i + 1) for i in range(10)]
    return {p: palette[i % len(palette)] for i, p in enumerate(policies)}


def _ylabel(metric: str, better: str | None, binary: bool) -> str:
    if binary:
        return f"share of seeds with {metric} = 1"
    return distance_label(metric, better) if better and target_of(better) is not None else metric


def metric_figure(per_seed: dict, policies: list[str], metric: str, better: str | None, title: str,
                  anchors: list[str | None] = (), binary: bool = False) -> Any:
    """The matplotlib figure of ``metric``: small multiples of at most :data:`MAX_LINES` policies each.

    The band is the interquartile range over seeds; for a ``binary`` metric the line is the
    share of seeds with the value 1 and the band its exact 95% interval.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = panels(policies, list(anchors))
    cols = min(3, len(groups))
    rows = int(np.ceil(len(groups) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows + 0.5), sharey=True, squeeze=False)
    colours = _colours(policies)
    limits = axis_limits(per_seed, policies, metric, better, binary)
    marks: set[str] = set()
    for ax, group in zip(axes.ravel(), groups):
        marks |= draw_metric(ax, per_seed, group, metric, better, colours, binary, limits)
        ax.set_xlabel("generation")
        ax.legend(fontsize=7, loc="best")
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(_ylabel(metric, better, binary))
    what = ("share of seeds with the value 1 and its exact 95% interval" if binary
            else "median over seeds and interquartile band")
    fig.suptitle(f"{title}: {what}\n{metric}: {direction_text(metric, better)}", fontsize=10)
    notes = [_MARK_NOTES[k] for k in ("inf", "low", "none") if k in marks]
    if notes:
        fig.text(0.01, 0.005, "; ".join(notes), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.03 if notes else 0, 1, 1))
    return fig


def plot_metric(per_seed: dict, policies: list[str], metric: str, better: str | None, title: str, path: Path,
                anchors: list[str | None] = (), binary: bool = False) -> Path:
    """:func:`metric_figure` saved to ``path``."""
    import matplotlib.pyplot as plt

    fig = metric_figure(per_seed, policies, metric, better, title, anchors, binary)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_overview(items: list[dict[str, Any]], path: Path) -> Path:
    """One panel per item (``title``, ``per_seed``, ``policies``, ``metric``, ``better``, ``binary``): the demo at a
    glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(2, len(items))
    rows = int(np.ceil(len(items) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.0 * rows), squeeze=False)
    marks: set[str] = set()
    for ax, item in zip(axes.ravel(), items):
        policies = item["policies"][:MAX_LINES]
        binary = item.get("binary", False)
        marks |= draw_metric(ax, item["per_seed"], policies, item["metric"], item["better"], _colours(policies), binary)
        ax.set_title(f"{item['title']}\n{item['metric']}: {direction_text(item['metric'], item['better'])}",
                     fontsize=9)
        ax.set_xlabel("generation")
        ax.set_ylabel(_ylabel(item["metric"], item["better"], binary))
        ax.legend(fontsize=7, loc="best")
    for ax in axes.ravel()[len(items):]:
        ax.set_visible(False)
    notes = [_MARK_NOTES[k] for k in ("inf", "low", "none") if k in marks]
    if notes:
        fig.text(0.01, 0.005, "; ".join(notes), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.03 if notes else 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
