"""Write the collapse results onto docs/benchmarks/collapse.md from the benchmark results: tables and every claim.

    python benchmarks/collapse_readme.py [--docs]  # rewrite the sections (docs/benchmarks/collapse.md, README.md)
    python benchmarks/collapse_readme.py --check   # exit 1 when a page differs from the results

Reads benchmarks/results/collapse_demo.json (``collapse_demo.py``: the README's main job,
timed, with what it showed), collapse_mitigations.json (last-generation records per
scenario, written by collapse_mitigations.py), collapse_two_class.json
(collapse_two_class.py), collapse_phase.json (collapse_phase.py: the λ x n phase table),
collapse_vae.json and collapse_lstm.json (collapse_vae.py, collapse_lstm.py: the torch
scenarios with their published anchors), and replaces the text between
``<!-- collapse-results:begin -->`` and ``<!-- collapse-results:end -->`` (and the demo's
measured time in the set-up, between ``<!-- collapse-demo-time:begin -->`` and
``<!-- collapse-demo-time:end -->``, and the anchors table from collapse_anchors.json between
``<!-- collapse-anchors:begin -->`` and ``<!-- collapse-anchors:end -->``) of the page holding them
(``benchmarks/_proc.py: section_page``).

The tables are :func:`synthfilter.collapse.summary.metric_table`'s: per policy the value
over seeds, then the paired comparison with ``replace`` and with the ``real-only`` control,
each showing the statistic its test is about. A sentence that says one policy does better
or worse than ``replace`` is written only when the Holm-adjusted p-value (over the run's
family of headline comparisons) is below 0.05; every other comparison is listed as not
shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BEGIN, END = "<!-- collapse-results:begin -->", "<!-- collapse-results:end -->"
TIME_BEGIN, TIME_END = "<!-- collapse-demo-time:begin -->", "<!-- collapse-demo-time:end -->"
ANCHORS_BEGIN, ANCHORS_END = "<!-- collapse-anchors:begin -->", "<!-- collapse-anchors:end -->"
ALPHA = 0.05

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from synthfilter.collapse.demo import budget_sentence  # noqa: E402
from synthfilter.collapse.scenarios import make_scenario  # noqa: E402
from synthfilter.collapse.summary import fmt_number, fmt_rows, metric_table, versus_word  # noqa: E402


def significant(r: dict) -> bool:
    """The claim rule: a Holm-adjusted p below 0.05 and a non-zero estimate (its sign says better or worse)."""
    p, estimate = r.get("p_adjusted"), r.get("estimate")
    return p is not None and p < ALPHA and estimate is not None and float(estimate) != 0


def _options(x: dict) -> dict:
    return {k: v for k, v in x["config"].items() if k not in ("generations", "seeds")}


def _estimate(r: dict) -> str:
    if r.get("binary"):
        return f"{r['better_seeds']} seeds better, {r['worse_seeds']} worse"
    unit = "absolute log ratio" if r["better"].startswith("target:") else "the metric"
    return (f"improvement in {unit} {fmt_number(float(r['estimate']))} [{fmt_number(float(r['estimate_ci_low']))}, "
            f"{fmt_number(float(r['estimate_ci_high']))}]")


def scenario_section(scenario: str, x: dict, extra: tuple[str, ...] = ()) -> tuple[str, list[str], list[str]]:
    """The last generation's tables of ``scenario`` (its tail and quality metrics, then ``extra``), its claims
    and the comparisons withheld."""
    scn = make_scenario(scenario, **_options(x))
    metrics = [scn.tail_metric, scn.quality_metric, *extra]
    records = [r for r in x["summary"] if r["metric"] in metrics]
    gens, seeds = x["config"]["generations"], x["config"]["seeds"]
    head = (f"**{scenario}** ({gens} generations, {seeds} seeds, n={x['config']['n']})"
            + (f"; ran in {x['wall_seconds']:,.0f} s ({x['cpu_seconds']:,.0f} s of CPU)" if "wall_seconds" in x else ""))
    tables = [metric_table(records, m, scenario, gens) for m in metrics]
    claims, withheld = [], []
    for policy in dict.fromkeys(r["policy"] for r in records):
        mine = {r["metric"]: r for r in records if r["policy"] == policy}
        found = []
        for m in metrics:
            r = mine.get(m)
            if r is None or r.get("test") is None:
                continue
            if significant(r):
                word = "better" if float(r["estimate"]) > 0 else "worse"
                found.append(f"{word} on {m} ({_estimate(r)}, adjusted p = {r['p_adjusted']:.2g})")
            else:
                withheld.append(f"{scenario} `{policy}` on {m}")
        if found:
            first = next(iter(mine.values()))
            control = ""
            if first.get("control") and policy != first["control"]:
                words = {m: versus_word(mine[m], "control_") for m in metrics if mine.get(m) and
                         mine[m].get("control_test")}
                control = "; against `real-only`: " + ", ".join(f"{w} on {m}" for m, w in words.items())
            claims.append(f"- {scenario}, generation {gens}, {seeds} seeds: `{policy}` does " + " and ".join(found)
                          + f" than `replace` ({fmt_rows(first['real_rows'])} real rows read per generation, "
                          f"{fmt_rows(first['real_rows_distinct'])} distinct over the run){control}.")
    return "\n\n".join([head, *[t for t in tables if t]]), claims, withheld


def two_class_section(r: dict) -> str:
    cfg = r["config"]
    gens = [g for g in (1, 10, 25, 50, 100, cfg["generations"]) if g <= cfg["generations"]]
    gens = list(dict.fromkeys(gens))
    rows = {(x["policy"], x["generation"]): x for x in r["minority_lost"]}
    last = cfg["generations"]
    lines = [f"**Two classes, 90% / 10%** (`categorical`, categories=2, zipf=3.17, n={cfg['n']}, "
             f"{cfg['seeds']} seeds): share of seeds where the 10% class is lost (the model gives it probability 0), "
             f"with exact 95% intervals; at generation {last}, the exact McNemar test on the discordant seeds against "
             "`replace`, Holm-adjusted over the run's headline comparisons", "",
             "| policy | real rows read / generation | distinct real rows by gen " + str(last) + " | "
             + " | ".join(f"gen {g}" for g in gens) + f" | vs `replace` at gen {last} |",
             "|---|---|---|" + "---|" * (len(gens) + 1)]
    for policy in r["policies"]:
        cells = []
        for g in gens:
            x = rows.get((policy, g))
            cells.append(f"{x['mean']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}]" if x else "")
        end = rows.get((policy, last), {})
        versus = ("reference" if policy == r["baseline"] else
                  f"{end['better_seeds']} better / {end['worse_seeds']} worse seeds, p={end['p_adjusted']:.2g}"
                  if end.get("test") else "n/a")
        lines.append(f"| `{policy}` | {fmt_rows(end.get('real_rows'))} | {fmt_rows(end.get('real_rows_distinct'))} | "
                     + " | ".join(cells) + f" | {versus} |")
    claims = []
    for policy in r["policies"]:
        x = rows.get((policy, last))
        if x and policy != r["baseline"] and significant(x):
            word = "less" if x["estimate"] > 0 else "more"
            claims.append(f"- two classes: `{policy}` loses the minority {word} often than `replace` by generation "
                          f"{last} ({x['mean']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}] against "
                          f"{rows[(r['baseline'], last)]['mean']:.3f}; {x['better_seeds']} seeds better, "
                          f"{x['worse_seeds']} worse; exact McNemar, adjusted p = {x['p_adjusted']:.2g}).")
    fixed, fresh = rows.get(("keep-real-fixed:0.1", last)), rows.get(("keep-real:0.1", last))
    if fixed and fresh and (fixed["ci_low"] > fresh["ci_high"] or fresh["ci_low"] > fixed["ci_high"]):
        claims.append(f"- two classes, same real-data budget: a fixed 10% real subset (`keep-real-fixed:0.1`) loses "
                      f"the minority by generation {last} in {fixed['mean']:.1%} of seeds "
                      f"[{fixed['ci_low']:.1%}, {fixed['ci_high']:.1%}], a fresh hash-chosen 10% each generation "
                      f"(`keep-real:0.1`) in {fresh['mean']:.1%} [{fresh['ci_low']:.1%}, {fresh['ci_high']:.1%}] "
                      "(non-overlapping exact intervals).")
    return "\n".join(lines) + ("\n\nWhat the two-class run supports:\n\n" + "\n".join(claims) if claims else "")


def phase_section(r: dict) -> str:
    """The λ x n table of every scenario of collapse_phase.json: mean [95% interval] at the last generation."""
    lambdas, gens = r["lambdas"], r["generations"]
    lines = [f"**Phase diagram** (`benchmarks/collapse_phase.py`, after Bertrand et al., ICLR 2024): each generation "
             f"trains on k = round(λ n) fresh real rows and n - k rows sampled from the previous model "
             f"(policy `fresh-real:λ`; `fresh-real:0` is `replace`). The metric at generation {gens}, mean over seeds "
             "[95% interval: Student's t below 12 seeds, BCa bootstrap from 12] and median (a mean near 1 can hide "
             "seeds that lost the minority mode and seeds that inflated it); for `gaussian`, the expected variance "
             "of the exact recursion derived in the script follows as (theory ...). A cell marked k=... ran fewer "
             "real rows than λ n (rounding). Heatmaps: `benchmarks/results/collapse/phase/`."]
    for scenario, x in r["scenarios"].items():
        metric = r["headline"][scenario]
        lines += ["", f"{scenario}: `{metric}` (target 1) at generation {gens}, {r['seeds'][scenario]} seeds", "",
                  "| n / λ | " + " | ".join(f"{lam:g}" for lam in lambdas) + " |", "|---|" + "---|" * len(lambdas)]
        for n in r["sizes"]:
            cells = []
            for lam in lambdas:
                c = next(c for c in x["cells"] if c["n"] == n and c["lambda"] == lam)
                m = c[metric]
                text = (f"{fmt_number(m['mean'])} [{fmt_number(m['ci_low'])}, {fmt_number(m['ci_high'])}]; "
                        f"median {fmt_number(m['median'])}")
                if "theory_variance" in c:
                    text += f" (theory {fmt_number(c['theory_variance'])})"
                if c["k_real"] != lam * n:
                    text += f"; k={c['k_real']}"
                cells.append(text)
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        theory = [c for c in x["cells"] if "theory_variance" in c]
        if theory:
            inside = sum(c[metric]["ci_low"] <= c["theory_variance"] <= c[metric]["ci_high"] for c in theory)
            lines += ["", f"The theory's expected variance lies inside the 95% interval of the mean in {inside} of "
                          f"{len(theory)} cells."]
    return "\n".join(lines)


#: result file -> (scenario, metrics shown beside its tail and quality metrics)
NEURAL = {"collapse_vae.json": ("vae", ("latent_std",)), "collapse_lstm.json": ("lstm", ())}


def neural_section(name: str, x: dict) -> tuple[str, list[str], list[str]]:
    """A torch scenario's tables, its published anchor, its run time and (when reduced) what was run and why."""
    scenario, extra = NEURAL[name]
    table, claims, withheld = scenario_section(scenario, x, extra)
    notes = [f"Anchor: {x['anchor']['line']}.",
             f"Run time: {x['seconds_per_generation']} CPU seconds per generation (fit, evaluate, sample) on one "
             f"thread; {x['seconds']:,.0f} s wall with {x.get('workers', 1)} worker process(es) on {x['cpu_count']} "
             f"cores shared with other jobs (5-minute load average {x['load_average_5min'][0]:g} before, "
             f"{x['load_average_5min'][1]:g} after)."]
    seeds = x["config"]["seeds"]
    family = next((r["family_size"] for r in x["summary"] if r.get("family_size")), None)
    if family and family * 2.0 / 2 ** seeds >= ALPHA:
        notes.append(f"With {seeds} seeds the smallest two-sided exact Wilcoxon p is 2 / 2^{seeds} = "
                     f"{2.0 / 2 ** seeds:.3g}, {fmt_number(family * 2.0 / 2 ** seeds)} after Holm's correction over "
                     f"the {family} headline comparisons, so no comparison can pass the claim rule: the table "
                     "describes, it does not test.")
    plan = x.get("plan")
    if plan:
        notes.append(f"One generation was timed first ({plan['one_generation_s']['total']:g} s), estimating "
                     f"{plan['estimate_s'] / 60:.0f} minutes for the run against a budget of "
                     f"{plan['budget_s'] / 60:.0f}.")
    if plan and plan.get("reduced"):
        asked = plan["asked"]
        notes.append(f"Reduced run: {asked['generations']} generations x {asked['seeds']} seeds were asked for; "
                     f"{x['config']['generations']} x {x['config']['seeds']} ran because {plan['why']}.")
    return table + "\n\n" + " ".join(notes), claims, withheld


