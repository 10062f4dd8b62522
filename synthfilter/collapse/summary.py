"""The statistics of a collapse run: per policy, metric and generation, and the last generation's tables.

:func:`summary_records` (written to ``RUN/summary.json``) gives, per policy, metric and
generation, the mean over seeds with its interval (:func:`~synthfilter.collapse.stats.mean_interval`;
an event rate with its exact interval for a binary metric), the median with its
interquartile range, the real rows read, and two paired comparisons on the same seeds
(:func:`~synthfilter.collapse.stats.paired_test`): against the *baseline* (``replace``, no
mitigation) and against the *control* (``real-only``: the same generation-0 real rows and
no generated data), each named by its test and carrying the estimate that test is about.

Holm's correction runs over the family a claim is drawn from. The claims of a run are the
last generation's comparisons on the scenario's headline metrics (its tail and quality
metric): that is one family per reference policy (every other policy x every headline
metric). Every other (metric, generation) is its own family (exploratory; nothing is claimed
from it). Each record names its family and its size.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from .directions import badness, check_better, generations_to_degrade, target_of
from .metrics import curve_auc
from .results import dedupe_rows
from .scenarios import Scenario, make_scenario
from .stats import holm, mean_interval, paired_test, rate_interval

__all__ = ["aggregate", "summary_records", "summary_table", "default_baseline", "default_control", "headline_metrics",
           "significant", "versus_word", "fmt_number", "fmt_rows", "ALPHA", "CONTROL"]

_BOOKKEEPING = {"policy", "seed", "generation"}
# distances start near 0 at generation 0, so "50% worse than generation 0" says nothing for them
_NO_DEGRADE = {"w2", "sliced_w2", "kl_real_model", "js", "nll_real"}
#: the significance level of every claim (after Holm's correction)
ALPHA = 0.05
#: the control policy: generation 0's real rows alone, every generation
CONTROL = "real-only"


def default_baseline(policies: list[str]) -> str:
    """``replace`` when it is among ``policies`` (the no-mitigation control), else the first policy."""
    return "replace" if "replace" in policies else policies[0]


def default_control(policies: list[str]) -> str | None:
    """``real-only`` when it is among ``policies``, else ``None`` (no control comparison)."""
    return CONTROL if CONTROL in policies else None


def headline_metrics(scn: Scenario) -> list[str]:
    """The scenario's tail metric and quality metric: the metrics a run's claims are made on."""
    return list(dict.fromkeys(m for m in (scn.tail_metric, scn.quality_metric) if m))


def significant(r: dict[str, Any], prefix: str = "") -> bool:
    """The claim rule: a Holm-adjusted p below :data:`ALPHA` and a non-zero estimate (its sign is the direction)."""
    p, estimate = r.get(prefix + "p_adjusted"), r.get(prefix + "estimate")
    return p is not None and p < ALPHA and estimate is not None and float(estimate) != 0


def versus_word(r: dict[str, Any], prefix: str = "") -> str:
    """``better``, ``worse`` (by the claim rule) or ``n.s.``; an infinite estimate is stored as ``"inf"``/``"-inf"``."""
    if not significant(r, prefix):
        return "n.s."
    return "better" if float(r[prefix + "estimate"]) > 0 else "worse"


def fmt_number(x: float | None) -> str:
    """Three significant digits; thousands separators from 1,000; scientific only below 0.001 or from 1e7."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    if np.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e7):
        return f"{x:.2e}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fmt_rows(x: float | None) -> str:
    """A count of rows: whole numbers with thousands separators, small means to two digits."""
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x >= 10 or float(x).is_integer() else f"{x:.2g}"


def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """``{policy: {metric: array (generations, 3)}}`` of 25th percentile, median, 75th percentile.

    Each (policy, seed, generation) counts once: repeated rows are dropped (:func:`dedupe_rows`).
    """
    cells: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in dedupe_rows(rows):
        for key, value in row.items():
            if key not in _BOOKKEEPING and isinstance(value, (int, float)) and not isinstance(value, bool):
                cells[row["policy"]][key][row["generation"]].append(float(value))
    out: dict[str, dict[str, np.ndarray]] = {}
    for policy, metrics in cells.items():
        out[policy] = {}
        for metric, by_gen in metrics.items():
            out[policy][metric] = np.array([np.nanpercentile(by_gen[g], [25, 50, 75]) if np.isfinite(by_gen[g]).any()
                                            else [np.nan] * 3 for g in sorted(by_gen)])
    return out


