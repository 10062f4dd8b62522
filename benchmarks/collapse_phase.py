"""Phase diagram of collapse against the real-data fraction λ and the sample size n (Bertrand et al., ICLR 2024).

    python benchmarks/collapse_phase.py [--gaussian-seeds 100] [--gmm-seeds 10] [--generations 100]

For the ``gaussian`` (1-D, maximum-likelihood refit) and ``gmm`` (2-D, 5% minority mode)
scenarios, every λ in {0, 0.05, 0.1, 0.2, 0.5} and n in {10, 100, 1000}: the headline
metric at generation 100, as the mean over seeds with its 95% interval (Student's t below
12 seeds, BCa bootstrap from 12: :func:`synthfilter.collapse.stats.mean_interval`), drawn as one heatmap per
scenario (benchmarks/results/collapse/phase/<scenario>.png) and written with the other
metrics to benchmarks/results/collapse_phase.json.

The real fraction is the policy ``fresh-real:λ``: each generation trains on n rows, of
which k = round(λ n) are new real samples and n - k are samples of the previous model
(``fresh-real:0`` is ``replace``). ``keep-real:λ`` (k rows re-chosen from the generation-0
real data) has the same proportions but reuses the data generation 0 was fitted on, so the
independence the theory below needs fails; ``quota:F`` keeps every real row and caps the
synthetic share, a different mixture. k is rounded, so the λ actually run is k / n (for
n = 10, λ = 0.05 rounds to k = 0, i.e. replace); the JSON records k and k / n. Bertrand et
al. mix generated data into a fixed real set; the fresh real rows here make the Gaussian
case exactly solvable.

Theory (gaussian): with μ_g and s_g the fitted mean and variance (``ddof=0``) of
generation g and λ = k / n, a generation's n rows are k draws from N(0, 1) and n - k from
N(μ_g, s_g), so taking expectations of the refit (x̄ and the mean squared deviation of a
mixed sample) gives the linear recursion, exact for the expectations,

    E s_{g+1}  = (1 - 1/n) (λ + (1 - λ) E s_g) + λ (1 - λ) E μ_g²
    E μ²_{g+1} = (1 - λ)² E μ²_g + (λ + (1 - λ) E s_g) / n

from the generation-0 fit on n real rows (E s_0 = 1 - 1/n, E μ²_0 = 1/n). At λ = 0 it is
E s_g = (1 - 1/n)^(g+1) (the variance collapses geometrically, Shumailov et al.; Kazdan et
al.), and for λ > 0 it converges to a fixed point below 1: the stable phase. The heatmap
prints this E s_100 under each measured mean. The gmm scenario's refit (EM on a 2-component
mixture) has no closed form: no theory is plotted for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.collapse import RunConfig, load_results, run  # noqa: E402
from synthfilter.collapse.stats import mean_interval  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LAMBDAS = [0.0, 0.05, 0.1, 0.2, 0.5]
SIZES = [10, 100, 1000]
#: scenario -> (headline metric of the heatmap, the other metrics recorded)
_CAP = 3.0  # colour scale: a mean 1000x off its target is as red as it gets
METRICS = {"gaussian": ("variance", ["w2", "tail_mass"]),
           "gmm": ("minority_mass", ["variance_ratio", "sliced_w2", "nll_real"])}


def policy(lam: float) -> str:
    """The policy spec of real fraction ``lam``."""
    return f"fresh-real:{lam:g}"


def gaussian_theory(lam: float, n: int, generations: int) -> float:
    """E[fitted variance] at ``generations`` of the 1-D Gaussian MLE refit with a fresh real fraction ``lam``."""
    s, m2 = 1.0 - 1.0 / n, 1.0 / n
    for _ in range(generations):
        mixed = lam + (1.0 - lam) * s
        s, m2 = (1.0 - 1.0 / n) * mixed + lam * (1.0 - lam) * m2, (1.0 - lam) ** 2 * m2 + mixed / n
    return s


def run_scenario(scenario: str, seeds: int, generations: int, tmp: Path) -> list[dict]:
    """Every (λ, n) cell of ``scenario``: metrics at the last generation over ``seeds`` seeds."""
    headline, others = METRICS[scenario]
    cells = []
    for n in SIZES:
        policies = [policy(lam) for lam in LAMBDAS]
        cfg = RunConfig(scenario, policies, generations=generations, seeds=seeds, options={"n": n})
        start = time.perf_counter()
        rows = [r for r in load_results(run(cfg, tmp / f"{scenario}-{n}", workers=1, progress=False))
                if r["generation"] == generations]
        for lam in LAMBDAS:
            mine = [r for r in rows if r["policy"] == policy(lam)]
            k = int(round(lam * n))
            cell = {"lambda": lam, "n": n, "policy": policy(lam), "k_real": k, "lambda_run": k / n,
                    "n_seeds": len(mine), "real_rows": float(np.mean([r["real_rows"] for r in mine]))}
            for metric in [headline, *others]:
                values = [r[metric] for r in mine]
                mean, low, high, method = mean_interval(values)
                cell[metric] = {"mean": mean, "ci_low": low, "ci_high": high, "interval": method,
                                "median": float(np.median(values))}
            if scenario == "gaussian":
                cell["theory_variance"] = gaussian_theory(k / n, n, generations)
            cells.append(cell)
        print(f"{scenario} n={n}: {time.perf_counter() - start:.0f} s; " + ", ".join(
            f"λ={c['lambda']:g}: {c[headline]['mean']:.3g}" for c in cells if c["n"] == n), flush=True)
    return cells


def heatmap(scenario: str, cells: list[dict], generations: int, seeds: int, path: Path) -> None:
    """λ (columns) x n (rows), coloured by |log10| of the headline metric's mean (its target is 1)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    headline = METRICS[scenario][0]
    grid = np.full((len(SIZES), len(LAMBDAS)), np.nan)
    fig, ax = plt.subplots(figsize=(9, 4.6))
    for c in cells:
        i, j = SIZES.index(c["n"]), LAMBDAS.index(c["lambda"])
        x = c[headline]
        grid[i, j] = min(abs(np.log10(max(x["mean"], 1e-12))), _CAP)
        text = f"{x['mean']:.3g}\n[{x['ci_low']:.2g}, {x['ci_high']:.2g}]\nmedian {x['median']:.2g}"
        if "theory_variance" in c:
            text += f"\ntheory {c['theory_variance']:.3g}"
        if c["lambda_run"] != c["lambda"]:
            text += f"\n(k={c['k_real']})"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if grid[i, j] > _CAP / 2 else "black")
    im = ax.imshow(grid, cmap="Reds", vmin=0, vmax=_CAP, aspect="auto")
    fig.colorbar(im, ax=ax, label=f"|log10({headline} mean)|, 0 = as real, capped at {_CAP:g}")
    ax.set_xticks(range(len(LAMBDAS)), [f"{lam:g}" for lam in LAMBDAS])
    ax.set_yticks(range(len(SIZES)), [str(n) for n in SIZES])
    ax.set_xlabel("real fraction λ (policy fresh-real:λ)")
    ax.set_ylabel("sample size n per generation")
    interval = "t" if seeds < 12 else "BCa"
    ax.set_title(f"{scenario}: {headline} at generation {generations}, mean [95% {interval} interval] and median "
                 f"over {seeds} seeds; colour: the mean",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_only() -> int:
    """Redraw every heatmap from the committed results."""
    result = json.loads((RESULTS / "collapse_phase.json").read_text())
    for scenario, x in result["scenarios"].items():
        heatmap(scenario, x["cells"], result["generations"], result["seeds"][scenario], RESULTS.parent.parent / x["plot"])
    print(f"redrew the heatmaps under {RESULTS / 'collapse' / 'phase'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gaussian-seeds", type=int, default=100, help="seeds per gaussian cell (default 100)")
    parser.add_argument("--gmm-seeds", type=int, default=10, help="seeds per gmm cell (default 10: EM is slow)")
    parser.add_argument("--generations", type=int, default=100, help="generations (default 100)")
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw the heatmaps from benchmarks/results/collapse_phase.json without running")
    args = parser.parse_args(argv)
    if args.plot_only:
        return plot_only()
    seeds = {"gaussian": args.gaussian_seeds, "gmm": args.gmm_seeds}
    out: dict = {"generations": args.generations, "lambdas": LAMBDAS, "sizes": SIZES,
                 "policy": "fresh-real:λ (k = round(λ n) fresh real rows + n - k generated rows per generation)",
                 "headline": {s: METRICS[s][0] for s in METRICS}, "seeds": seeds, "scenarios": {}}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in METRICS:
            cells = run_scenario(scenario, seeds[scenario], args.generations, Path(tmp))
            png = RESULTS / "collapse" / "phase" / f"{scenario}.png"
            heatmap(scenario, cells, args.generations, seeds[scenario], png)
            out["scenarios"][scenario] = {"cells": cells, "plot": str(png.relative_to(RESULTS.parent.parent))}
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["load_average_5min_after"] = round(os.getloadavg()[1], 2)
    out["cpu_count"] = os.cpu_count()
    write_result("collapse_phase.json", out, indent=1, note=f" and heatmaps under {RESULTS / 'collapse' / 'phase'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
