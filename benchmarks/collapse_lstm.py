"""The lstm scenario (a word-level LSTM on WikiText-2) under replace, real-only, accumulate, keep-real:0.1, quota:0.1.

    python benchmarks/collapse_lstm.py [--generations 5] [--seeds 3] [--n 1000] [--budget-minutes 90]

First times one generation (fit on n real documents, evaluate on test, sample n documents)
with one torch thread, and estimates the whole run as that time x policies x seeds x
(generations + 1) / 2 (two one-thread worker processes). When the estimate exceeds ``--budget-minutes``, it drops seeds (down to
2), then generations (down to 3), until it fits, and records the configuration asked for,
the one run and why in the JSON. Policies and real budgets are those of
``collapse_vae.py`` (``accumulate`` and ``quota:0.1`` use n real documents a generation,
``keep-real:0.1`` 0.1 n, ``replace`` none). Writes benchmarks/results/collapse_lstm.json and
benchmarks/results/collapse/lstm/. Anchor printed beside the result: Shumailov et al. (Nature
2024) fine-tune OPT-125m on WikiText-2 and report test perplexity rising from 35.7 to 95.2
over five generations of replacement (a pretrained 125M-parameter model; the LSTM here has
about 1.35M parameters and is trained from scratch, so only the direction and the ratio
compare). Needs WikiText-2 in ../shared/data/wikitext2 (or $SYNTHFILTER_WIKITEXT2).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _proc import write_result  # noqa: E402
from collapse_vae import POLICIES, anchor_line, run_policies  # noqa: E402

from synthfilter.collapse.scenarios import WIKITEXT_DIR, make_scenario  # noqa: E402

#: one-thread worker processes the run uses
WORKERS = 2
ANCHOR = {"source": "Shumailov et al., Nature 2024 (OPT-125m fine-tuned on WikiText-2, replacement)",
          "metric": "perplexity", "generation_0": 35.7, "generation_5": 95.2}


def time_one_generation(options: dict[str, Any]) -> dict[str, float]:
    """Seconds to fit on n real documents, evaluate, and sample the next n (seed 0, one thread)."""
    scn = make_scenario("lstm", **options)
    rng = np.random.default_rng(0)
    real = scn.real(rng, scn.n)
    start = time.perf_counter()
    model = scn.fit(real, rng)
    fitted = time.perf_counter()
    scn.evaluate(model, rng)
    evaluated = time.perf_counter()
    scn.sample(model, scn.n, rng)
    done = time.perf_counter()
    return {"fit": round(fitted - start, 2), "evaluate": round(evaluated - fitted, 2),
            "sample": round(done - evaluated, 2), "total": round(done - start, 2),
            "parameters": int(sum(p.numel() for p in model.parameters()))}


def fit_plan(per_generation: float, generations: int, seeds: int, budget_s: float) -> tuple[int, int, float]:
    """(generations, seeds, estimated seconds): fewer seeds (>= 2), then generations (>= 3), until within budget."""
    def estimate(g: int, s: int) -> float:
        return per_generation * len(POLICIES) * s * (g + 1) / WORKERS
    while estimate(generations, seeds) > budget_s and seeds > 2:
        seeds -= 1
    while estimate(generations, seeds) > budget_s and generations > 3:
        generations -= 1
    return generations, seeds, estimate(generations, seeds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000, help="documents per generation (default 1000)")
    parser.add_argument("--budget-minutes", type=float, default=90.0,
                        help="largest estimated run time (default 90); the run is reduced to fit")
    args = parser.parse_args(argv)
    if not (WIKITEXT_DIR / "valid.txt").exists():
        print(f"SKIP lstm: WikiText-2 not found at {WIKITEXT_DIR}")
        return 0
    import torch
    torch.set_num_threads(1)
    options = {"n": args.n}
    timing = {**time_one_generation(options), "load_average_5min": round(os.getloadavg()[1], 2)}
    generations, seeds, estimate = fit_plan(timing["total"], args.generations, args.seeds, 60 * args.budget_minutes)
    plan = {"asked": {"generations": args.generations, "seeds": args.seeds}, "one_generation_s": timing,
            "estimate_s": round(estimate, 0), "budget_s": 60 * args.budget_minutes,
            "reduced": (generations, seeds) != (args.generations, args.seeds)}
    if plan["reduced"]:
        plan["why"] = (f"one generation took {timing['total']} s, so {args.generations} generations x {args.seeds} "
                       f"seeds x {len(POLICIES)} policies would exceed {args.budget_minutes:g} minutes")
    print(f"one generation: {timing}; running {generations} generations x {seeds} seeds "
          f"(estimate {estimate / 60:.0f} min)", flush=True)
    result = run_policies("lstm", options, generations, seeds, workers=WORKERS)
    result["plan"] = plan
    result["anchor"] = {**ANCHOR, "line": anchor_line(result, ANCHOR)}
    print(result["anchor"]["line"])
    print(f"{result['seconds_per_generation']} CPU s per generation (fit, evaluate, sample; 1 thread)")
    write_result("collapse_lstm.json", result, indent=1, note=" and plots under benchmarks/results/collapse/lstm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