def per_seed(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[int, float]]:
    """``{(policy, metric, generation): {seed: value}}`` of every numeric field."""
    out: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    for row in rows:
        for key, value in row.items():
            if key not in _BOOKKEEPING and isinstance(value, (int, float)) and not isinstance(value, bool):
                out[(row["policy"], key, row["generation"])][row["seed"]] = float(value)
    return out


def _mean_of(cells: dict, policy: str, field: str, generation: int) -> float | None:
    values = cells.get((policy, field, generation))
    return float(np.mean(list(values.values()))) if values else None


def _events(values: np.ndarray, better: str) -> np.ndarray:
    """A binary metric as its bad event: 1 where the outcome is the bad one (``lower``: 1; ``higher``: 0)."""
    return values if better == "lower" else 1.0 - values


def _describe(values: np.ndarray, binary: bool, seed: int) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    if binary:
        mean, low, high = rate_interval(int(finite.sum()), len(finite))
        interval = "clopper-pearson"
    else:
        mean, low, high, interval = mean_interval(finite, seed=seed)
    q25, med, q75 = np.percentile(finite, [25, 50, 75]) if len(finite) else [np.nan] * 3
    return {"mean": mean, "ci_low": low, "ci_high": high, "interval": interval, "median": float(med),
            "q25": float(q25), "q75": float(q75)}


def _compare(cells: dict, policy: str, reference: str, metric: str, generation: int, better: str,
             binary: bool) -> dict[str, Any]:
    mine, theirs = cells.get((policy, metric, generation), {}), cells.get((reference, metric, generation), {})
    common = sorted(set(mine) & set(theirs))
    a, b = np.array([mine[s] for s in common]), np.array([theirs[s] for s in common])
    if binary:
        result = paired_test(_events(a, better), _events(b, better), binary=True)
    else:
        result = paired_test(badness(a, better), badness(b, better))
    keys = ("test", "estimator", "estimate", "ci_low", "ci_high", "p_value", "effect", "n_pairs", "better", "worse")
    out = {k: result[k] for k in keys if k in result}
    out["estimate_ci_low"], out["estimate_ci_high"] = out.pop("ci_low"), out.pop("ci_high")
    if "better" in out:
        out["better_seeds"], out["worse_seeds"] = out.pop("better"), out.pop("worse")
    return out


def _adjust(records: list[dict[str, Any]], prefix: str, headline: list[str], last: int, reference: str) -> None:
    """Holm over each family of ``prefix`` comparisons (see the module docs); writes ``p_adjusted`` and the family."""
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get(prefix + "test") is None:
            continue
        r[prefix + "p_adjusted"], r[prefix + "family"], r[prefix + "family_size"] = None, None, None
        if not np.isfinite(r[prefix + "p_value"]):
            continue
        if r["generation"] == last and r["metric"] in headline:
            name = f"vs {reference}: generation {last}, headline metrics {', '.join(headline)}"
        else:
            name = f"vs {reference}: {r['metric']} at generation {r['generation']} (exploratory)"
        families[name].append(r)
    for name, group in families.items():
        for r, adjusted in zip(group, holm([r[prefix + "p_value"] for r in group])):
            r[prefix + "p_adjusted"] = adjusted
            r[prefix + "family"], r[prefix + "family_size"] = name, len(group)


