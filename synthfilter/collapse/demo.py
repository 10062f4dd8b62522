"""``synthfilter collapse demo``: a few scenarios x the main mitigations, with the power to show what it claims.

The demo runs :data:`DEMO` (four scenarios) with :data:`DEMO_POLICIES`: ``replace`` (no
mitigation), the ``real-only`` control (the same generation-0 real rows, no generated data)
and four mitigations built on the library's own transforms. Every policy reads the same
distinct real rows (generation 0's n), so every comparison is at a matched real-data budget.
Seeds and generations are chosen so that a consistent difference can pass Holm's correction
over the run's family of claims (with s seeds the smallest two-sided Wilcoxon p is
2 / 2**s); the full grid of policies stays available in ``synthfilter collapse run``.

It writes one run folder per scenario (``OUT/<name>/``, resumable, with its report) and
``OUT/index.md``, one screen saying what was shown: per scenario its headline metric,
each mitigation against ``replace`` and against the control, with the test and the
Holm-adjusted p, and the figures to look at (``OUT/overview.png`` first).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .plots import plot_overview
from .report import write_report
from .results import load_results
from .runner import RunConfig, run
from .scenarios import make_scenario
from .summary import ALPHA, CONTROL, fmt_number, per_seed, significant, versus_word

__all__ = ["DEMO", "DEMO_POLICIES", "run_demo", "write_index", "budget_sentence", "headline"]

#: the demo's policies: the baseline, the control, and four mitigations (every one reads generation 0's n real rows)
DEMO_POLICIES = ["replace", CONTROL, "accumulate", "keep-real:0.1", "quota:0.1", "tail:ref"]

#: the demo's scenarios; the headline metric of each is its scenario's tail metric
DEMO: list[dict[str, Any]] = [
    {"name": "gaussian", "scenario": "gaussian", "options": {"n": 100}, "generations": 20, "seeds": 20,
     "what": "1-D Gaussian refit by maximum likelihood: the tails thin as the variance shrinks"},
    {"name": "gmm", "scenario": "gmm", "options": {"n": 200}, "generations": 12, "seeds": 20,
     "what": "2-D mixture with a 5% minority mode: the minority mode drifts or is lost"},
    {"name": "categorical", "scenario": "categorical", "options": {"n": 1000}, "generations": 12, "seeds": 24,
     "what": "Zipf over 1,000 categories: the rarest categories, 20% of the mass, drift in mass or are lost"},
    {"name": "two-class", "scenario": "categorical", "options": {"n": 50, "categories": 2, "zipf": 3.17},
     "generations": 40, "seeds": 30, "what": "90% / 10% classes (Shumailov et al.): is the 10% class lost?"},
]


def run_demo(out: str | os.PathLike, workers: int | None = None, plan: list[dict[str, Any]] | None = None,
             policies: list[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Run every item of ``plan`` (default :data:`DEMO`) with ``policies`` into ``out``; write reports and the index.

    Returns what ``OUT/demo.json`` holds: the plan, the wall time (seconds, with the load
    average before and after) and, per scenario, its headline comparisons.
    """
    plan = DEMO if plan is None else plan
    policies = DEMO_POLICIES if policies is None else policies
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    start = time.perf_counter()
    took = {}
    for item in plan:
        cfg = RunConfig(scenario=item["scenario"], policies=list(policies), generations=item["generations"],
                        seeds=item["seeds"], options=dict(item["options"])).validate()
        began = time.perf_counter()
        run(cfg, out / item["name"], workers=workers, progress=progress)
        write_report(out / item["name"])
        took[item["name"]] = round(time.perf_counter() - began, 1)
    seconds = time.perf_counter() - start
    result = {"plan": plan, "policies": list(policies), "seconds": round(seconds, 1),
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count(),
              "scenarios": {item["name"]: {**headline(out / item["name"]), "seconds": took[item["name"]]}
                            for item in plan}}
    (out / "demo.json").write_text(json.dumps(result, indent=1) + "\n")
    write_index(out, result)
    return result


def headline(run_dir: Path) -> dict[str, Any]:
    """A run's headline metric (its scenario's tail metric) at the last generation: every policy's record."""
    summary = json.loads((run_dir / "report" / "summary.json").read_text())
    cfg = summary["config"]
    metric = make_scenario(cfg["scenario"], **cfg["options"]).tail_metric
    records = [r for r in summary["summary"] if r["metric"] == metric]
    return {"scenario": cfg["scenario"], "options": cfg["options"], "generations": cfg["generations"],
            "seeds": cfg["seeds"], "metric": metric, "baseline": summary["baseline"], "control": summary["control"],
            "records": records}


def _value(r: dict[str, Any]) -> str:
    if r["binary"]:
        return f"{round(r['mean'] * r['n_seeds'])}/{r['n_seeds']} seeds"
    return fmt_number(r["median"])


def _cell(r: dict[str, Any], prefix: str) -> str:
    if r.get(prefix + "test") is None:
        return "—"
    p = r.get(prefix + "p_adjusted")
    word = versus_word(r, prefix)
    return f"{'**' + word + '**' if word != 'n.s.' else word} (p={'n/a' if p is None else f'{p:.2g}'})"


