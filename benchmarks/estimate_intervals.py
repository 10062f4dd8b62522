"""Which bootstrap interval and which point estimate to report: a simulation on real detector scores.

    python benchmarks/estimate_intervals.py [--reps 200] [--boot 200] [--folders a,b]

For every English folder of ``../shared/data/detect`` the scores of a ``fast`` detector
that never saw it (``benchmarks/_lofo.py``) are the populations: its human scores and its
AI scores. For each true share ``a`` and reference size ``m``, ``--reps`` corpora of 2,000
rows and references of ``m`` rows are drawn with replacement from them, so the truth is
known exactly, and the best-bin estimate (``bbe``) is bootstrapped (``--boot`` multinomial
redraws of the binned counts, as the package does). Compared:

* point estimates: the plain estimate, and the bias-corrected ``2 * estimate - mean(replicates)``
  (root mean squared error against ``a``);
* intervals at 90%: ``percentile`` ``[q05, q95]``; ``basic`` ``[2e - q95, 2e - q05]``; their
  ``union``; and ``percentile+`` (percentile high end, union low end: what the package
  reports, :func:`synthfilter.quota.estimators.interval_bounds`);
* for each: two-sided coverage of ``a``, one-sided coverage of its high end (what a quota
  relies on) and mean width.

Writes ``benchmarks/results/estimate_intervals.json`` and its section of docs/benchmarks/estimate.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _lofo import folder_pools, tagged_folder  # noqa: E402
from benchmarks._proc import add_docs_flags, rewrite_docs_section  # noqa: E402
from synthfilter.detect.corpus import default_corpus_dir  # noqa: E402
from synthfilter.quota.estimators import ScoreBins, bbe_share, bootstrap_counts  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
FOLDERS = ("fastdetectgpt", "glimpse", "l2r", "outfox", "seqxgpt")
SHARES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
REFERENCE_SIZES = (300, 1000)
CORPUS_ROWS = 2000
CONFIDENCE = 0.9
SCHEMES = ("percentile", "basic", "union", "percentile+")
#: The scheme the package uses (:func:`synthfilter.quota.estimators.interval_bounds`).
PACKAGE_SCHEME = "percentile+"
BEGIN, END = "<!-- estimate-intervals:begin -->", "<!-- estimate-intervals:end -->"


def intervals(est: float, reps: np.ndarray) -> dict[str, tuple[float, float]]:
    """Every scheme's interval from the estimate and its replicates (clipped to [0, 1])."""
    lo, hi = np.quantile(reps, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    b_lo, b_hi = np.clip([2 * est - hi, 2 * est - lo], 0, 1)
    return {"percentile": (lo, hi), "basic": (b_lo, b_hi), "union": (min(lo, b_lo), max(hi, b_hi)),
            "percentile+": (min(lo, b_lo), hi)}


def simulate(human: np.ndarray, ai: np.ndarray, share: float, m: int, reps: int, boot: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    hits = {s: [] for s in SCHEMES}
    upper = {s: [] for s in SCHEMES}
    width = {s: [] for s in SCHEMES}
    err_plain, err_corrected = [], []
    for r in range(reps):
        k = rng.binomial(CORPUS_ROWS, share)
        corpus = np.r_[rng.choice(ai, k), rng.choice(human, CORPUS_ROWS - k)]
        reference = rng.choice(human, m)
        bins = ScoreBins.of(corpus, reference)
        est = float(bbe_share(bins.corpus, bins.human))
        c, h, _ = bootstrap_counts(bins, "bbe", boot, seed * 100_003 + r)
        replicates = bbe_share(c, h)
        replicates = replicates[np.isfinite(replicates)]
        err_plain.append(est - share)
        err_corrected.append(float(np.clip(2 * est - replicates.mean(), 0, 1)) - share)
        for scheme, (lo, hi) in intervals(est, replicates).items():
            lo, hi = min(lo, est), max(hi, est)
            hits[scheme].append(lo - 1e-9 <= share <= hi + 1e-9)
            upper[scheme].append(share <= hi + 1e-9)
            width[scheme].append(hi - lo)
    return {"rmse_plain": float(np.sqrt(np.mean(np.square(err_plain)))),
            "rmse_bias_corrected": float(np.sqrt(np.mean(np.square(err_corrected)))),
            "bias_plain": float(np.mean(err_plain)),
            "coverage": {s: float(np.mean(v)) for s, v in hits.items()},
            "upper_coverage": {s: float(np.mean(v)) for s, v in upper.items()},
            "width": {s: float(np.mean(v)) for s, v in width.items()}}


def table(result: dict) -> str:
    """Mean over folders and reference sizes, per true share."""
    lines = ["| true share | RMSE plain / bias-corrected | " + " | ".join(
        f"{s}: coverage / high end covers / width" for s in SCHEMES) + " |",
             "|---" * (2 + len(SCHEMES)) + "|"]
    for a in SHARES:
        cells = [c for f in result["folders"].values() for c in f.values() if c["share"] == a]
        mean = lambda f: float(np.mean([f(c) for c in cells]))  # noqa: E731
        row = [f"{a:.2f}", f"{mean(lambda c: c['rmse_plain']):.3f} / {mean(lambda c: c['rmse_bias_corrected']):.3f}"]
        for s in SCHEMES:
            row.append(f"{mean(lambda c: c['coverage'][s]):.2f} / {mean(lambda c: c['upper_coverage'][s]):.2f} / "
                       f"{mean(lambda c: c['width'][s]):.3f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def render(result: dict) -> str:
    """The docs section: the protocol, the table per true share, and the package's interval per folder."""
    p = result["protocol"]
    return "\n".join([
        f"Best-bin estimates of {p['corpus_rows']:,}-row corpora against references of "
        f"{' and '.join(str(m) for m in p['reference_sizes'])} rows, drawn from each English folder's human and AI "
        f"scores under a `fast` detector trained without it; {p['reps']} corpora per cell, {p['boot']} bootstrap "
        "redraws. Mean over folders and reference sizes: RMSE of the plain and of the bias-corrected point, and per "
        "90% interval: coverage / how often its top is above the truth / mean width (`percentile+` is the package's).",
        "", table(result), *_folder_part(result)])


def _folder_part(result: dict) -> list[str]:
    """The per-folder table, where the result holds the folders' AUROC it needs (older results do not)."""
    if "auroc" not in result:
        return []
    return ["", "The package's interval per folder (coverage / top above the truth), by true share a:", "",
            folder_table(result)]


def folder_table(result: dict) -> str:
    """Per folder: AUROC of its populations, and the package's interval per true share (coverage / high end covers)."""
    shares = [a for a in SHARES if a in (0.0, 0.05, 0.1, 0.3, 0.5)]
    lines = ["| folder | AUROC | " + " | ".join(f"a = {a:.2f}" for a in shares) + " |", "|---" * (2 + len(shares)) + "|"]
    for name, cells in result["folders"].items():
        row = [name, f"{result['auroc'][name]:.3f}"]
        for a in shares:
            cs = [c for c in cells.values() if c["share"] == a]
            row.append(f"{np.mean([c['coverage'][PACKAGE_SCHEME] for c in cs]):.2f} / "
                       f"{np.mean([c['upper_coverage'][PACKAGE_SCHEME] for c in cs]):.2f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--folders", default=",".join(FOLDERS))
    parser.add_argument("--out", default=str(RESULTS / "estimate_intervals.json"))
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if args.docs or args.check:
        return rewrite_docs_section(BEGIN, END, render(json.loads(Path(args.out).read_text())), args.check,
                                    "estimate-intervals", "python benchmarks/estimate_intervals.py")
    data = Path(args.data)
    if not data.is_dir():
        print(f"SKIP: detector corpus not found at {data} (see ../shared/data/README.md)")
        return 0
    start = time.perf_counter()
    result = {"protocol": {"corpus_rows": CORPUS_ROWS, "reference_sizes": list(REFERENCE_SIZES), "shares": list(SHARES),
                           "reps": args.reps, "boot": args.boot, "confidence": CONFIDENCE, "estimator": "bbe",
                           "populations": "scores of each folder's human and AI texts by a fast detector trained "
                                          "without the folder; drawn with replacement"},
              "folders": {}, "auroc": {}}
    for i, name in enumerate(f for f in args.folders.split(",") if f):
        human, ai = folder_pools(tagged_folder(data, name))
        result["auroc"][name] = float(roc_auc_score(np.r_[np.zeros(len(human)), np.ones(len(ai))], np.r_[human, ai]))
        cells = {}
        for m in REFERENCE_SIZES:
            for a in SHARES:
                cell = simulate(human, ai, a, m, args.reps, args.boot, seed=1000 * i + int(100 * a) + m)
                cells[f"m{m}_a{a}"] = {"share": a, "reference_rows": m, **cell}
        result["folders"][name] = cells
        print(f"{name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["table"] = table(result)
    result["folder_table"] = folder_table(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(result["table"])
    print(result["folder_table"])
    print(f"wrote {out}")
    return rewrite_docs_section(BEGIN, END, render(result), False, "estimate-intervals",
                                "python benchmarks/estimate_intervals.py")


if __name__ == "__main__":
    sys.exit(main())
