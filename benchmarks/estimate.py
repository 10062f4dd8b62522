"""Share-estimation benchmark: ``estimate_share`` and the estimated-basis quota on sources the detector never saw.

    python benchmarks/estimate.py [--data ../shared/data/detect] [--seeds 5] [--folders a,b] [--cap 3000]

For every folder of ``../shared/data/detect``: a ``FastDetector`` is trained on all
*other* folders (texts and groups shared with the held-out folder removed, at most
``--cap`` documents per source and label, source-balanced weights; threshold set
at 1% FPR on a grouped 20% of the training humans), exactly as
``benchmarks/detect.py`` does. The held-out folder is tagged once through the real
pipeline (``Dataset.map(synthfilter.Tagger(detector=...), batched=True)``): rows in
a language the detector does not declare come out ``sf_label="unknown"``; a folder
where most rows are unknown is reported as not estimable.

Per seed the folder's ``group`` values are split 1/3 reference, 2/3 corpus. The
human rows of the reference groups are the human reference, their AI rows the AI
reference. For each planted true share ``a`` a corpus of ``n = min(2000, what the
pool allows)`` rows of the corpus groups, ``round(a * n)`` of them AI, is drawn.
Measured: ``estimate_share`` with the human reference (``bbe``) and with both
references (``mle``): absolute error of the estimate and of the label count
(``naive``), coverage of the 90% interval; and the true synthetic share left by
``enforce_quota(max_synthetic=0.1, basis="estimated")`` beside ``basis="labels"``.
Errors and coverage are measured against the true share of the *scored* rows (what
the estimator estimates; rows labelled unknown are excluded from it); the quota's
true share is over every kept row.

Targets (over folders where the LOFO detector's AUROC is >= 0.8, every such folder):
median absolute error <= 0.03, coverage >= 0.85, true share after the estimated
quota <= 0.12. Writes benchmarks/results/estimate.json and estimate.png.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402

import synthfilter as sf  # noqa: E402
from synthfilter.detect.corpus import (  # noqa: E402
    balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, grouped_split, load_corpus,
)
from synthfilter.detect.fast import FastDetector  # noqa: E402
from synthfilter.hashing import hash64  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHARES = (0.0, 0.02, 0.05, 0.1, 0.3, 0.5)
METHODS = ("bbe", "mle")
MAX_ROWS = 2000
MAX_SYNTHETIC = 0.1
CONFIDENCE = 0.9
REFERENCE_FRACTION = 1 / 3
MIN_SCORED_SHARE = 0.5  # a folder with more unknown rows than this is "not estimable"
TARGETS = {"median_abs_error": 0.03, "coverage": 0.85, "true_share_after_estimated_quota": 0.12, "min_auroc": 0.8}


# --------------------------------------------------------------------------- detector and tagging
def lofo_detector(docs, held: str, cap: int) -> tuple[FastDetector, dict]:
    """A FastDetector that never saw ``held`` (as benchmarks/detect.py trains it), threshold at 1% FPR."""
    test = [d for d in docs if d.source == held]
    train_all = cap_per_cell(exclude_overlap([d for d in docs if d.source != held], test), cap=cap)
    fit_part, calib_part = grouped_split(train_all, test_fraction=0.2)
    t0 = time.perf_counter()
    det = FastDetector().fit([d.text for d in fit_part], [d.label for d in fit_part],
                             sample_weight=balanced_weights(fit_part))
    det.calibrate([d.text for d in calib_part if d.label == 0], target_fpr=0.01)
    return det, {"n_train": len(fit_part), "fit_seconds": round(time.perf_counter() - t0, 1),
                 "threshold": round(float(det.threshold_), 6), "languages": list(det.languages_)}


def tag_folder(docs, det: FastDetector) -> datasets.Dataset:
    """The held-out folder as a user would have it after ``ds.map(sf.Tagger(...), batched=True)``."""
    ds = datasets.Dataset.from_dict({
        "text": [d.text for d in docs],
        "truth": [int(d.label) for d in docs],
        "group": [d.group for d in docs],
    })
    return ds.map(sf.Tagger(detector=det), batched=True, batch_size=1000, desc="tagging")


# --------------------------------------------------------------------------- sampling
def corpus_size(n_human: int, n_ai: int, share: float, cap: int = MAX_ROWS) -> int:
    """Largest ``n <= cap`` with ``round(share * n) <= n_ai`` and ``n - round(share * n) <= n_human``."""
    n = cap
    if share < 1:
        n = min(n, int(np.floor(n_human / (1 - share))) + 1)
    if share > 0:
        n = min(n, int(np.floor(n_ai / share)) + 1)
    while n > 0 and (round(share * n) > n_ai or n - round(share * n) > n_human):
        n -= 1
    return n


def split_groups(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of rows whose group is a reference group (a third of the groups, seeded)."""
    unique = np.unique(groups)
    ref = unique[rng.permutation(len(unique))[: int(round(len(unique) * REFERENCE_FRACTION))]]
    return np.isin(groups, ref)


