"""Mitigations against replace on gmm, categorical and text: tail and quality metrics, medians with spread.

    python benchmarks/collapse_mitigations.py [--quick] [--only gmm|categorical|text]

Runs every mitigation policy (keep-real:0.1, keep-real-fixed:0.1, fresh-real:0.1, accumulate,
quota:0.1, filter with the library's own detector, filter with a simulated imperfect
detector, tail, tail:ref and the combination accumulate+quota:0.1+tail:ref) against replace
and against the real-only control (generation 0's real rows alone), writes each scenario's
plots and Markdown summary to benchmarks/results/collapse/<scenario>/ and the numbers
to benchmarks/results/collapse_mitigations.json, with every generation's statistics (means
with bootstrap intervals, paired tests against replace) in
benchmarks/results/collapse/<scenario>/generations.json. The collapse section of docs/benchmarks/collapse.md is
generated from these files by benchmarks/collapse_readme.py. The text scenario needs
WikiText-2 in ../shared/data and is skipped with a message without it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.collapse import RunConfig, load_results, run  # noqa: E402
from synthfilter.collapse.report import summary_table, write_report  # noqa: E402
from synthfilter.collapse.scenarios import WIKITEXT_DIR  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
POLICIES = ["replace", "real-only", "keep-real:0.1", "keep-real-fixed:0.1", "fresh-real:0.1", "accumulate", "quota:0.1", "filter",
            "filter:0.8:0.05", "tail", "tail:ref", "accumulate+quota:0.1+tail:ref"]
PLAN = [
    {"scenario": "gmm", "options": {"n": 200}, "generations": 20, "seeds": 20},
    {"scenario": "categorical", "options": {"n": 2000}, "generations": 15, "seeds": 20},
    {"scenario": "text", "options": {"n": 500}, "generations": 10, "seeds": 12},
]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (the run's worker processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and generations, for a smoke run")
    parser.add_argument("--only", default=None, help="run this scenario only, keeping the others' results")
    args = parser.parse_args(argv)
    previous = RESULTS / "collapse_mitigations.json"
    result = json.loads(previous.read_text()) if args.only and previous.exists() else {}
    for item in PLAN:
        if args.only and item["scenario"] != args.only:
            continue
        if item["scenario"] == "text" and not (WIKITEXT_DIR / "valid.txt").exists():
            print(f"SKIP text: WikiText-2 not found at {WIKITEXT_DIR}")
            continue
        gens, seeds = (3, 2) if args.quick else (item["generations"], item["seeds"])
        cfg = RunConfig(item["scenario"], POLICIES, generations=gens, seeds=seeds, options=item["options"])
        load_before, cpu_before, start = os.getloadavg(), _cpu_seconds(), time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = run(cfg, Path(tmp) / item["scenario"], progress=True)
            timing = {"wall_seconds": round(time.perf_counter() - start, 1),
                      "cpu_seconds": round(_cpu_seconds() - cpu_before, 1),
                      "load_average_5min": [round(load_before[1], 2), round(os.getloadavg()[1], 2)],
                      "cpu_count": os.cpu_count()}
            report = write_report(run_dir)
            target = RESULTS / "collapse" / item["scenario"]
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(report, target)
            shutil.copy(run_dir / "summary.json", target / "generations.json")
            records, table = summary_table(load_results(run_dir), item["scenario"], options=item["options"])
        result[item["scenario"]] = {"config": {"generations": gens, "seeds": seeds, **item["options"]},
                                    "baseline": "replace", "control": "real-only", "policies": POLICIES,
                                    **timing, "summary": records}
        print(f"## {item['scenario']}\n{table}\n", flush=True)
    write_result("collapse_mitigations.json", result, note=f" and plots under {RESULTS / 'collapse'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
