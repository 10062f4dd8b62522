"""Shumailov's yellow/blue case: the probability that a 10% minority class is lost, per generation and policy.

    python benchmarks/collapse_two_class.py [--seeds 200] [--generations 100] [--n 100]

The ``categorical`` scenario with two categories in proportion 90:10 (``categories=2,
zipf=3.17``), refit by counting from ``n`` samples per generation. ``tail_lost`` is 1 when
the model gives the minority probability 0 (it can never come back under ``replace``), so
its mean over seeds is the probability that the minority is lost. Policies: replace,
the real-only control (generation 0's real rows alone), accumulate, keep-real:0.1 (a fresh
hash-chosen 10% of the original real rows each generation), keep-real-fixed:0.1 (the same
10% every generation), fresh-real:0.1 and accumulate+quota:0.1. Writes
benchmarks/results/collapse_two_class.json (per policy and generation: the probability with
its exact 95% interval, and the exact McNemar test against replace and against the control,
Holm-adjusted at the last generation over the run's headline comparisons) and
benchmarks/results/collapse/two_class/ (plots and the full report).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.collapse import RunConfig, load_results, run  # noqa: E402
from synthfilter.collapse.report import summary_records, write_report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LOST_FIELDS = ("policy", "generation", "mean", "ci_low", "ci_high", "interval", "n_seeds", "real_rows",
               "real_rows_distinct", "test", "better_seeds", "worse_seeds", "estimate", "estimate_ci_low",
               "estimate_ci_high", "p_value", "p_adjusted", "family_size", "control", "control_test",
               "control_better_seeds", "control_worse_seeds", "control_p_adjusted")
POLICIES = ["replace", "real-only", "accumulate", "keep-real:0.1", "keep-real-fixed:0.1", "fresh-real:0.1", "accumulate+quota:0.1"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args(argv)
    options = {"categories": 2, "zipf": 3.17, "n": args.n}
    cfg = RunConfig("categorical", POLICIES, generations=args.generations, seeds=args.seeds, options=options)
    start, load_before = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = run(cfg, Path(tmp) / "two_class", progress=True)
        report = write_report(run_dir)
        target = RESULTS / "collapse" / "two_class"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(report, target)
        shutil.copy(run_dir / "summary.json", target / "generations.json")
        records = summary_records(load_results(run_dir), "categorical", options=options)
    lost = [r for r in records if r["metric"] == "tail_lost"]
    result = {"config": {"generations": args.generations, "seeds": args.seeds, **options}, "policies": POLICIES,
              "baseline": "replace", "seconds": round(time.perf_counter() - start, 1),
              "load_average_5min": [round(load_before[1], 2), round(os.getloadavg()[1], 2)], "cpu_count": os.cpu_count(),
              "minority_lost": [{k: r.get(k) for k in LOST_FIELDS} for r in lost]}
    write_result("collapse_two_class.json", result, indent=1)
    for policy in POLICIES:
        last = next(r for r in lost if r["policy"] == policy and r["generation"] == args.generations)
        print(f"{policy}: P(minority lost by generation {args.generations}) = {last['mean']:.3f} "
              f"[{last['ci_low']:.3f}, {last['ci_high']:.3f}]")
    print(f"wrote {RESULTS / 'collapse_two_class.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