def summary_records(rows: list[dict[str, Any]], scenario: str, baseline: str | None = None,
                    options: dict[str, Any] | None = None, control: str | None = "auto") -> list[dict[str, Any]]:
    """One record per (policy, metric, generation) of the scenario's metrics; see the module docs.

    Fields: ``policy``, ``metric``, ``generation``, ``better``, ``binary`` (a 0/1 outcome per
    seed), ``n_seeds``, ``mean`` with ``ci_low``/``ci_high`` and ``interval`` (``t``, ``bca``,
    ``exact``, or ``clopper-pearson`` for an event rate), ``median``, ``q25``, ``q75``,
    ``real_rows`` (mean real rows read that generation), ``real_rows_distinct`` (mean distinct
    real rows read so far), ``baseline``, ``same_budget`` (the same distinct real rows as the
    baseline), and the comparison with the baseline: ``test`` (its name), ``estimator``,
    ``estimate`` with ``estimate_ci_low``/``estimate_ci_high`` (positive = better than the
    baseline), ``p_value``, ``p_adjusted`` (Holm over ``family``, of ``family_size``
    comparisons), ``effect``, and for a binary metric ``better_seeds``/``worse_seeds`` (the
    discordant seeds). ``control`` (default: ``real-only`` when run) adds the same fields
    prefixed ``control_`` for the comparison with it, and ``control_same_budget``. The
    reference policy's own record has no comparison fields (``None``).
    """
    rows = dedupe_rows(rows)
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    baseline = baseline or default_baseline(policies)
    if baseline not in policies:
        raise ValueError(f"baseline {baseline!r} is not among the run's policies {policies}")
    control = default_control(policies) if control == "auto" else control
    if control is not None and control not in policies:
        raise ValueError(f"control {control!r} is not among the run's policies {policies}")
    scn = make_scenario(scenario, **(options or {}))
    cells = per_seed(rows)
    generations = sorted({r["generation"] for r in rows})
    binary_metrics = scn.binary_metrics
    records = []
    for metric, better in scn.metrics.items():
        check_better(better)
        binary = metric in binary_metrics
        for gen in generations:
            for policy in policies:
                by_seed = cells.get((policy, metric, gen))
                if not by_seed:
                    continue
                values = np.array(list(by_seed.values()))
                record: dict[str, Any] = {"policy": policy, "metric": metric, "generation": gen, "better": better,
                                          "binary": binary, "n_seeds": len(by_seed),
                                          **_describe(_events(values, better) if binary else values, binary, gen),
                                          "real_rows": _mean_of(cells, policy, "real_rows", gen),
                                          "real_rows_distinct": _mean_of(cells, policy, "real_rows_distinct", gen),
                                          "baseline": baseline, "control": control}
                for prefix, reference in (("", baseline), ("control_", control)):
                    if reference is None:
                        continue
                    own, theirs = record["real_rows_distinct"], _mean_of(cells, reference, "real_rows_distinct", gen)
                    record[prefix + "same_budget"] = None if own is None or theirs is None else own == theirs
                    if policy != reference and cells.get((reference, metric, gen)):
                        test = _compare(cells, policy, reference, metric, gen, better, binary)
                        record.update({prefix + k: v for k, v in test.items()})
                    else:
                        record.update({prefix + k: None for k in ("test", "estimate", "p_value", "p_adjusted",
                                                                  "family", "family_size")})
                records.append(record)
    headline = headline_metrics(scn)
    _adjust(records, "", headline, generations[-1], baseline)
    if control is not None:
        _adjust(records, "control_", headline, generations[-1], control)
    return [_json_safe(r) for r in records]