def demo_section(d: dict) -> str:
    """The main job: what ``synthfilter collapse demo`` showed, from collapse_demo.json."""
    policies = [p for p in d["policies"] if p != "replace"]
    lines = [f"**The demo** (`synthfilter collapse demo`, timed by `python benchmarks/collapse_demo.py`; its index, "
             "overview plot and tables are in `benchmarks/results/collapse/demo/`): each scenario's headline (tail) "
             "metric at the last generation, every policy against `replace` on the same seeds (Wilcoxon "
             "signed-rank, or the exact McNemar test for a 0/1 outcome), Holm-adjusted over the run's "
             f"{_family(d)} headline comparisons. " + budget_sentence(d),
             "", "| scenario | seeds x generations | headline metric | `replace` | "
             + " | ".join(f"`{p}`" for p in policies) + " |", "|---|---|---|---|" + "---|" * len(policies)]
    for name, h in d["scenarios"].items():
        by = {r["policy"]: r for r in h["records"]}
        cells = []
        for p in policies:
            r = by[p]
            word = versus_word(r)
            cells.append(f"{_value(r)}; {'**' + word + '**' if word != 'n.s.' else word}, p={r['p_adjusted']:.2g}")
        lines.append(f"| [{name}](../../benchmarks/results/collapse/demo/{name}/report/summary.md) | {h['seeds']} x "
                     f"{h['generations']} | `{h['metric']}` ({_test_name(h)}) | "
                     f"{_value(by[h['baseline']])} | " + " | ".join(cells) + " |")
    shown = [name for name, h in d["scenarios"].items()
             if any(versus_word(r) == "better" for r in h["records"] if r["policy"] not in ("replace", "real-only"))]
    lines += ["", f"Values: the median over seeds (for `tail_lost`, the seeds that lost the minority). "
                  f"{len(shown)} of {len(d['scenarios'])} scenarios show at least one mitigation better than "
                  "`replace` at adjusted p < 0.05. Against the `real-only` control (the same real rows and no "
                  "generated data), see each scenario's `summary.md`: " + _control_words(d) + ".",
              "", demo_time(d)]
    return "\n".join(lines)


