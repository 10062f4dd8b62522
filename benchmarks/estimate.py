"""Share estimation and the quota on the true share, on sources the detector never saw.

    python benchmarks/estimate.py [--seeds 20] [--folders a,b] [--rows 1500] [--docs | --check]

Each English folder of ``../shared/data/detect`` is tagged by the shipped ``fast`` recipe
retrained without it (``benchmarks/_lofo.py``), as a user's corpus from an unseen source
would be. Per seed its ``group`` values are split: a third of the groups give the
**same-kind reference** (their human rows), the other two thirds the corpus pool. For each
planted true share ``a`` a corpus of ``--rows`` rows (fewer where the pool is short),
``round(a * n)`` of them AI, is drawn. References of **another kind** are the human rows of
another folder scored by the same detector: the one whose humans score highest (the unsafe
direction: it makes the share look smaller) and the one whose humans score lowest.

Measured, with the package's defaults (``estimate_share``, ``enforce_quota(max_synthetic=0.1)``):

* the estimate against each reference: error, and coverage of its 90% interval with a
  90% cluster-bootstrap interval over seeds (the runs of one seed share a split);
* the quota: the true share of the kept rows (worst run and median), rows kept, and rows
  kept against an oracle that knows the labels and drops the highest-scoring rows until
  it reaches the same true share; the share of runs whose kept rows are within the bound the cut was held to (the report's "after");
  whether an other-kind reference is refused (``UnfitReference``);
* a **dated** corpus (the same-kind reference rows put into the corpus, dated before the
  cut; the quota takes them as its own reference through ``first_seen_column``);
* **no reference**: the default quota (labels, with the warning) and its true share;
* **tiny references** (1, 5 and 20 rows): refused or not.

Writes ``benchmarks/results/estimate.json`` and the docs section between the markers.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import datasets
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthfilter as sf  # noqa: E402
from _lofo import cache_dir, lofo_detector_path, tagged_folder  # noqa: E402
from benchmarks._proc import RESULTS, add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
from synthfilter.detect.corpus import default_corpus_dir, load_corpus  # noqa: E402
from synthfilter.quota import UnfitReference  # noqa: E402
from synthfilter.quota.estimate import estimate_scores  # noqa: E402

ENGLISH = ("fastdetectgpt", "glimpse", "l2r", "outfox", "seqxgpt")
SHARES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
QUOTA_SHARES = (0.2, 0.4)
TINY = (1, 5, 20)
MAX_SYNTHETIC = 0.1
CONFIDENCE = 0.9
OTHER_ROWS = 1000
BEGIN, END = "<!-- estimate:begin -->", "<!-- estimate:end -->"


# --------------------------------------------------------------------------- data
def scored(ds: datasets.Dataset) -> datasets.Dataset:
    """The rows the detector scored (its language, enough text)."""
    return ds.select(np.flatnonzero(np.isfinite(np.asarray(ds["sf_score"], dtype=np.float64))))


def other_kind(data: Path, held: str, docs) -> dict[str, np.ndarray]:
    """Human scores of every other English folder under ``held``'s detector (cached), by folder."""
    out = {}
    for other in ENGLISH:
        if other == held:
            continue
        path = cache_dir(data) / f"humans_{other}_by_{held}.npy"
        if not path.exists():
            texts = [d.text for d in docs if d.source == other and d.label == 0]
            texts = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))[:3000]]
            det = sf.load_detector(str(lofo_detector_path(data, held)))
            np.save(path, det.score_texts(texts))
        scores = np.load(path)
        out[other] = scores[np.isfinite(scores)]
    return out


def corpus_size(n_human: int, n_ai: int, share: float, cap: int) -> int:
    """Largest ``n <= cap`` with ``round(share * n) <= n_ai`` and ``n - round(share * n) <= n_human``."""
    n = cap
    while n > 0 and (round(share * n) > n_ai or n - round(share * n) > n_human):
        n -= 1
    return n


