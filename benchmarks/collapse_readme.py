"""Write the README's collapse results from the benchmark results: tables and every claim with a number.

    python benchmarks/collapse_readme.py          # rewrite the section in README.md
    python benchmarks/collapse_readme.py --check  # exit 1 when README.md differs from the results

Reads benchmarks/results/collapse_mitigations.json (last-generation records per scenario,
written by collapse_mitigations.py), collapse_two_class.json (collapse_two_class.py),
collapse_phase.json (collapse_phase.py: the λ x n phase table), collapse_vae.json and
collapse_lstm.json (collapse_vae.py, collapse_lstm.py: the torch scenarios with their
published anchors), and replaces the text between ``<!-- collapse-results:begin -->`` and
``<!-- collapse-results:end -->`` in README.md. A sentence that says one policy does better
or worse than ``replace`` is written only when the Holm-adjusted paired p-value is below
0.05 *and* the 95% bootstrap interval of the mean per-seed difference excludes zero;
every other comparison is listed as not shown. Comparisons at a different real-data budget
say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BEGIN, END = "<!-- collapse-results:begin -->", "<!-- collapse-results:end -->"
ALPHA = 0.05


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.3g}"


def _rows(x: float | None) -> str:
    """Real rows per generation: whole numbers with thousands separators, small means to 2 digits."""
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def significant(r: dict) -> bool:
    """The claim rule: adjusted p < 0.05 and the bootstrap interval of the difference excludes 0."""
    p, low, high = r.get("p_adjusted"), r.get("diff_ci_low"), r.get("diff_ci_high")
    return p is not None and p < ALPHA and low is not None and high is not None and (low > 0 or high < 0)


def _direction(better: str) -> str:
    if better in ("higher", "lower"):
        return f"{better} is better"
    return f"closer to {better.split(':', 1)[1]} is better"


def _versus(r: dict) -> str:
    if r["policy"] == r["baseline"]:
        return "baseline"
    if r.get("p_adjusted") is None:
        return "n/a"
    word = ("**better**" if r["diff_ci_low"] > 0 else "**worse**") if significant(r) else "n.s."
    return f"{word}, p={r['p_adjusted']:.2g}"


def scenario_section(scenario: str, x: dict, extra: tuple[str, ...] = ()) -> tuple[str, list[str], list[str]]:
    """The last generation's table of ``scenario`` (its tail and quality metrics, then ``extra``), its claims
    and the comparisons withheld."""
    from synthfilter.collapse.scenarios import make_scenario

    options = {k: v for k, v in x["config"].items() if k not in ("generations", "seeds")}
    scn = make_scenario(scenario, **options)
    metrics = [scn.tail_metric, scn.quality_metric, *extra]
    records = x["summary"]
    gens, seeds = x["config"]["generations"], x["config"]["seeds"]
    head = (f"**{scenario}** ({gens} generations, {seeds} seeds, n={x['config']['n']}); at generation {gens}: "
            f"mean over seeds [95% bootstrap interval] and the paired comparison with `replace` "
            f"(Holm-adjusted Wilcoxon p); metrics with a target are compared by their distance to it, "
            f"the absolute log ratio\n\n"
            "| policy | real rows / generation | " + " | ".join(f"{m} ({_direction(scn.metrics[m])})" for m in metrics)
            + " |\n|---|---|" + "---|" * len(metrics))
    lines, claims, withheld = [head], [], []
    base_rows = next((r["real_rows"] for r in records if r["policy"] == r["baseline"]), None)
    for policy in dict.fromkeys(r["policy"] for r in records):
        mine = {r["metric"]: r for r in records if r["policy"] == policy}
        if not all(m in mine for m in metrics):
            continue
        first = mine[metrics[0]]
        budget = first["real_rows"]
        flag = "" if policy == first["baseline"] or first["same_budget"] in (True, None) else " (≠ replace)"
        cells = [f"{_rows(budget)}{flag}"]
        found = []
        for m in metrics:
            r = mine[m]
            cells.append(f"{_fmt(r['last_mean'])} [{_fmt(r['last_ci_low'])}, {_fmt(r['last_ci_high'])}]; {_versus(r)}")
            if policy == r["baseline"] or r.get("p_adjusted") is None:
                continue
            if significant(r):
                word = "better" if r["diff_ci_low"] > 0 else "worse"
                found.append(f"{word} on {m} (improvement in {_unit(scn.metrics[m])} {_fmt(r['diff_mean'])} "
                             f"[{_fmt(r['diff_ci_low'])}, {_fmt(r['diff_ci_high'])}], adjusted p = {r['p_adjusted']:.2g})")
            else:
                withheld.append(f"{scenario} `{policy}` on {m}")
        if found:
            budget_note = (f"; {_rows(budget)} real rows per generation against replace's {_rows(base_rows)}"
                           if first["same_budget"] is False else "")
            claims.append(f"- {scenario}, generation {gens}, {first['seeds']} seeds: `{policy}` does "
                          + " and ".join(found) + f" than `replace`{budget_note}.")
        lines.append(f"| `{policy}` | " + " | ".join(cells) + " |")
    return "\n".join(lines), claims, withheld


def _unit(better: str) -> str:
    return "absolute log ratio" if better.startswith("target:") else "the metric"


def two_class_section(r: dict) -> str:
    cfg = r["config"]
    gens = [g for g in (1, 10, 25, 50, 100, cfg["generations"]) if g <= cfg["generations"]]
    gens = list(dict.fromkeys(gens))
    rows = {(x["policy"], x["generation"]): x for x in r["minority_lost"]}
    lines = [f"**Two classes, 90% / 10%** (`categorical`, categories=2, zipf=3.17, n={cfg['n']}, "
             f"{cfg['seeds']} seeds): probability that the 10% class is lost (the model gives it probability 0), "
             "with 95% bootstrap intervals", "",
             "| policy | real rows / generation | " + " | ".join(f"gen {g}" for g in gens) + " |",
             "|---|---|" + "---|" * len(gens)]
    for policy in r["policies"]:
        cells = []
        for g in gens:
            x = rows.get((policy, g))
            cells.append(f"{x['mean']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}]" if x else "")
        budget = rows.get((policy, gens[-1]), {}).get("real_rows")
        lines.append(f"| `{policy}` | {_rows(budget)} | " + " | ".join(cells) + " |")
    last = cfg["generations"]
    claims = []
    for policy in r["policies"]:
        x = rows.get((policy, last))
        if x and policy != r["baseline"] and significant(x):
            word = "less" if x["diff_ci_low"] > 0 else "more"
            claims.append(f"- two classes: `{policy}` loses the minority {word} often than `replace` by generation "
                          f"{last} ({x['mean']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}] against "
                          f"{rows[(r['baseline'], last)]['mean']:.3f}; adjusted p = {x['p_adjusted']:.2g}).")
    fixed, fresh = rows.get(("keep-real-fixed:0.1", last)), rows.get(("keep-real:0.1", last))
    if fixed and fresh and (fixed["ci_low"] > fresh["ci_high"] or fresh["ci_low"] > fixed["ci_high"]):
        claims.append(f"- two classes, same real-data budget: a fixed 10% real subset (`keep-real-fixed:0.1`) loses "
                      f"the minority by generation {last} in {fixed['mean']:.1%} of seeds "
                      f"[{fixed['ci_low']:.1%}, {fixed['ci_high']:.1%}], a fresh hash-chosen 10% each generation "
                      f"(`keep-real:0.1`) in {fresh['mean']:.1%} [{fresh['ci_low']:.1%}, {fresh['ci_high']:.1%}] "
                      "(non-overlapping intervals).")
    return "\n".join(lines) + ("\n\nWhat the two-class run supports:\n\n" + "\n".join(claims) if claims else "")


def phase_section(r: dict) -> str:
    """The λ x n table of every scenario of collapse_phase.json: mean [95% interval] at the last generation."""
    lambdas, gens = r["lambdas"], r["generations"]
    lines = [f"**Phase diagram** (`benchmarks/collapse_phase.py`, after Bertrand et al., ICLR 2024): each generation "
             f"trains on k = round(λ n) fresh real rows and n - k rows sampled from the previous model "
             f"(policy `fresh-real:λ`; `fresh-real:0` is `replace`). The metric at generation {gens}, mean over seeds "
             "[95% bootstrap interval] and median (a mean near 1 can hide seeds that lost the minority mode and seeds "
             "that inflated it); for `gaussian`, the expected variance of the exact recursion derived in the "
             "script follows as (theory ...). A cell marked k=... ran fewer real rows than λ n (rounding). "
             "Heatmaps: `benchmarks/results/collapse/phase/`."]
    for scenario, x in r["scenarios"].items():
        metric = r["headline"][scenario]
        lines += ["", f"{scenario}: `{metric}` (target 1) at generation {gens}, {r['seeds'][scenario]} seeds", "",
                  "| n / λ | " + " | ".join(f"{lam:g}" for lam in lambdas) + " |", "|---|" + "---|" * len(lambdas)]
        for n in r["sizes"]:
            cells = []
            for lam in lambdas:
                c = next(c for c in x["cells"] if c["n"] == n and c["lambda"] == lam)
                m = c[metric]
                text = f"{_fmt(m['mean'])} [{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]; median {_fmt(m['median'])}"
                if "theory_variance" in c:
                    text += f" (theory {_fmt(c['theory_variance'])})"
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
    """A torch scenario's table, its published anchor, its run time and (when reduced) what was run and why."""
    scenario, extra = NEURAL[name]
    table, claims, withheld = scenario_section(scenario, x, extra)
    notes = [f"Anchor: {x['anchor']['line']}.",
             f"Run time: {x['seconds_per_generation']} s per generation (fit, evaluate, sample) on one thread"
             + (f" of {x['cpu_count']} cores shared with other jobs (5-minute load average "
                f"{x['load_average_5min'][0]:g} before, {x['load_average_5min'][1]:g} after)."
                if "load_average_5min" in x else ".")]
    seeds, compared = x["config"]["seeds"], len(x["policies"]) - 1
    best = compared * 2.0 / 2 ** seeds  # Holm's smallest adjusted p: m x the exact test's smallest p
    if best >= ALPHA:
        notes.append(f"With {seeds} seeds the smallest two-sided exact Wilcoxon p is 2 / 2^{seeds} = "
                     f"{2.0 / 2 ** seeds:.3g}, {_fmt(best)} after Holm's correction over {compared} comparisons, so no "
                     "comparison with `replace` can pass the claim rule here; the intervals are the evidence.")
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