def _json_safe(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities as ``None`` (JSON has neither), except infinite estimates, kept as strings."""
    out = {}
    for k, v in record.items():
        if isinstance(v, (float, np.floating)) and not np.isfinite(v):
            v = ("inf" if v > 0 else "-inf") if np.isinf(v) and k.endswith(("estimate", "ci_low", "ci_high")) else None
        out[k] = v
    return out


def _as_float(x: Any) -> float | None:
    """A record value back as a number (``"inf"``/``"-inf"`` strings are infinities)."""
    if x is None:
        return None
    return float(x)


def _direction(better: str) -> str:
    target = target_of(better)
    if target is None:
        return f"{better} is better"
    return f"closer to {target:g} is better (its distance |log(value / {target:g})| is tested)" if target else \
        "closer to 0 is better (its distance |value| is tested)"


def _versus_cell(r: dict[str, Any], prefix: str) -> str:
    if r.get(prefix + "test") is None:
        return "reference" if r["policy"] == r.get("baseline" if not prefix else "control") else "n/a"
    p = r.get(prefix + "p_adjusted")
    word = versus_word(r, prefix)
    word = f"**{word}**" if word != "n.s." else word
    if r["binary"]:
        stat = f"{r[prefix + 'better_seeds']} better / {r[prefix + 'worse_seeds']} worse seeds"
    else:
        stat = (f"{fmt_number(_as_float(r[prefix + 'estimate']))} [{fmt_number(_as_float(r[prefix + 'estimate_ci_low']))}, "
                f"{fmt_number(_as_float(r[prefix + 'estimate_ci_high']))}]")
    return f"{word}: {stat}, p={'n/a' if p is None else f'{p:.2g}'}"


def _value_cell(r: dict[str, Any]) -> str:
    if r["binary"]:
        events = round(r["mean"] * r["n_seeds"]) if r["mean"] is not None else 0
        return f"{events} of {r['n_seeds']} seeds ({fmt_number(r['mean'])} [{fmt_number(r['ci_low'])}, " \
               f"{fmt_number(r['ci_high'])}])"
    return f"{fmt_number(r['median'])} [{fmt_number(r['q25'])}, {fmt_number(r['q75'])}]"


def metric_table(records: list[dict[str, Any]], metric: str, scenario: str, generation: int) -> str:
    """The Markdown table of one metric at one generation: value per policy, then the tested comparisons."""
    mine = [r for r in records if r["metric"] == metric and r["generation"] == generation]
    if not mine:
        return ""
    first = mine[0]
    baseline, control = first["baseline"], first.get("control")
    if first["binary"]:
        event = "the bad outcome" if first["better"] == "lower" else f"{metric} = 0"
        what = (f"seeds with {event} (rate [exact 95% interval]); compared by the exact McNemar test on the "
                "discordant seeds")
    else:
        what = (f"median over seeds [interquartile range], {_direction(first['better'])}; compared by the "
                "Wilcoxon signed-rank test, shown with its Hodges-Lehmann estimate of the improvement [95% interval]")
    head = f"**{scenario}: `{metric}`** at generation {generation}: {what}; p Holm-adjusted over the claims' family"
    cols = ["policy", "real rows read / generation", "distinct real rows", "value", f"vs `{baseline}`"]
    if control:
        cols.append(f"vs `{control}` (same real rows, no generated data)")
    lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in mine:
        cells = [f"`{r['policy']}`", fmt_rows(r["real_rows"]), fmt_rows(r["real_rows_distinct"]), _value_cell(r),
                 _versus_cell(r, "")]
        if control:
            cells.append(_versus_cell(r, "control_"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_table(rows: list[dict[str, Any]], scenario: str, metrics: list[str] | None = None,
                  degrade_fraction: float = 0.5, baseline: str | None = None,
                  options: dict[str, Any] | None = None,
                  records: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], str]:
    """The last generation, per policy and metric (default: the headline metrics): records and Markdown tables.

    Each record is the last generation's :func:`summary_records` record with ``seeds``,
    ``last_mean``/``last_ci_low``/``last_ci_high``, ``last_median``/``last_q25``/``last_q75``,
    ``auc_median`` (the median curve's mean over generations) and ``generations_to_degrade``
    (the first generation whose median is worse than generation 0 by ``degrade_fraction``, see
    :func:`~synthfilter.collapse.directions.generations_to_degrade`; ``None`` if never or not
    meaningful). ``records``: the run's :func:`summary_records`, when already computed.
    """
    rows = dedupe_rows(rows)
    scn = make_scenario(scenario, **(options or {}))
    metrics = metrics or headline_metrics(scn)
    full = records if records is not None else summary_records(rows, scenario, baseline, options)
    last = max(r["generation"] for r in rows)
    agg = aggregate(rows)
    reference = full[0]["baseline"] if full else (baseline or default_baseline(list(agg)))
    policies = sorted(agg, key=lambda p: (p != reference, p != CONTROL, p))
    out = []
    for metric in metrics:
        for policy in policies:
            curve = agg[policy].get(metric)
            end = next((r for r in full if r["policy"] == policy and r["metric"] == metric
                        and r["generation"] == last), None)
            if curve is None or end is None:
                continue
            out.append({**end, "seeds": end["n_seeds"], "last_mean": end["mean"], "last_ci_low": end["ci_low"],
                        "last_ci_high": end["ci_high"], "last_median": end["median"], "last_q25": end["q25"],
                        "last_q75": end["q75"], "auc_median": curve_auc(curve[:, 1]),
                        "generations_to_degrade": None if metric in _NO_DEGRADE else
                        generations_to_degrade(curve[:, 1], scn.metrics[metric], degrade_fraction)})
    tables = [metric_table(out, m, scenario, last) for m in metrics]
    return out, "\n\n".join(t for t in tables if t)