# --------------------------------------------------------------------------- one folder
def _share(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def run_folder(name: str, tagged: datasets.Dataset, seeds: int, folder_seed: int) -> list[dict]:
    """Every (seed, share) run of one estimable folder."""
    truth = np.asarray(tagged["truth"], dtype=np.int8)
    labels = np.asarray(tagged["sf_label"])
    scored = labels != "unknown"
    groups = np.asarray(tagged["group"], dtype=object)
    runs = []
    for seed in range(seeds):
        rng = np.random.default_rng([folder_seed, seed])
        is_ref = split_groups(groups, rng)
        human_ref = tagged.select(np.flatnonzero(is_ref & (truth == 0)))
        ai_ref = tagged.select(np.flatnonzero(is_ref & (truth == 1)))
        pool_h, pool_a = np.flatnonzero(~is_ref & (truth == 0)), np.flatnonzero(~is_ref & (truth == 1))
        refs = {"bbe": {"reference": human_ref}, "mle": {"reference": human_ref, "ai_reference": ai_ref}}
        for share in SHARES:
            n = corpus_size(len(pool_h), len(pool_a), share)
            k = int(round(share * n))
            idx = np.sort(np.concatenate([rng.choice(pool_a, k, replace=False), rng.choice(pool_h, n - k, replace=False)]))
            corpus = tagged.select(idx)
            row = {"folder": name, "seed": seed, "planted": share, "n": n, "n_scored": int(scored[idx].sum()),
                   "reference_human": int((is_ref & (truth == 0) & scored).sum()),
                   "reference_ai": int((is_ref & (truth == 1) & scored).sum()),
                   "truth_all": round(k / n, 6) if n else None,
                   "truth": _share(truth[idx][scored[idx]].mean()) if scored[idx].any() else None}
            t0 = time.perf_counter()
            out, _ = sf.enforce_quota(corpus, MAX_SYNTHETIC, return_report=True)
            row["labels_quota"] = {"true_share": _share(np.mean(out["truth"])) if len(out) else None,
                                   "kept": round(len(out) / n, 6)}
            for method in METHODS:
                est = sf.estimate_share(corpus, method=method, confidence=CONFIDENCE, seed=seed, **refs[method])
                out, report = sf.enforce_quota(corpus, MAX_SYNTHETIC, basis="estimated", method=method,
                                               confidence=CONFIDENCE, seed=seed, return_report=True, **refs[method])
                after = report.estimate_after
                row[method] = {
                    "share": _share(est.share), "low": _share(est.low), "high": _share(est.high),
                    "separation": _share(est.separation), "reference_auroc": _share(est.reference_auroc),
                    "quota": {"true_share": _share(np.mean(out["truth"])) if len(out) else None,
                              "kept": round(len(out) / n, 6),
                              "estimated_after": _share(after.share), "high_after": _share(after.high)},
                }
                row["naive"] = _share(est.naive)
            row["seconds"] = round(time.perf_counter() - t0, 2)
            runs.append(row)
        print(f"    seed {seed}: " + "  ".join(
            f"a={r['planted']:.2f}: truth {_f(r['truth'], '.3f')} naive {_f(r['naive'], '.3f')} "
            f"bbe {_f(r['bbe']['share'], '.3f')} mle {_f(r['mle']['share'], '.3f')}" for r in runs[-len(SHARES):]),
            flush=True)
    return runs


# --------------------------------------------------------------------------- summaries
def _f(x: float | None, fmt: str = ".4f") -> str:
    """``x`` formatted, or ``n/a`` when there is no value (no run could be estimated)."""
    return "n/a" if x is None else format(x, fmt)


def _median(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(float(np.median(xs)), 4) if xs else None


def _max(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(float(np.max(xs)), 4) if xs else None


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(float(np.mean(xs)), 4) if xs else None


def method_summary(runs: list[dict], method: str) -> dict:
    valid = [r for r in runs if r["truth"] is not None and r[method]["share"] is not None]
    err = [abs(r[method]["share"] - r["truth"]) for r in valid]
    naive = [abs(r["naive"] - r["truth"]) for r in valid if r["naive"] is not None]
    cover = [r[method]["low"] - 1e-9 <= r["truth"] <= r[method]["high"] + 1e-9 for r in valid]
    high = [r for r in runs if r["planted"] >= MAX_SYNTHETIC]
    by_share = {}
    for a in SHARES:
        rs = [r for r in valid if r["planted"] == a]
        by_share[str(a)] = {
            "truth": _mean([r["truth"] for r in rs]),
            "mean_estimate": _mean([r[method]["share"] for r in rs]),
            "mean_bias": _mean([r[method]["share"] - r["truth"] for r in rs]),
            "mean_naive": _mean([r["naive"] for r in rs]),
            "coverage": _mean([float(r[method]["low"] - 1e-9 <= r["truth"] <= r[method]["high"] + 1e-9) for r in rs]),
            "mean_width": _mean([r[method]["high"] - r[method]["low"] for r in rs]),
            "true_share_after_estimated_quota": _mean([r[method]["quota"]["true_share"] for r in rs]),
            "kept_estimated_quota": _mean([r[method]["quota"]["kept"] for r in rs]),
        }
    return {
        "runs": len(valid),
        "median_abs_error": _median(err), "median_abs_error_naive": _median(naive),
        "mean_signed_error": _mean([r[method]["share"] - r["truth"] for r in valid]),
        "coverage": _mean([float(c) for c in cover]),
        "mean_interval_width": _mean([r[method]["high"] - r[method]["low"] for r in valid]),
        "true_share_after_estimated_quota": {
            "max_all": _max([r[method]["quota"]["true_share"] for r in runs]),
            "median_all": _median([r[method]["quota"]["true_share"] for r in runs]),
            "max_planted_ge_0.1": _max([r[method]["quota"]["true_share"] for r in high]),
            "median_planted_ge_0.1": _median([r[method]["quota"]["true_share"] for r in high]),
        },
        "true_share_after_labels_quota": {
            "max_all": _max([r["labels_quota"]["true_share"] for r in runs]),
            "median_all": _median([r["labels_quota"]["true_share"] for r in runs]),
            "max_planted_ge_0.1": _max([r["labels_quota"]["true_share"] for r in high]),
            "median_planted_ge_0.1": _median([r["labels_quota"]["true_share"] for r in high]),
        },
        "kept_estimated_quota": {"median_all": _median([r[method]["quota"]["kept"] for r in runs]),
                                 "median_planted_ge_0.1": _median([r[method]["quota"]["kept"] for r in high])},
        "kept_labels_quota": {"median_all": _median([r["labels_quota"]["kept"] for r in runs]),
                              "median_planted_ge_0.1": _median([r["labels_quota"]["kept"] for r in high])},
        "by_planted_share": by_share,
    }


def targets(folders: dict, runs: list[dict], min_auroc: float | None) -> dict:
    """Each target, per method, over estimable folders (with AUROC >= ``min_auroc`` when given)."""
    chosen = [f for f, x in folders.items() if x["estimable"] and (min_auroc is None or x["auroc"] >= min_auroc)]
    out = {"folders": chosen}
    for method in METHODS:
        per = {f: folders[f]["methods"][method] for f in chosen}
        pooled = method_summary([r for r in runs if r["folder"] in chosen], method) if chosen else None
        worst_err = _max([p["median_abs_error"] for p in per.values()])
        worst_cov = min((p["coverage"] for p in per.values() if p["coverage"] is not None), default=None)
        worst_q = _max([p["true_share_after_estimated_quota"]["max_all"] for p in per.values()])
        out[method] = {
            "worst_folder_median_abs_error": worst_err,
            "worst_folder_coverage": worst_cov,
            "worst_true_share_after_estimated_quota": worst_q,
            "pooled_median_abs_error": pooled and pooled["median_abs_error"],
            "pooled_median_abs_error_naive": pooled and pooled["median_abs_error_naive"],
            "pooled_coverage": pooled and pooled["coverage"],
            "met": {
                "median_abs_error": bool(chosen) and worst_err is not None and worst_err <= TARGETS["median_abs_error"],
                "coverage": bool(chosen) and worst_cov is not None and worst_cov >= TARGETS["coverage"],
                "true_share_after_estimated_quota": bool(chosen) and worst_q is not None
                and worst_q <= TARGETS["true_share_after_estimated_quota"],
            },
        }
    return out


# --------------------------------------------------------------------------- plot
def plot(folders: dict, runs: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(folders)
    cols = min(4, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.0 * rows), squeeze=False)
    style = {"bbe": ("tab:blue", -0.008, "bbe (human ref.)"), "mle": ("tab:green", 0.0, "mle (human + AI ref.)"),
             "naive": ("tab:red", 0.008, "naive label count")}
    for ax, name in zip(axes.flat, names):
        info = folders[name]
        ax.plot([0, 0.55], [0, 0.55], color="grey", lw=0.8, ls="--")
        ax.set_xlim(-0.03, 0.56)
        ax.set_ylim(-0.03, 0.8)
        ax.set_xlabel("true share (scored rows)")
        ax.set_ylabel("estimate")
        if not info["estimable"]:
            ax.set_title(f"{name}: not estimable")
            ax.text(0.27, 0.4, f"{info['unknown_share']:.0%} of rows unknown\n(languages {info['detector_languages']})",
                    ha="center", va="center", fontsize=9)
            continue
        ax.set_title(f"{name} (AUROC {info['auroc']:.2f})")
        rs = [r for r in runs if r["folder"] == name and r["truth"] is not None]
        jitter = np.linspace(-0.003, 0.003, max(1, len({r['seed'] for r in rs})))
        for key, (color, dx, label) in style.items():
            xs, ys, lo, hi = [], [], [], []
            for r in rs:
                x = r["truth"] + dx + jitter[r["seed"] % len(jitter)]
                if key == "naive":
                    y, a, b = r["naive"], r["naive"], r["naive"]
                else:
                    y, a, b = r[key]["share"], r[key]["low"], r[key]["high"]
                xs.append(x), ys.append(y), lo.append(y - a), hi.append(b - y)
            if key == "naive":
                ax.scatter(xs, ys, s=10, marker="x", color=color, label=label)
            else:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ms=2.5, lw=0.7, color=color, alpha=0.8, label=label)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    estimable = [ax for ax, name in zip(axes.flat, names) if folders[name]["estimable"]]
    if estimable:
        estimable[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"estimate_share on folders the detector never saw: estimate and {CONFIDENCE:.0%} interval vs truth")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folders", default="", help="comma-separated held-out folders (default: all)")
    parser.add_argument("--cap", type=int, default=3000, help="training documents per (source, label) (default 3000)")
    parser.add_argument("--out", default=str(RESULTS / "estimate.json"))
    parser.add_argument("--save-tagged", default="", help="also save each tagged held-out folder here (for diagnosis)")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"SKIP: detector corpus not found at {data} (see ../shared/data/README.md)")
        return 0
    start = time.perf_counter()
    datasets.disable_progress_bars()
    docs = load_corpus(data)
    sources = sorted({d.source for d in docs})
    held_out = [f for f in args.folders.split(",") if f] or sources
    unknown = [f for f in held_out if f not in sources]
    if unknown:
        parser.error(f"--folders: {unknown} not in {sources}")
    print(f"{len(docs)} documents from {sources}; held out in turn: {held_out}", flush=True)
    folders, runs = {}, []
    for name in held_out:
        t0 = time.perf_counter()
        det, fit = lofo_detector(docs, name, args.cap)
        test = [d for d in docs if d.source == name]
        tagged = tag_folder(test, det)
        if args.save_tagged:
            tagged.save_to_disk(str(Path(args.save_tagged) / name))
        truth = np.asarray(tagged["truth"])
        labels = np.asarray(tagged["sf_label"])
        scores = np.asarray(tagged["sf_score"], dtype=np.float64)
        scored = labels != "unknown"
        reasons = {}
        for r in tagged["sf_reason"]:
            if r:
                key = r if not r.startswith("unsupported_language") else "unsupported_language"
                reasons[key] = reasons.get(key, 0) + 1
        info = {
            "n_human": int((truth == 0).sum()), "n_ai": int((truth == 1).sum()), "groups": len(set(tagged["group"])),
            "detector_languages": fit["languages"], "fit": fit,
            "unknown_share": round(float(1 - scored.mean()), 4), "unknown_reasons": reasons,
            "auroc": round(float(roc_auc_score(truth[scored], scores[scored])), 4)
            if scored.sum() and len(set(truth[scored])) == 2 else None,
            "labelled_synthetic": {"human": round(float((labels[truth == 0] == "synthetic").mean()), 4),
                                   "ai": round(float((labels[truth == 1] == "synthetic").mean()), 4)},
        }
        info["estimable"] = bool(scored.mean() >= MIN_SCORED_SHARE and info["auroc"] is not None)
        print(f"  {name}: detector fitted in {fit['fit_seconds']} s on {fit['n_train']} texts (languages "
              f"{fit['languages']}); AUROC {info['auroc']}, unknown {info['unknown_share']:.1%}, "
              f"labelled synthetic: human {info['labelled_synthetic']['human']:.3f}, ai {info['labelled_synthetic']['ai']:.3f}",
              flush=True)
        if info["estimable"]:
            folder_runs = run_folder(name, tagged, args.seeds, hash64(0, name) % (2**32))
            runs += folder_runs
            info["methods"] = {m: method_summary(folder_runs, m) for m in METHODS}
            for m in METHODS:
                s = info["methods"][m]
                q, lq = s["true_share_after_estimated_quota"], s["true_share_after_labels_quota"]
                print(f"  {name} {m}: median |err| {_f(s['median_abs_error'])} (naive {_f(s['median_abs_error_naive'])}), "
                      f"bias {_f(s['mean_signed_error'], '+.4f')}, coverage {_f(s['coverage'], '.2f')}, "
                      f"width {_f(s['mean_interval_width'], '.3f')}; true share after quota: estimated max "
                      f"{_f(q['max_all'], '.3f')} / median {_f(q['median_all'], '.3f')} (planted>=0.1: max "
                      f"{_f(q['max_planted_ge_0.1'], '.3f')}), labels max {_f(lq['max_all'], '.3f')}; kept "
                      f"{_f(s['kept_estimated_quota']['median_all'], '.2f')} vs {_f(s['kept_labels_quota']['median_all'], '.2f')}",
                      flush=True)
        else:
            print(f"  {name}: not estimable ({info['unknown_share']:.0%} of rows unknown: {reasons})", flush=True)
        info["seconds"] = round(time.perf_counter() - t0, 1)
        folders[name] = info
    summary = {"targets": TARGETS,
               "auroc_ge_0.8": targets(folders, runs, TARGETS["min_auroc"]),
               "all_estimable": targets(folders, runs, None),
               "not_estimable": {f: x["unknown_share"] for f, x in folders.items() if not x["estimable"]},
               "seconds": round(time.perf_counter() - start, 1)}
    result = {
        "machine": {"cpus": mp.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "protocol": {"planted_shares": list(SHARES), "seeds": args.seeds, "max_rows": MAX_ROWS,
                     "reference_fraction_of_groups": round(REFERENCE_FRACTION, 4), "confidence": CONFIDENCE,
                     "max_synthetic": MAX_SYNTHETIC, "cap_per_cell": args.cap, "methods": list(METHODS),
                     "min_scored_share_to_estimate": MIN_SCORED_SHARE, "detector": "FastDetector, leave-one-folder-out",
                     "threshold": "1% FPR on a grouped 20% of the training sources' human texts",
                     "truth": "share of AI rows among the corpus's scored rows (unknown rows excluded, as the "
                              "estimator excludes them); quota true share is over every kept row"},
        "folders": folders, "summary": summary, "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(folders, runs, out.with_suffix(".png"))
    print("summary: " + json.dumps({k: v for k, v in summary.items() if k != "targets"}))
    print(f"wrote {out} and {out.with_suffix('.png')} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
