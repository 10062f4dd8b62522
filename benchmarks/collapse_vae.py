"""The vae scenario (an MLP VAE on 8x8 digits) under replace, real-only, accumulate, keep-real:0.1 and quota:0.1.

    python benchmarks/collapse_vae.py [--generations 10] [--seeds 12] [--n 1000] [--epochs 100]

Twelve seeds by default: with S seeds the smallest two-sided exact Wilcoxon p is 2 / 2^S,
and Holm's correction runs over the run's headline comparisons (every policy but ``replace``
x the tail and quality metrics: 4 x 2 = 8), so 12 seeds leave room (8 x 2 / 4096 = 0.004)
and the per-policy means get BCa intervals (t intervals below 12 seeds).

Every policy runs the same seeds (common random numbers: the same real digits and the same
generation-0 model per seed) with one torch thread per worker process. Every policy reads
the same distinct real rows (generation 0's n digits); per generation ``replace`` reads 0,
``keep-real:0.1`` 0.1 n (a fresh hash-chosen tenth of the generation-0 digits),
``real-only`` (the control: those n digits alone, no generated data), ``accumulate`` and
``quota:0.1`` (``accumulate+quota:0.1``: every real row, synthetic rows capped at a 10%
share) n each. Writes benchmarks/results/collapse_vae.json (the last generation's tables
against ``replace`` and the control with Holm-adjusted paired tests, every generation's mean
and 95% interval per policy and metric, the CPU time per generation) and
benchmarks/results/collapse/vae/ (plots, summary, every generation's statistics). Anchor
printed beside the result: Shumailov et al. (Nature 2024) report a VAE's latent standard
deviation falling from 0.67 to 0.43 in five generations of replacement (their VAE, their
data and their definition of latent std).

:func:`run_policies` is shared with ``collapse_lstm.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.collapse import RunConfig, load_results, run  # noqa: E402
from synthfilter.collapse.report import summary_records, summary_table, write_report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
POLICIES = ["replace", "real-only", "accumulate", "keep-real:0.1", "quota:0.1"]
ANCHOR = {"source": "Shumailov et al., Nature 2024 (VAE, five generations of replacement)", "metric": "latent_std",
          "generation_0": 0.67, "generation_5": 0.43}


def curves(records: list[dict[str, Any]]) -> dict[str, dict[str, list[list[float]]]]:
    """``{policy: {metric: [[generation, mean, ci_low, ci_high], ...]}}`` from :func:`summary_records` (the
    interval is a t interval below 12 seeds, else BCa)."""
    out: dict[str, dict[str, list[list[float]]]] = {}
    for r in sorted(records, key=lambda r: r["generation"]):
        out.setdefault(r["policy"], {}).setdefault(r["metric"], []).append(
            [r["generation"], r["mean"], r["ci_low"], r["ci_high"]])
    return out


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (the run's worker processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_policies(scenario: str, options: dict[str, Any], generations: int, seeds: int,
                 policies: list[str] = POLICIES, workers: int = 2) -> dict[str, Any]:
    """Run ``policies`` x ``seeds`` x ``generations`` of ``scenario`` in ``workers`` one-thread processes.

    Copies the report and every generation's statistics to benchmarks/results/collapse/<scenario>/.
    ``seconds_per_generation`` is the CPU time over every fitted model (generation 0 of each cell
    included; fit, evaluate and sample on one thread), ``seconds`` the wall time;
    ``load_average_5min`` (before, after) says how busy the machine was with other work.
    """
    cfg = RunConfig(scenario, policies, generations=generations, seeds=seeds, options=options)
    load_before = os.getloadavg()[1]
    start, cpu_before = time.perf_counter(), _cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = run(cfg, Path(tmp) / scenario, workers=workers, progress=True)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        report = write_report(run_dir)
        target = RESULTS / "collapse" / scenario
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(report, target)
        shutil.copy(run_dir / "summary.json", target / "generations.json")
        rows = load_results(run_dir)
        records = summary_records(rows, scenario, options=options)
        table_records, table = summary_table(rows, scenario, options=options, records=records)
    print(f"## {scenario}\n{table}\n", flush=True)
    fits = len(policies) * seeds * (generations + 1)
    return {"config": {"generations": generations, "seeds": seeds, **options}, "policies": policies,
            "baseline": "replace", "control": "real-only", "threads": 1, "workers": workers,
            "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "seconds_per_generation": round(cpu / fits, 2),
            "load_average_5min": [round(load_before, 2), round(os.getloadavg()[1], 2)],
            "cpu_count": os.cpu_count(), "summary": table_records,
            "curves": curves(records)}


def anchor_line(result: dict[str, Any], anchor: dict[str, Any]) -> str:
    """The anchor beside this run's replace curve of the same metric (generations 0 and 5, or the last)."""
    curve = result["curves"]["replace"][anchor["metric"]]
    last = min(5, len(curve) - 1)
    g0, gl = curve[0], curve[last]
    return (f"{anchor['source']}: {anchor['metric']} {anchor['generation_0']} -> {anchor['generation_5']}; "
            f"here, replace: {g0[1]:.3g} [{g0[2]:.3g}, {g0[3]:.3g}] -> {gl[1]:.3g} [{gl[2]:.3g}, {gl[3]:.3g}] "
            f"at generation {gl[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--n", type=int, default=1000, help="digits per generation (default 1000)")
    parser.add_argument("--epochs", type=int, default=100, help="training passes' worth of n rows (default 100)")
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    result = run_policies("vae", {"n": args.n, "epochs": args.epochs}, args.generations, args.seeds)
    result["anchor"] = {**ANCHOR, "line": anchor_line(result, ANCHOR)}
    print(result["anchor"]["line"])
    print(f"{result['seconds_per_generation']} CPU s per generation (fit, evaluate, sample; 1 thread)")
    write_result("collapse_vae.json", result, indent=1, note=f" and plots under {RESULTS / 'collapse' / 'vae'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