def _test_name(h: dict) -> str:
    """The name of the test a demo scenario's headline comparisons ran, without its detail in brackets."""
    return next(r["test"] for r in h["records"] if r.get("test")).split(" (")[0]


def _family(d: dict) -> str:
    sizes = {r["family_size"] for h in d["scenarios"].values() for r in h["records"] if r.get("family_size")}
    return " or ".join(str(s) for s in sorted(sizes))


def _value(r: dict) -> str:
    if r["binary"]:
        return f"{round(r['mean'] * r['n_seeds'])}/{r['n_seeds']} lost"
    return fmt_number(r["median"])


def _control_words(d: dict) -> str:
    words: dict[str, list[str]] = {"better": [], "worse": [], "n.s.": []}
    for name, h in d["scenarios"].items():
        for r in h["records"]:
            if r["policy"] not in ("replace", "real-only") and r.get("control_test"):
                words[versus_word(r, "control_")].append(f"{name} `{r['policy']}`")
    total = sum(len(v) for v in words.values())
    parts = [f"{len(words['n.s.'])} of {total} mitigation results are not shown different from it"]
    parts += [f"{len(words[w])} are {w} ({', '.join(words[w])})" for w in ("worse", "better") if words[w]]
    return ", ".join(parts)


def demo_time(d: dict) -> str:
    """The demo's measured time, as the set-up states it."""
    cores = d["cpu_count"]
    return (f"Measured: `synthfilter collapse demo` took {d['wall_seconds'] / 60:.1f} minutes of wall time and "
            f"{d['cpu_seconds'] / 60:.1f} minutes of CPU time on {cores} cores shared with other work (1-minute load "
            f"average {d['load_average_before'][0]:g} before, {d['load_average_after'][0]:g} after); on {cores} idle "
            f"cores expect about the CPU time / {cores} = {d['cpu_seconds'] / cores / 60:.1f} minutes plus a little "
            "for the reports (`python benchmarks/collapse_demo.py` re-measures it).")


