"""Shumailov's yellow/blue case: the probability that a 10% minority class is lost, per generation and policy.

    python benchmarks/collapse_two_class.py [--seeds 200] [--generations 100] [--n 100]

The ``categorical`` scenario with two categories in proportion 90:10 (``categories=2,
zipf=3.17``), refit by counting from ``n`` samples per generation. ``tail_lost`` is 1 when
the model gives the minority probability 0 (it can never come back under ``replace``), so
its mean over seeds is the probability that the minority is lost. Policies: replace,
accumulate, keep-real:0.1 (a fresh hash-chosen 10% of the original real rows each
generation), keep-real-fixed:0.1 (the same 10% every generation), fresh-real:0.1 and
accumulate+quota:0.1. Writes benchmarks/results/collapse_two_class.json (per policy and
generation: the probability with its 95% bootstrap interval, and the paired test against
replace) and benchmarks/results/collapse/two_class/ (plots and the full report).
"""

from __future__ import annotations

import argparse
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
POLICIES = ["replace", "accumulate", "keep-real:0.1", "keep-real-fixed:0.1", "fresh-real:0.1", "accumulate+quota:0.1"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args(argv)
    options = {"categories": 2, "zipf": 3.17, "n": args.n}
    cfg = RunConfig("categorical", POLICIES, generations=args.generations, seeds=args.seeds, options=options)
    start = time.perf_counter()
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
              "minority_lost": [{k: r[k] for k in ("policy", "generation", "mean", "ci_low", "ci_high", "n_seeds",
                                                   "real_rows", "p_adjusted", "diff_mean", "diff_ci_low",
                                                   "diff_ci_high")} for r in lost]}
    write_result("collapse_two_class.json", result, indent=1)
    for policy in POLICIES:
        last = next(r for r in lost if r["policy"] == policy and r["generation"] == args.generations)
        print(f"{policy}: P(minority lost by generation {args.generations}) = {last['mean']:.3f} "
              f"[{last['ci_low']:.3f}, {last['ci_high']:.3f}]")
    print(f"wrote {RESULTS / 'collapse_two_class.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
