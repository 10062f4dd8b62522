"""Summaries and plots of a collapse run: every number with its uncertainty over seeds.

Per policy, metric and generation (:func:`summary_records`, written to ``RUN/summary.json``):
the mean with a 95% bootstrap interval over seeds, the median with its interquartile range,
the real rows the policy consumed, and a paired test against the baseline policy on the
same seeds (Wilcoxon signed-rank on the per-seed differences of the metric's badness, with
Holm's correction across the policies compared at that metric and generation; effect size
the matched-pairs rank-biserial correlation). Each metric declares which way is better
(:mod:`~synthfilter.collapse.directions`); a metric with a target (ratios to the real data)
is compared and plotted as its distance to the target, ``|log(value / target)|``.

Generation 0 is the model fitted on real data; generation g is the model fitted after g
rounds of training on generated data (Kazdan et al. number the same model "iteration g+1"
in places: their "iteration 100" of a 100-round run is our generation 99 or 100, see the
README).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .directions import badness, check_better, distance_label, generations_to_degrade, target_of
from .metrics import curve_auc
from .runner import RunConfig, dedupe_rows, load_results
from .scenarios import make_scenario
from .stats import bootstrap_mean_interval, holm, paired_test

__all__ = ["aggregate", "summary_records", "summary_table", "write_report", "default_baseline"]

_BOOKKEEPING = {"policy", "seed", "generation"}
# distances start near 0 at generation 0, so "50% worse than generation 0" says nothing for them
_NO_DEGRADE = {"w2", "sliced_w2", "kl_real_model", "js", "nll_real"}
#: real rows per generation within this relative tolerance count as the same budget
BUDGET_TOLERANCE = 0.01


def default_baseline(policies: list[str]) -> str:
    """``replace`` when it is among ``policies`` (the no-mitigation control), else the first policy."""
    return "replace" if "replace" in policies else policies[0]


def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
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


def _per_seed(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[int, float]]:
    """``{(policy, metric, generation): {seed: value}}`` of every numeric field."""
    out: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    for row in rows:
        for key, value in row.items():
            if key not in _BOOKKEEPING and isinstance(value, (int, float)) and not isinstance(value, bool):
                out[(row["policy"], key, row["generation"])][row["seed"]] = float(value)
    return out


def _real_rows(cells: dict, policy: str, generation: int) -> float | None:
    values = cells.get((policy, "real_rows", generation))
    return float(np.mean(list(values.values()))) if values else None


def _same_budget(a: float | None, b: float | None) -> bool | None:
    if a is None or b is None:
        return None
    return bool(abs(a - b) <= BUDGET_TOLERANCE * max(abs(a), abs(b), 1.0))


def summary_records(rows: list[dict[str, Any]], scenario: str, baseline: str | None = None,
                    options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per (policy, metric, generation) of the scenario's metrics; see the module docs.

    Fields: ``policy``, ``metric``, ``generation``, ``better``, ``mean``, ``ci_low``, ``ci_high``
    (95% bootstrap over seeds), ``median``, ``q25``, ``q75``, ``n_seeds``, ``real_rows`` (mean
    real rows consumed that generation, ``None`` for runs made before it was recorded),
    ``baseline``, ``same_budget`` (the policy's real rows equal the baseline's), ``p_value``,
    ``p_adjusted`` (Holm over the policies at this metric and generation), ``effect``
    (rank-biserial, positive = better than the baseline) and ``diff_mean``/``diff_ci_low``/
    ``diff_ci_high`` (mean improvement over the baseline in badness units, with its
    bootstrap interval). The baseline's own record has no test fields (``None``).
    """
    rows = dedupe_rows(rows)
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    baseline = baseline or default_baseline(policies)
    if baseline not in policies:
        raise ValueError(f"baseline {baseline!r} is not among the run's policies {policies}")
    directions = make_scenario(scenario, **(options or {})).metrics
    cells = _per_seed(rows)
    generations = sorted({r["generation"] for r in rows})
    records = []
    for metric, better in directions.items():
        check_better(better)
        for gen in generations:
            group = []
            base_seeds = cells.get((baseline, metric, gen), {})
            for policy in policies:
                by_seed = cells.get((policy, metric, gen))
                if not by_seed:
                    continue
                values = np.array(list(by_seed.values()))
                finite = values[np.isfinite(values)]
                mean, low, high = bootstrap_mean_interval(finite, seed=gen)
                q25, med, q75 = (np.percentile(finite, [25, 50, 75]) if len(finite) else [np.nan] * 3)
                record = {"policy": policy, "metric": metric, "generation": gen, "better": better,
                          "mean": mean, "ci_low": low, "ci_high": high, "median": float(med),
                          "q25": float(q25), "q75": float(q75), "n_seeds": len(by_seed),
                          "real_rows": _real_rows(cells, policy, gen), "baseline": baseline,
                          "same_budget": _same_budget(_real_rows(cells, policy, gen), _real_rows(cells, baseline, gen)),
                          "p_value": None, "p_adjusted": None, "effect": None,
                          "diff_mean": None, "diff_ci_low": None, "diff_ci_high": None}
                if policy != baseline and base_seeds:
                    common = sorted(set(by_seed) & set(base_seeds))
                    test = paired_test(badness([by_seed[s] for s in common], better),
                                       badness([base_seeds[s] for s in common], better), seed=gen)
                    record.update({k: test[k] for k in ("p_value", "effect", "diff_mean", "diff_ci_low",
                                                        "diff_ci_high")})
                    group.append(record)
                records.append(record)
            for record, adjusted in zip(group, holm([r["p_value"] for r in group])):
                record["p_adjusted"] = adjusted
    return [_json_safe(r) for r in records]


