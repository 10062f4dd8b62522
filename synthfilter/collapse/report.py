"""The report of a collapse run: ``RUN/summary.json``, plots and a Markdown summary.

The statistics are :mod:`~synthfilter.collapse.summary`'s (every number with its
uncertainty over seeds, each comparison named by its test, Holm over the family of the
run's claims); the plots are :mod:`~synthfilter.collapse.plots`'.

Generation 0 is the model fitted on real data; generation g is the model fitted after g
rounds of training on generated data (Kazdan et al. number the same model "iteration g+1"
in places: their "iteration 100" of a 100-round run is our generation 99 or 100, see the
README).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .plots import BOOKKEEPING, plot_metric
from .runner import RunConfig, load_results
from .scenarios import make_scenario
from .stats import MIN_BOOTSTRAP_SEEDS
from .summary import (ALPHA, aggregate, default_baseline, default_control, headline_metrics, per_seed,
                      summary_records, summary_table)

__all__ = ["aggregate", "summary_records", "summary_table", "write_report", "default_baseline", "default_control",
           "headline_metrics"]


def _header(cfg: RunConfig, baseline: str, control: str | None, headline: list[str], family: int | None) -> str:
    control_text = (f" and with `{control}` (the control: the same generation-0 real rows, no generated data)"
                    if control else "")
    return (f"# {cfg.scenario}: {cfg.generations} generations, {cfg.seeds} seeds, options {cfg.options}\n\n"
            f"At generation {cfg.generations}, per headline metric ({', '.join(headline)}): each policy's value "
            f"over seeds, and its paired comparison on the same seeds with `{baseline}`{control_text}. Continuous "
            "metrics: Wilcoxon signed-rank test, shown with the estimate it tests (the Hodges-Lehmann shift of "
            "the per-seed improvement, positive = better, for a metric with a target its distance "
            "|log(value / target)|) and its 95% interval; a 0/1 outcome per seed: exact McNemar test on the "
            "discordant seeds. p is Holm-adjusted over the family of the claims in these tables "
            f"({family or 0} comparisons per reference policy); `better`/`worse` when it is below {ALPHA}, "
            "else `n.s.`. Real rows: those a policy reads each generation (what it trains on, reference and "
            "detector rows included), and the distinct real rows read over the run: policies with the same "
            "distinct real rows had the same real data to learn from. Every generation's statistics, the "
            f"means with their intervals (t below {MIN_BOOTSTRAP_SEEDS} seeds, else BCa), are in "
            "../summary.json.\n\n")


def write_report(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                 baseline: str | None = None) -> Path:
    """Write ``RUN/summary.json`` (:func:`summary_records`) and, in ``out_dir`` (default ``RUN/report``),
    ``<scenario>_<metric>.png`` plots and ``summary.md``/``summary.json`` (the last generation's headline tables).

    ``baseline``: the policy every other is tested against (default: ``replace`` if run, else
    the first policy); ``real-only``, when run, is the control every other is also tested
    against. Plots show the median over seeds with its interquartile band (a binary metric:
    the share of seeds with the event and its exact interval); a metric with a target is
    plotted as its distance to the target.
    """
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
    control = default_control(list(cfg.policies))
    if control == baseline:
        control = None
    scenario = make_scenario(cfg.scenario, **cfg.options)
    cells = per_seed(rows)
    seeds = len({r["seed"] for r in rows})
    plotted = {**scenario.metrics, **{m: None for m in BOOKKEEPING}}
    for metric, better in plotted.items():
        if not any(key[1] == metric for key in cells):
            continue
        plot_metric(cells, list(cfg.policies), metric, better,
                    f"{cfg.scenario} ({seeds} seeds)",
                    out_dir / f"{cfg.scenario}_{metric}.png", anchors=[baseline, control],
                    binary=metric in scenario.binary_metrics)
    records = summary_records(rows, cfg.scenario, baseline, cfg.options, control=control)
    (run_dir / "summary.json").write_text(json.dumps(records, indent=1) + "\n")
    table_records, table = summary_table(rows, cfg.scenario, baseline=baseline, options=cfg.options, records=records)
    headline = headline_metrics(scenario)
    family = next((r["family_size"] for r in table_records if r.get("family_size")), None)
    (out_dir / "summary.md").write_text(_header(cfg, baseline, control, headline, family) + table + "\n",
                                        encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps({"config": json.loads(cfg_path.read_text()),
                                                      "baseline": baseline, "control": control,
                                                      "headline": headline, "summary": table_records},
                                                     indent=2) + "\n")
    return out_dir