def _claims(name: str, h: dict[str, Any]) -> list[str]:
    """The index's sentences for one scenario: every mitigation better than the baseline, and the control's word."""
    by_policy = {r["policy"]: r for r in h["records"]}
    base = by_policy[h["baseline"]]
    test = next((r["test"] for r in h["records"] if r.get("test")), "")
    lines = []
    better = [r for r in h["records"] if r["policy"] not in (h["baseline"], h["control"])
              and significant(r) and r["estimate"] not in (None, "-inf") and float(r["estimate"]) > 0]
    if better:
        names = ", ".join(f"`{r['policy']}` ({_value(r)}, p={r['p_adjusted']:.2g})" for r in better)
        lines.append(f"**{name}**: better than `{h['baseline']}` ({_value(base)}) on `{h['metric']}` at generation "
                     f"{h['generations']}: {names}; {test}, Holm over the run's "
                     f"{better[0]['family_size']} headline comparisons.")
    else:
        lines.append(f"**{name}**: no mitigation is shown better than `{h['baseline']}` on `{h['metric']}` "
                     f"(adjusted p >= {ALPHA}).")
    control = by_policy.get(h["control"]) if h["control"] else None
    if control is not None:
        worse = [r["policy"] for r in h["records"] if r["policy"] not in (h["baseline"], h["control"])
                 and versus_word(r, "control_") == "worse"]
        same = [r["policy"] for r in h["records"] if r["policy"] not in (h["baseline"], h["control"])
                and versus_word(r, "control_") == "n.s."]
        parts = []
        if same:
            parts.append("not shown different from the control: " + ", ".join(f"`{p}`" for p in same))
        if worse:
            parts.append("worse than the control: " + ", ".join(f"`{p}`" for p in worse))
        if parts:
            lines.append(f"  Against `{h['control']}` ({_value(control)}; the same real rows, no generated data): "
                         + "; ".join(parts) + ".")
    return lines


def budget_sentence(result: dict[str, Any]) -> str:
    """Whether every policy of every scenario read the same distinct real rows (a matched real-data budget)."""
    unmatched = [name for name, h in result["scenarios"].items()
                 if len({r["real_rows_distinct"] for r in h["records"]}) > 1]
    if not unmatched:
        return ("Every policy here reads the same distinct real rows (generation 0's n), so each comparison is at a "
                "matched real-data budget.")
    return ("The policies of " + ", ".join(unmatched) + " read different numbers of distinct real rows: see the "
            "tables' real-row columns before reading a comparison as one at the same budget.")


def write_index(out: str | os.PathLike, result: dict[str, Any]) -> Path:
    """Write ``OUT/index.md`` and ``OUT/overview.png`` from :func:`run_demo`'s result."""
    out = Path(out)
    items = []
    for name, h in result["scenarios"].items():
        scn = make_scenario(h["scenario"], **h["options"])
        rows = load_results(out / name)
        items.append({"title": f"{name} ({h['seeds']} seeds)", "per_seed": per_seed(rows),
                      "policies": result["policies"], "metric": h["metric"], "better": scn.metrics[h["metric"]],
                      "binary": h["metric"] in scn.binary_metrics})
    plot_overview(items, out / "overview.png")
    policies = [p for p in result["policies"] if p != "replace"]
    lines = ["# synthfilter collapse demo", "",
             "Each scenario trains a model on real data, samples from it, builds the next generation's training "
             "set under a policy, and repeats. `replace` trains on the last model's samples only (no mitigation); "
             f"`{CONTROL}` is the control: generation 0's real rows alone, no generated data. "
             + budget_sentence(result) + " Each cell: the policy against `replace` on the scenario's headline "
             "(tail) metric at the last "
             "generation, paired over seeds (Wilcoxon signed-rank, or the exact McNemar test for a 0/1 outcome), "
             f"Holm-adjusted over the run's headline comparisons; `better`/`worse` when p < {ALPHA}.", "",
             "![the headline metric of every scenario](overview.png)", "",
             "| scenario | headline metric | " + " | ".join(f"`{p}`" for p in policies) + " |",
             "|---|---|" + "---|" * len(policies)]
    claims: list[str] = []
    for name, h in result["scenarios"].items():
        by_policy = {r["policy"]: r for r in h["records"]}
        cells = [_cell(by_policy[p], "") if p in by_policy else "" for p in policies]
        lines.append(f"| [{name}]({name}/report/summary.md) | [`{h['metric']}`]({name}/report/{h['scenario']}_"
                     f"{h['metric']}.png) | " + " | ".join(cells) + " |")
        claims += _claims(name, h)
    lines += ["", "What was shown:", "", *[f"- {c}" if not c.startswith("  ") else c for c in claims], "",
              "Figures to look at: `overview.png` (above), then per scenario `<name>/report/<scenario>_<metric>.png` "
              "(the headline metric is linked in the table) and the tables in `<name>/report/summary.md`; every "
              "generation's statistics are in `<name>/summary.json`.", "",
              f"Ran in {result['seconds']:.0f} s on {result['cpu_count']} cores (1-minute load average "
              f"{result['load_average_before'][0]:g} before, {result['load_average_after'][0]:g} after)."]
    path = out / "index.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