def anchors_section(r: dict) -> str:
    """The published anchors (collapse_anchors.json): Gaussian variance, linear regression, W2, select-likely."""
    gens, seeds = r["generations"], r["seeds"]
    gauss = r["gaussian_variance_at_last_generation"]
    expected = {n: x["expected"] for n, x in gauss["replace"].items()}
    lines = [f"1-D Gaussian (sigma^2 = 1, maximum-likelihood refit), {gens} generations, {seeds} seeds per cell, "
             "beside Kazdan et al. 2024 (\"Collapse or Thrive?\"). Under `replace` the expected variance at generation "
             f"{gens} is (1 - 1/n)^{gens + 1} (generation 0 is itself fitted on n real rows): "
             + " / ".join(fmt_number(v) for v in expected.values())
             + " for n = " + " / ".join(expected) + "; its distribution is very skewed, so a "
             f"{seeds}-seed mean is noisy and the median is shown too. Interval: 95% BCa bootstrap of the mean over "
             "seeds; \"inside\" says whether the published mean (and, for `replace`, the expectation) lies in it.", "",
             "| policy | n | mean variance at gen 100 [95% interval] | median | published mean (Kazdan et al.) | "
             "expected | inside: published / expected |", "|---|---|---|---|---|---|---|"]
    inside = []
    for policy, cells in gauss.items():
        for n, x in cells.items():
            exp = x.get("expected")
            lines.append(f"| {policy} | {n} | {fmt_number(x['mean'])} [{fmt_number(x['ci_low'])}, "
                         f"{fmt_number(x['ci_high'])}] | {fmt_number(x['median'])} | {x['published_mean']:g} | "
                         f"{fmt_number(exp) if exp is not None else '-'} | "
                         f"{'yes' if x['published_inside'] else 'no'} / "
                         f"{('yes' if x['expected_inside'] else 'no') if exp is not None else '-'} |")
            inside.append(x["published_inside"])
    lin = r["linreg_excess_error_over_generation0"]
    at = list(lin["replace"]["mean_ratio_at"])[1:]
    lines += ["", f"{sum(inside)} of {len(inside)} published means lie inside the 95% interval of this run's mean.", "",
              "| linear regression (d=10, T=100) | " + " | ".join(f"gen {g}" for g in at) + " |",
              "|---|" + "---|" * len(at)]
    for policy in ("replace", "accumulate"):
        lines.append(f"| {policy}: mean test error over ideal | "
                     + " | ".join(f"{lin[policy]['mean_ratio_at'][g]:.2f}" for g in at) + " |")
    w2 = r["gaussian_w2_replace_n100"]
    sel = r["select_likely_vs_replace_median_variance"]
    lines += ["", f"Replace, linear regression: slope {lin['replace']['linear_slope']:.2f} per generation; accumulate "
                  f"levels at {lin['accumulate']['mean_ratio_at'][at[-1]]:.2f} (pi^2/6 = "
                  f"{lin['accumulate']['pi2_over_6']:.2f}).",
              "Gaussian n=100 replace, mean squared W2 to the real distribution: "
              + ", ".join(f"gen {g}: {v:.3f}" for g, v in w2["mean_w2_at"].items())
              + f"; linear fit R^2 = {w2['linear_r2']:.3f}.",
              "Median variance, select-likely vs replace (n=100): "
              + ", ".join(f"gen {g}: {fmt_number(sel['select-likely'][g])} vs {fmt_number(sel['replace'][g])}"
                          for g in sel["replace"]) + "."]
    return "\n".join(lines)