def oracle_kept(scores: np.ndarray, truth: np.ndarray, share: float) -> int:
    """The most rows a cut at a score keeps (lowest scores first) with a true AI share at most ``share``."""
    order = np.argsort(scores, kind="stable")
    ai = np.cumsum(truth[order])
    n = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(ai <= share * n + 1e-9)
    return int(n[ok[-1]]) if len(ok) else 0


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


# --------------------------------------------------------------------------- one seed
def run_seed(name: str, tagged: datasets.Dataset, others: dict[str, np.ndarray], unsafe: str, safe: str,
             rows: int, seed: int) -> list[dict]:
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    truth = np.asarray(tagged["truth"], dtype=np.int8)
    scores = np.asarray(tagged["sf_score"], dtype=np.float64)
    groups = np.asarray(tagged["group"], dtype=object)
    unique = np.unique(groups)
    ref_groups = unique[rng.permutation(len(unique))[: len(unique) // 3]]
    in_ref = np.isin(groups, ref_groups)
    ref_rows = np.flatnonzero(in_ref & (truth == 0))
    ref_rows = rng.choice(ref_rows, min(len(ref_rows), 1000), replace=False)
    pool_h, pool_a = np.flatnonzero(~in_ref & (truth == 0)), np.flatnonzero(~in_ref & (truth == 1))
    refs = {"same": scores[ref_rows],
            "other_higher": rng.choice(others[unsafe], min(OTHER_ROWS, len(others[unsafe])), replace=False),
            "other_lower": rng.choice(others[safe], min(OTHER_ROWS, len(others[safe])), replace=False)}
    out = []
    for share in SHARES:
        n = corpus_size(len(pool_h), len(pool_a), share, rows)
        k = int(round(share * n))
        idx = np.sort(np.r_[rng.choice(pool_a, k, replace=False), rng.choice(pool_h, n - k, replace=False)])
        run = {"folder": name, "seed": seed, "planted": share, "rows": n, "truth": round(k / n, 6), "estimates": {}}
        for ref_name, ref in refs.items():
            est = estimate_scores(scores[idx], ref, confidence=CONFIDENCE, seed=seed)
            run["estimates"][ref_name] = {"share": _num(est.share), "low": _num(est.low), "high": _num(est.high),
                                          "verdict": est.check.verdict}
        if share == 0.2:
            for m in TINY:
                est = estimate_scores(scores[idx], refs["same"][:m], confidence=CONFIDENCE, seed=seed)
                run["estimates"][f"tiny_{m}"] = {"verdict": est.check.verdict, "share": _num(est.share),
                                                 "width": _num(est.high - est.low)}
        if share in QUOTA_SHARES:
            run["quota"] = quota_runs(tagged, idx, ref_rows, refs, seed)
        out.append(run)
    return out


def quota_runs(tagged: datasets.Dataset, idx: np.ndarray, ref_rows: np.ndarray, refs: dict, seed: int) -> dict:
    """The default quota with each reference, on the corpus as a user would have it."""
    corpus = tagged.select(idx)
    truth = np.asarray(corpus["truth"])
    scores = np.asarray(corpus["sf_score"], dtype=np.float64)
    result = {}

    def record(key: str, make) -> None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out, report = make()
        except UnfitReference as err:
            result[key] = {"refused": True, "why": str(err)[:160]}
            return
        kept_truth = np.asarray(out["truth"])
        true_share = float(kept_truth.mean()) if len(kept_truth) else 0.0
        after = report.estimate_after
        entry = {"refused": False, "basis": report.basis, "kept": len(out), "true_share": round(true_share, 6),
                 "warned": any("labels understate" in str(w.message) for w in caught)}
        if after is not None and np.isfinite(after.high):
            entry.update(after_share=_num(after.share), after_low=_num(after.low), after_high=_num(after.high))
        result[key] = entry

    for name in ("same", "other_higher", "other_lower"):
        record(name, lambda name=name: sf.enforce_quota(corpus, MAX_SYNTHETIC, reference=refs[name], seed=seed,
                                                        return_report=True))
    record("none", lambda: sf.enforce_quota(corpus, MAX_SYNTHETIC, seed=seed, return_report=True))
    dated = tagged.select(np.r_[idx, ref_rows])
    dated = dated.add_column("date", ["2024-01-01"] * len(idx) + ["2019-01-01"] * len(ref_rows))
    record("dated", lambda: sf.enforce_quota(dated, MAX_SYNTHETIC, first_seen_column="date", human_before="2022-11-30",
                                             seed=seed, return_report=True))
    for key, entry in result.items():
        if entry.get("refused") or key in ("dated",):
            continue
        entry["oracle_kept"] = oracle_kept(scores, truth, entry["true_share"])
        entry["kept_vs_oracle"] = round(entry["kept"] / entry["oracle_kept"], 4) if entry["oracle_kept"] else None
    if "dated" in result and not result["dated"].get("refused"):
        n_dated = len(ref_rows)
        d = result["dated"]
        all_scores = np.r_[scores, np.asarray(tagged.select(ref_rows)["sf_score"], dtype=np.float64)]
        all_truth = np.r_[truth, np.zeros(n_dated, np.int8)]
        d["oracle_kept"] = n_dated + oracle_kept_with_known(all_scores[:len(idx)], all_truth[:len(idx)], n_dated,
                                                            d["true_share"])
        d["kept_vs_oracle"] = round(d["kept"] / d["oracle_kept"], 4) if d["oracle_kept"] else None
    return result


def oracle_kept_with_known(scores: np.ndarray, truth: np.ndarray, known_human: int, share: float) -> int:
    """Undecided rows an oracle keeps (lowest scores first) beside ``known_human`` rows at a true share <= ``share``."""
    order = np.argsort(scores, kind="stable")
    ai = np.cumsum(truth[order])
    n = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(ai <= share * (n + known_human) + 1e-9)
    return int(n[ok[-1]]) if len(ok) else 0


# --------------------------------------------------------------------------- summaries
def cluster_interval(values: np.ndarray, clusters: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """90% bootstrap interval of the mean of ``values``, resampling whole clusters."""
    keys = np.unique(clusters)
    sums = np.array([values[clusters == k].sum() for k in keys])
    counts = np.array([(clusters == k).sum() for k in keys])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(keys), size=(reps, len(keys)))
    means = sums[draws].sum(1) / counts[draws].sum(1)
    return float(np.quantile(means, 0.05)), float(np.quantile(means, 0.95))


def summarise(runs: list[dict]) -> dict:
    out = {"estimates": {}, "quota": {}}
    for ref in ("same", "other_higher", "other_lower"):
        rs = [r for r in runs if r["estimates"][ref]["verdict"] == "ok" and r["estimates"][ref]["share"] is not None]
        flagged = [r["estimates"][ref]["verdict"] == "mismatch" for r in runs]
        if not rs:
            out["estimates"][ref] = {"runs": 0, "flagged": round(float(np.mean(flagged)), 4)}
            continue
        err = np.array([r["estimates"][ref]["share"] - r["truth"] for r in rs])
        cover = np.array([r["estimates"][ref]["low"] - 1e-9 <= r["truth"] <= r["estimates"][ref]["high"] + 1e-9
                          for r in rs], dtype=float)
        lo, hi = cluster_interval(cover, np.array([r["seed"] for r in rs]))
        out["estimates"][ref] = {
            "runs": len(rs), "flagged": round(float(np.mean(flagged)), 4),
            "median_abs_error": round(float(np.median(np.abs(err))), 4), "mean_error": round(float(err.mean()), 4),
            "coverage": round(float(cover.mean()), 4), "coverage_interval": [round(lo, 4), round(hi, 4)],
            "by_share": {str(a): {"mean_estimate": round(float(np.mean([r["estimates"][ref]["share"] for r in rs
                                                                       if r["planted"] == a])), 4),
                                  "coverage": round(float(np.mean([c for c, r in zip(cover, rs) if r["planted"] == a])), 4)}
                         for a in SHARES if any(r["planted"] == a for r in rs)}}
    tiny = {}
    for m in TINY:
        xs = [r["estimates"][f"tiny_{m}"] for r in runs if f"tiny_{m}" in r["estimates"]]
        tiny[str(m)] = {"refused": round(float(np.mean([x["verdict"] != "ok" for x in xs])), 4),
                        "min_width_when_not_refused": _num(min((x["width"] for x in xs if x["verdict"] == "ok"),
                                                               default=np.nan))}
    out["tiny_references"] = tiny
    for key in ("same", "other_higher", "other_lower", "none", "dated"):
        xs = [r["quota"][key] for r in runs if "quota" in r]
        done = [x for x in xs if not x["refused"]]
        entry = {"runs": len(xs), "refused": round(float(np.mean([x["refused"] for x in xs])), 4) if xs else None}
        if done:
            entry.update(worst_true_share=round(max(x["true_share"] for x in done), 4),
                         median_true_share=round(float(np.median([x["true_share"] for x in done])), 4),
                         median_kept=float(np.median([x["kept"] for x in done])),
                         min_kept=min(x["kept"] for x in done),
                         median_kept_vs_oracle=_num(np.median([x["kept_vs_oracle"] for x in done
                                                               if x.get("kept_vs_oracle") is not None] or [np.nan])),
                         held_to_bound=round(float(np.mean([x["true_share"] <= MAX_SYNTHETIC + 1e-9 for x in done])), 4),
                         warned=round(float(np.mean([x["warned"] for x in done])), 4))
            entry["held_or_flagged"] = round(float(np.mean([x["refused"] or x["true_share"] <= 0.12 for x in xs])), 4)
        out["quota"][key] = entry
    return out


# --------------------------------------------------------------------------- README
def render(result: dict) -> str:
    def f(x, spec=".3f"):
        return "-" if x is None else format(x, spec)

    p = result["protocol"]
    lines = [f"Leave-one-folder-out (`fast` retrained without the folder), {p['seeds']} seeds, corpora of up to "
             f"{p['rows']:,} rows, planted true shares {', '.join(f'{a:g}' for a in p['shares'])}; the quota "
             f"`enforce_quota(ds, {p['max_synthetic']})` with the package's defaults at planted shares "
             f"{', '.join(f'{a:g}' for a in p['quota_shares'])}. Coverage: the 90% interval holds the truth, with a "
             "90% cluster-bootstrap interval over seeds.", "",
             "**Estimate** (`estimate_share`) against a same-kind reference, and whether a reference of another "
             "kind is flagged (`reference does not match`):", "",
             "| held-out folder | AUROC | median abs. error | coverage [interval] | other kind scoring higher: "
             "flagged | other kind scoring lower: flagged |", "|---|---|---|---|---|---|"]
    for name, x in result["folders"].items():
        if not x.get("estimable"):
            lines.append(f"| {name} | - | not estimable: {x['why']} | | | |")
            continue
        e = x["summary"]["estimates"]
        s = e["same"]
        lines.append(f"| {name} | {f(x['auroc'])} | {f(s.get('median_abs_error'))} | {f(s.get('coverage'), '.2f')} "
                     f"[{f(s['coverage_interval'][0], '.2f')}, {f(s['coverage_interval'][1], '.2f')}] | "
                     f"{x['other_higher']}: {e['other_higher']['flagged']:.0%} | "
                     f"{x['other_lower']}: {e['other_lower']['flagged']:.0%} |")
    lines += ["", f"**Quota** `max_synthetic={p['max_synthetic']}`: true share of the kept rows (worst run / median), "
              "rows kept (median) and against an oracle at the same true share; share of runs refused:", "",
              "| held-out folder | same-kind reference | kept, vs oracle | runs <= the bound | dated corpus "
              "(own reference) | other kind, higher: refused or <= 0.12 | no reference (labels, warned) |",
              "|---|---|---|---|---|---|---|"]
    for name, x in result["folders"].items():
        if not x.get("estimable"):
            continue
        q = x["summary"]["quota"]
        s, d, o, n = q["same"], q["dated"], q["other_higher"], q["none"]
        lines.append(f"| {name} | {f(s.get('worst_true_share'))} / {f(s.get('median_true_share'))} | "
                     f"{f(s.get('median_kept'), '.0f')}, {f(s.get('median_kept_vs_oracle'), '.2f')} | "
                     f"{f(s.get('held_to_bound'), '.2f')} | {f(d.get('worst_true_share'))} / "
                     f"{f(d.get('median_true_share'))} | {f(o.get('held_or_flagged'), '.2f')} | "
                     f"{f(n.get('worst_true_share'))} ({f(n.get('warned'), '.0%')}) |")
    tiny = result["tiny_references"]
    lines += ["", "References of " + ", ".join(f"{m} rows: refused in {tiny[m]['refused']:.0%} of runs" for m in tiny)
              + f" (fewer than {p['min_reference_rows']} scored rows are refused)."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--folders", default=",".join(ENGLISH) + ",airabic,imbd_multilang")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if args.docs or args.check:
        import json

        result = json.loads((RESULTS / "estimate.json").read_text())
        for name, info in result["folders"].items():
            if info.get("estimable"):
                info["summary"] = summarise([r for r in result["runs"] if r["folder"] == name])
        return rewrite_docs_section(BEGIN, END, render(result), args.check, "estimate", "python benchmarks/estimate.py")
    data = Path(args.data)
    if not data.is_dir():
        print(f"SKIP: detector corpus not found at {data} (see ../shared/data/README.md)")
        return 0
    datasets.disable_progress_bars()
    start = time.perf_counter()
    docs = load_corpus(data)
    from synthfilter.quota.reference_check import MIN_REFERENCE_ROWS

    result = {"protocol": {"seeds": args.seeds, "rows": args.rows, "shares": list(SHARES),
                           "quota_shares": list(QUOTA_SHARES), "max_synthetic": MAX_SYNTHETIC, "confidence": CONFIDENCE,
                           "min_reference_rows": MIN_REFERENCE_ROWS, "other_kind_rows": OTHER_ROWS,
                           "detector": "fast recipe retrained without the folder (benchmarks/_lofo.py)"},
              "folders": {}, "runs": []}
    all_runs = []
    for name in [f for f in args.folders.split(",") if f]:
        t0 = time.perf_counter()
        tagged = tagged_folder(data, name)
        ok = scored(tagged)
        if name not in ENGLISH or ok.num_rows < 0.5 * tagged.num_rows:
            result["folders"][name] = {"estimable": False,
                                       "why": f"{1 - ok.num_rows / tagged.num_rows:.0%} of rows unknown (the detector "
                                              "scores English only)"}
            print(f"{name}: not estimable", flush=True)
            continue
        others = other_kind(data, name, docs)
        medians = {k: float(np.median(v)) for k, v in others.items()}
        unsafe, safe = max(medians, key=medians.get), min(medians, key=medians.get)
        truth = np.asarray(ok["truth"])
        info = {"estimable": True, "auroc": round(float(roc_auc_score(truth, ok["sf_score"])), 4),
                "human_median_score": round(float(np.median(np.asarray(ok["sf_score"])[truth == 0])), 4),
                "other_median_scores": {k: round(v, 4) for k, v in medians.items()},
                "other_higher": unsafe, "other_lower": safe}
        runs = []
        for seed in range(args.seeds):
            runs += run_seed(name, ok, others, unsafe, safe, args.rows, seed)
            print(f"  {name} seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
        info["summary"] = summarise(runs)
        info["seconds"] = round(time.perf_counter() - t0, 1)
        result["folders"][name] = info
        all_runs += runs
        print(f"{name}: {info['summary']['estimates']['same']} | quota {info['summary']['quota']}", flush=True)
    result["tiny_references"] = summarise(all_runs)["tiny_references"] if all_runs else {}
    result["runs"] = all_runs
    result["seconds"] = round(time.perf_counter() - start, 1)
    write_result("estimate.json", result, indent=1)
    return rewrite_docs_section(BEGIN, END, render(result), False, "estimate", "python benchmarks/estimate.py")


if __name__ == "__main__":
    sys.exit(main())