def _json_safe(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities as ``None`` (JSON has neither)."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in record.items()}


def summary_table(rows: list[dict[str, Any]], scenario: str, metrics: list[str] | None = None,
                  degrade_fraction: float = 0.5, baseline: str | None = None,
                  options: dict[str, Any] | None = None,
                  records: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Per policy and metric at the last generation: the Markdown table and its records.

    Each record has ``policy``, ``metric``, ``better``, ``seeds``, ``last_mean`` with
    ``last_ci_low``/``last_ci_high``, ``last_median`` with ``last_q25``/``last_q75``,
    ``auc_median`` (the median curve's mean over generations), ``generations_to_degrade`` (the
    first generation whose median is worse than generation 0 by ``degrade_fraction``, see
    :func:`~synthfilter.collapse.directions.generations_to_degrade`; ``None`` if never or not
    meaningful), ``real_rows``, ``same_budget`` and the last generation's paired comparison
    with the baseline (``diff_mean``, ``diff_ci_low``, ``diff_ci_high``, ``p_adjusted``, ``effect``).
    ``records``: the run's :func:`summary_records`, when already computed.
    """
    rows = dedupe_rows(rows)
    directions = make_scenario(scenario, **(options or {})).metrics
    metrics = metrics or list(directions)
    full = records if records is not None else summary_records(rows, scenario, baseline, options)
    last = max(r["generation"] for r in rows)
    agg = aggregate(rows)
    records = []  # the table's, from here on
    policies = sorted(agg, key=lambda p: (p != (baseline or default_baseline(list(agg))), p))
    for policy in policies:
        for metric in metrics:
            curve = agg[policy].get(metric)
            end = next((r for r in full if r["policy"] == policy and r["metric"] == metric
                        and r["generation"] == last), None)
            if curve is None or end is None:
                continue
            better = directions[metric]
            records.append({
                "policy": policy, "metric": metric, "better": better, "seeds": end["n_seeds"],
                "last_mean": end["mean"], "last_ci_low": end["ci_low"], "last_ci_high": end["ci_high"],
                "last_median": end["median"], "last_q25": end["q25"], "last_q75": end["q75"],
                "auc_median": curve_auc(curve[:, 1]),
                "generations_to_degrade": None if metric in _NO_DEGRADE else
                generations_to_degrade(curve[:, 1], better, degrade_fraction),
                "real_rows": end["real_rows"], "same_budget": end["same_budget"], "baseline": end["baseline"],
                **{k: end[k] for k in ("diff_mean", "diff_ci_low", "diff_ci_high", "p_adjusted", "effect")},
            })
    arrows = {"higher": "↑", "lower": "↓"}
    lines = ["| policy | real rows / gen | " + " | ".join(
        f"{m} ({arrows.get(directions[m], '→' + str(target_of(directions[m])))}) mean [95% CI] / vs baseline"
        for m in metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for policy in dict.fromkeys(r["policy"] for r in records):
        mine = [x for x in records if x["policy"] == policy]
        budget = mine[0]["real_rows"]
        flag = "" if mine[0]["same_budget"] in (True, None) or policy == mine[0]["baseline"] else " (≠ baseline)"
        cells = [f"{_fmt(budget) if budget is not None else '?'}{flag}"]
        for metric in metrics:
            r = next((x for x in mine if x["metric"] == metric), None)
            if r is None:
                cells.append("")
                continue
            cells.append(f"{_fmt(r['last_mean'])} [{_fmt(r['last_ci_low'])}, {_fmt(r['last_ci_high'])}] / "
                         f"{_versus(r)}")
        lines.append(f"| `{policy}` | " + " | ".join(cells) + " |")
    return records, "\n".join(lines)


def _versus(r: dict[str, Any]) -> str:
    """``baseline`` for the baseline itself; else ``better``/``worse``/``n.s.`` with the adjusted p."""
    if r["policy"] == r["baseline"]:
        return "baseline"
    p, low, high = r["p_adjusted"], r["diff_ci_low"], r["diff_ci_high"]
    if p is None:
        return "n/a"
    significant = p < 0.05 and low is not None and high is not None and (low > 0 or high < 0)
    word = ("better" if (low or 0) > 0 else "worse") if significant else "n.s."
    return f"{word} (p={p:.2g})"


def _fmt(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.3g}"


def write_report(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                 baseline: str | None = None) -> Path:
    """Write ``RUN/summary.json`` (:func:`summary_records`) and, in ``out_dir`` (default ``RUN/report``),
    ``<scenario>_<metric>.png`` plots and ``summary.md``/``summary.json`` (the last-generation table).

    ``baseline``: the policy every other is tested against (default: ``replace`` if run, else
    the first policy). Plots show the median over seeds with its interquartile band; a metric
    with a target is plotted as its distance to the target.
    """
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
    baseline = baseline or default_baseline(list(cfg.policies))
    scenario = make_scenario(cfg.scenario, **cfg.options)
    plotted = {**scenario.metrics, **{m: "higher" for m in ("detector_tpr", "synthetic_share", "train_rows",
                                                            "real_rows")},
               "detector_fpr": "lower"}
    per_seed = _per_seed(rows)
    seeds = len({r["seed"] for r in rows})
    for metric, better in plotted.items():
        if not any(key[1] == metric for key in per_seed):
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2))
        colours = plt.get_cmap("tab20" if len(cfg.policies) > 10 else "tab10")
        target = target_of(better)
        for k, policy in enumerate(cfg.policies):
            gens = sorted(g for (p, m, g) in per_seed if p == policy and m == metric)
            if not gens:
                continue
            values = [np.array(list(per_seed[(policy, metric, g)].values())) for g in gens]
            if target is not None:
                values = [badness(v, better) for v in values]
            band = np.array([np.nanpercentile(np.where(np.isinf(v), np.nan, v), [25, 50, 75])
                             if np.isfinite(v).any() else [np.nan] * 3 for v in values])
            line, = ax.plot(gens, band[:, 1], label=policy, lw=1.6, color=colours(k % colours.N),
                            ls="-" if k < 10 else "--")
            ax.fill_between(gens, band[:, 0], band[:, 2], color=line.get_color(), alpha=0.15)
        _scale(ax)
        ax.set_xlabel("generation")
        ax.set_ylabel(distance_label(metric, better) + ("  (0 = as real)" if target is not None else ""))
        direction = "closer to 0 is better" if target is not None else f"{better} is better"
        ax.set_title(f"{cfg.scenario}: {metric} (median, IQR band, {seeds} seeds; {direction})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out_dir / f"{cfg.scenario}_{metric}.png", dpi=110)
        plt.close(fig)
    records = summary_records(rows, cfg.scenario, baseline, cfg.options)
    (run_dir / "summary.json").write_text(json.dumps(records, indent=1) + "\n")
    table_records, table = summary_table(rows, cfg.scenario, baseline=baseline, options=cfg.options, records=records)
    header = (f"# {cfg.scenario}: {cfg.generations} generations, {cfg.seeds} seeds, options {cfg.options}\n\n"
              f"At the last generation: mean over seeds with its 95% bootstrap interval, and the paired "
              f"comparison with `{baseline}` on the same seeds (Wilcoxon signed-rank on the per-seed "
              "differences, Holm-adjusted over policies; `better`/`worse` only when the adjusted p < 0.05 "
              "and the bootstrap interval of the mean difference excludes 0, else `n.s.`). Metrics with a "
              "target (→1) are compared by their distance to it, |log(value / target)|. Real rows per "
              "generation: what each policy consumed (training pool plus detector reference data); "
              "`≠ baseline` marks comparisons at a different real-data budget. Every generation's numbers "
              "are in ../summary.json.\n\n")
    (out_dir / "summary.md").write_text(header + table + "\n", encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps({"config": json.loads(cfg_path.read_text()),
                                                      "baseline": baseline, "summary": table_records},
                                                     indent=2) + "\n")
    return out_dir


def _scale(ax: Any) -> None:
    """A log axis for positive curves spanning over 100x, floored at 1e-6 of the top (no 1e-24 axes)."""
    ys = np.concatenate([line.get_ydata() for line in ax.get_lines()]) if ax.get_lines() else np.array([])
    ys = ys[np.isfinite(ys)]
    if len(ys) and ys.min() > 0 and ys.max() / ys.min() > 100:
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(ys.min(), ys.max() * 1e-6) / 1.5)