def current(x: dict) -> bool:
    """Whether a scenario's results carry per-generation records with the statistics this page shows (results
    written before the demo's statistics, issue 29, lack them and must be rerun)."""
    return bool(x.get("summary")) and all("generation" in r and "binary" in r for r in x["summary"])


def stale_note(script: str, scenarios: list[str]) -> str:
    return (f"_Not shown: the committed results of {', '.join(scenarios)} predate the statistics above (exact tests, "
            f"Holm over each claim's family, distinct real rows); rerun `python benchmarks/{script}` to show them._")


def render() -> str:
    parts = ["_This section is generated by `python benchmarks/collapse_readme.py` from "
             "`benchmarks/results/collapse_demo.json`, `collapse_mitigations.json`, `collapse_two_class.json`, "
             "`collapse_phase.json`, `collapse_vae.json` and `collapse_lstm.json`; do not edit it by hand._"]
    demo = RESULTS / "collapse_demo.json"
    if demo.exists():
        parts.append(demo_section(json.loads(demo.read_text())))
    mitigations = RESULTS / "collapse_mitigations.json"
    claims, withheld = [], []
    if mitigations.exists():
        stale = []
        for scenario, x in json.loads(mitigations.read_text()).items():
            if not current(x):
                stale.append(scenario)
                continue
            table, c, w = scenario_section(scenario, x)
            parts.append(table)
            claims += c
            withheld += w
        if stale:
            parts.append(stale_note("collapse_mitigations.py", stale))
    for name in NEURAL:
        path = RESULTS / name
        if path.exists():
            x = json.loads(path.read_text())
            if not current(x):
                parts.append(stale_note(name.replace("json", "py"), [NEURAL[name][0]]))
                continue
            table, c, w = neural_section(name, x)
            parts.append(table)
            claims += c
            withheld += w
    two = RESULTS / "collapse_two_class.json"
    if two.exists():
        parts.append(two_class_section(json.loads(two.read_text())))
    phase = RESULTS / "collapse_phase.json"
    if phase.exists():
        parts.append(phase_section(json.loads(phase.read_text())))
    if claims:
        parts.append("What the mitigation runs support (Holm-adjusted p < 0.05 over each run's headline comparisons; "
                     "all others are not claimed):\n\n" + "\n".join(claims))
    if withheld:
        parts.append(f"Not claimed ({len(withheld)} comparisons with `replace` that do not pass the rule): "
                     + "; ".join(withheld) + ".")
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="rewrite the sections (the default)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a page differs")
    args = parser.parse_args(argv)
    from benchmarks._proc import rewrite_docs_section

    command = "python benchmarks/collapse_readme.py"
    code = rewrite_docs_section(BEGIN, END, render(), args.check, "collapse", command)
    demo = RESULTS / "collapse_demo.json"
    if demo.exists():
        code |= rewrite_docs_section(TIME_BEGIN, TIME_END, demo_time(json.loads(demo.read_text())), args.check,
                                     "demo time", command)
    anchors = RESULTS / "collapse_anchors.json"
    if anchors.exists():
        code |= rewrite_docs_section(ANCHORS_BEGIN, ANCHORS_END, anchors_section(json.loads(anchors.read_text())),
                                     args.check, "collapse anchors", command)
    return code


if __name__ == "__main__":
    sys.exit(main())
