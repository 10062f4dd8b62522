"""Reproduce published model-collapse anchors with the harness.

    python benchmarks/collapse_anchors.py [--seeds 100]

1. 1-D Gaussian, sigma^2 = 1, maximum-likelihood refit, 100 generations, n = 10/32/100/316
   per generation: mean fitted variance at generation 100 with its 95% interval over seeds
   (BCa bootstrap; :func:`synthfilter.collapse.stats.mean_interval`) and the median, under
   replace and accumulate, beside Kazdan et al. 2024 ("Collapse or Thrive?") and, for
   replace, the exact expectation (1 - 1/n)^(G + 1) (generation 0 is fitted on n real rows,
   E s_0 = 1 - 1/n, and each refit multiplies the expected variance by 1 - 1/n); each cell
   records whether the published mean and the expectation lie inside the interval.
2. Linear regression, d = 10, T = 100: excess test error over its generation-0 value,
   growing linearly under replace and levelling off near pi^2/6 under accumulate
   (Gerstgrasser et al. 2024).
3. Expected squared W2 to the real Gaussian grows roughly linearly under replace
   (Shumailov et al. 2024): least-squares slope and R^2 over generations.
4. select-likely collapses variance faster than replace.
Writes benchmarks/results/collapse_anchors.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.collapse import RunConfig, load_results, run  # noqa: E402
from synthfilter.collapse.stats import mean_interval  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KAZDAN = {"replace": {10: 3e-6, 32: 0.073, 100: 0.31, 316: 0.70},
          "accumulate": {10: 0.87, 32: 0.95, 100: 1.00, 316: 1.01}}


def per_generation(rows, policy, metric):
    gens = sorted({r["generation"] for r in rows})
    return [np.array([r[metric] for r in rows if r["policy"] == policy and r["generation"] == g]) for g in gens]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--generations", type=int, default=100)
    args = parser.parse_args(argv)
    out: dict = {"seeds": args.seeds, "generations": args.generations}
    with tempfile.TemporaryDirectory() as tmp:
        gauss = {}
        for n in (10, 32, 100, 316):
            cfg = RunConfig("gaussian", ["replace", "accumulate"], generations=args.generations, seeds=args.seeds,
                            options={"n": n})
            rows = load_results(run(cfg, Path(tmp) / f"g{n}", progress=False))
            for policy in ("replace", "accumulate"):
                last = per_generation(rows, policy, "variance")[-1]
                mean, low, high, method = mean_interval(last, seed=n)
                cell = {"mean": mean, "ci_low": low, "ci_high": high, "interval": method,
                        "median": float(np.median(last)), "published_mean": KAZDAN[policy][n],
                        "published_inside": bool(low <= KAZDAN[policy][n] <= high)}
                if policy == "replace":
                    cell["expected"] = (1 - 1 / n) ** (args.generations + 1)
                    cell["expected_inside"] = bool(low <= cell["expected"] <= high)
                gauss.setdefault(policy, {})[n] = cell
            if n == 100:
                w2 = np.array([v.mean() for v in per_generation(rows, "replace", "w2")])
                g = np.arange(len(w2))
                slope, intercept = np.polyfit(g, w2, 1)
                r2 = 1 - np.sum((w2 - (slope * g + intercept)) ** 2) / np.sum((w2 - w2.mean()) ** 2)
                out["gaussian_w2_replace_n100"] = {"mean_w2_at": {int(k): float(w2[k]) for k in (1, 10, 25, 50, 100) if k < len(w2)},
                                                   "linear_slope": float(slope), "linear_r2": float(r2)}
            print(f"gaussian n={n}: " + json.dumps({p: gauss[p][n] for p in gauss}), flush=True)
        out["gaussian_variance_at_last_generation"] = gauss

        cfg = RunConfig("linreg", ["replace", "accumulate"], generations=50, seeds=args.seeds,
                        options={"n": 100, "dim": 10})
        rows = load_results(run(cfg, Path(tmp) / "linreg", progress=False))
        lin = {}
        for policy in ("replace", "accumulate"):
            curve = np.array([v.mean() for v in per_generation(rows, policy, "excess_error_ratio")])
            lin[policy] = {"mean_ratio_at": {int(k): float(curve[k]) for k in (0, 1, 5, 10, 25, 50)}}
        g = np.arange(51)
        rep = np.array([v.mean() for v in per_generation(rows, "replace", "excess_error_ratio")])
        lin["replace"]["linear_slope"] = float(np.polyfit(g, rep, 1)[0])
        lin["accumulate"]["pi2_over_6"] = math.pi ** 2 / 6
        out["linreg_excess_error_over_generation0"] = lin
        print("linreg: " + json.dumps(lin), flush=True)

        cfg = RunConfig("gaussian", ["replace", "select-likely"], generations=10, seeds=args.seeds, options={"n": 100})
        rows = load_results(run(cfg, Path(tmp) / "select", progress=False))
        sel = {p: {int(k): float(np.median(v)) for k, v in enumerate(per_generation(rows, p, "variance")) if k in (1, 5, 10)}
               for p in ("replace", "select-likely")}
        out["select_likely_vs_replace_median_variance"] = sel
        print("select-likely: " + json.dumps(sel), flush=True)
    write_result("collapse_anchors.json", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
