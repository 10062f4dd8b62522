"""Summaries and plots of a collapse run: medians with interquartile ranges over seeds."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import curve_auc, generations_to_degrade
from .runner import RunConfig, dedupe_rows, load_results
from .scenarios import make_scenario

__all__ = ["aggregate", "summary_table", "write_report"]

_BOOKKEEPING = {"policy", "seed", "generation"}
# distances start near 0 at generation 0, so "50% worse than generation 0" says nothing for them
_NO_DEGRADE = {"w2", "sliced_w2", "kl_real_model", "js", "log_variance_ratio", "nll_real"}


def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """``{policy: {metric: array (generations, 3)}}`` of 25th percentile, median, 75th percentile.

    Each (policy, seed, generation) counts once: repeated rows are dropped (:func:`dedupe_rows`).
    """
    rows = dedupe_rows(rows)
    cells: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in rows:
        for key, value in row.items():
            if key not in _BOOKKEEPING and isinstance(value, (int, float)) and value is not None:
                cells[row["policy"]][key][row["generation"]].append(float(value))
    out: dict[str, dict[str, np.ndarray]] = {}
    for policy, metrics in cells.items():
        out[policy] = {}
        for metric, by_gen in metrics.items():
            gens = sorted(by_gen)
            out[policy][metric] = np.array([np.nanpercentile(by_gen[g], [25, 50, 75]) if np.isfinite(by_gen[g]).any()
                                            else [np.nan] * 3 for g in gens])
    return out


def summary_table(rows: list[dict[str, Any]], scenario: str, metrics: list[str] | None = None,
                  degrade_fraction: float = 0.5) -> tuple[list[dict[str, Any]], str]:
    """Per policy and metric: last-generation median [IQR], median AUC over generations, generations to degradation.

    "Generations to degradation" is the first generation at which the median curve is
    worse than generation 0 by ``degrade_fraction`` (50% by default), ``-`` if never.
    """
    rows = dedupe_rows(rows)
    directions = make_scenario(scenario).metrics
    metrics = metrics or [m for m in directions if m != "log_variance_ratio"]
    agg = aggregate(rows)
    records = []
    for policy in sorted(agg, key=lambda p: (p != "replace", p)):
        for metric in metrics:
            curve = agg[policy].get(metric)
            if curve is None:
                continue
            seeds = len({r["seed"] for r in rows if r["policy"] == policy})
            records.append({
                "policy": policy, "metric": metric, "higher_is_better": directions[metric], "seeds": seeds,
                "last_median": float(curve[-1, 1]), "last_q25": float(curve[-1, 0]), "last_q75": float(curve[-1, 2]),
                "auc_median": curve_auc(curve[:, 1]),
                "generations_to_degrade": None if metric in _NO_DEGRADE else
                generations_to_degrade(curve[:, 1], degrade_fraction, directions[metric]),
            })
    lines = ["| policy | " + " | ".join(f"{m} ({'↑' if directions[m] else '↓'}) last gen [IQR] / AUC / gens to -50%"
                                         for m in metrics) + " |",
             "|---|" + "---|" * len(metrics)]
    for policy in dict.fromkeys(r["policy"] for r in records):
        cells = []
        for metric in metrics:
            r = next((x for x in records if x["policy"] == policy and x["metric"] == metric), None)
            if r is None:
                cells.append("")
                continue
            g = r["generations_to_degrade"]
            g_text = "n/a" if metric in _NO_DEGRADE else (g if g is not None else "-")
            cells.append(f"{_fmt(r['last_median'])} [{_fmt(r['last_q25'])}, {_fmt(r['last_q75'])}] / "
                         f"{_fmt(r['auc_median'])} / {g_text}")
        lines.append(f"| `{policy}` | " + " | ".join(cells) + " |")
    return records, "\n".join(lines)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "nan"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.3g}"


def write_report(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """Write ``<metric>.png`` plots and ``summary.md``/``summary.json`` for the run in ``run_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a collapse run folder (no config.json)")
    cfg = RunConfig(**json.loads(cfg_path.read_text()))
    rows = load_results(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}: no results yet")
    out_dir = Path(out_dir) if out_dir else run_dir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    agg = aggregate(rows)
    scenario = make_scenario(cfg.scenario, **cfg.options)
    metrics = list(scenario.metrics) + [m for m in ("detector_tpr", "detector_fpr", "synthetic_share", "train_rows")
                                        if any(m in agg[p] for p in agg)]
    for metric in metrics:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        colours = plt.get_cmap("tab20" if len(cfg.policies) > 10 else "tab10")
        for k, policy in enumerate(cfg.policies):
            curve = agg.get(policy, {}).get(metric)
            if curve is None:
                continue
            gens = np.arange(len(curve)) if metric not in ("detector_tpr", "detector_fpr") else np.arange(1, len(curve) + 1)
            line, = ax.plot(gens, curve[:, 1], label=policy, lw=1.6, color=colours(k % colours.N),
                            ls="-" if k < 10 else "--")
            ax.fill_between(gens, curve[:, 0], curve[:, 2], color=line.get_color(), alpha=0.15)
        if metric in ("variance", "w2", "excess_error_ratio", "nll_real", "perplexity", "kl_real_model", "sliced_w2"):
            values = np.concatenate([agg[p][metric][:, 1] for p in agg if metric in agg[p]])
            if np.nanmin(values) > 0 and np.nanmax(values) / np.nanmin(values) > 100:
                ax.set_yscale("log")
        ax.set_xlabel("generation")
        ax.set_ylabel(metric)
        seeds = len({r["seed"] for r in rows})
        ax.set_title(f"{cfg.scenario}: {metric} (median, IQR band, {seeds} seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out_dir / f"{cfg.scenario}_{metric}.png", dpi=110)
        plt.close(fig)
    records, table = summary_table(rows, cfg.scenario)
    header = (f"# {cfg.scenario}: {cfg.generations} generations, {cfg.seeds} seeds, options {cfg.options}\n\n"
              "Median over seeds at the last generation with interquartile range, median area under the "
              "curve over generations (mean value), and the first generation whose median is 50% worse "
              "than generation 0 (`-`: never).\n\n")
    (out_dir / "summary.md").write_text(header + table + "\n", encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps({"config": json.loads(cfg_path.read_text()), "summary": records},
                                                     indent=2) + "\n")
    return out_dir