def render() -> str:
    parts = ["_This section is generated by `python benchmarks/collapse_readme.py` from "
             "`benchmarks/results/collapse_mitigations.json`, `collapse_two_class.json`, `collapse_phase.json`, "
             "`collapse_vae.json` and `collapse_lstm.json`; do not edit it by hand._"]
    mitigations = RESULTS / "collapse_mitigations.json"
    claims, withheld = [], []
    if mitigations.exists():
        for scenario, x in json.loads(mitigations.read_text()).items():
            table, c, w = scenario_section(scenario, x)
            parts.append(table)
            claims += c
            withheld += w
    for name in NEURAL:
        path = RESULTS / name
        if path.exists():
            table, c, w = neural_section(name, json.loads(path.read_text()))
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
        parts.append("What the mitigation runs support (adjusted p < 0.05 and a bootstrap interval of the "
                     "mean per-seed difference that excludes 0; all others are not claimed):\n\n" + "\n".join(claims))
    if withheld:
        parts.append(f"Not claimed ({len(withheld)} comparisons with `replace` that do not pass the rule): "
                     + "; ".join(withheld) + ".")
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when README.md differs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks._proc import rewrite_readme_section

    return rewrite_readme_section(BEGIN, END, render(), args.check, "collapse", "python benchmarks/collapse_readme.py")

if __name__ == "__main__":
    sys.exit(main())
