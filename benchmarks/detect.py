"""Detector benchmark: leave-one-source-out quality, attack robustness, throughput.

    python benchmarks/detect.py [--data ../shared/data/detect] [--sections fast,tiers,fit,speed]

Over the English folders the ``fast`` weights are trained on (``SHIPPED_SOURCES``; every
folder and language is benchmarked by ``detect_folders.py``), for every source folder:
train on all other folders (texts shared with the held-out
folder removed), test on the whole held-out folder; report AUROC, TPR at 1% FPR
(threshold from the held-out folder's own human texts, i.e. what ``calibrate`` on
in-domain human text gives) and the FPR/TPR at the threshold chosen on the
training sources (what a user gets without calibrating). A TF-IDF + logistic
regression baseline is run on the same splits. Then: in-source AUROC of the shipped
weights on their grouped held-out split, clean vs character-attacked, and
documents/second for ~200-word documents on 1 and 2 processes.

The ``tiers`` section compares every tier (fast, lm, embed, stack, stack with
embeddings) and the cascade leave-one-source-out on the heavy tiers' training sample
(750 documents per source and label), with per-domain human false-positive rates and
character attacks; ``fit`` measures ``fit`` on 500 texts per class of one source;
``speed`` measures documents/second per tier on unseen ~200-word texts. LM features
are cached in ``--lm-cache`` (about 25 minutes to fill on 2 cores).
Writes benchmarks/results/detect.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthfilter as sf  # noqa: E402
from synthfilter.detect.base import threshold_for_fpr  # noqa: E402
from synthfilter.detect.corpus import (  # noqa: E402
    balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, grouped_split, load_corpus,
)
from synthfilter.detect.fast import FastDetector  # noqa: E402
from synthfilter.detect.lm import shared_scorer  # noqa: E402
from synthfilter.detect.stack import CascadeDetector, StackDetector, choose_band  # noqa: E402
from synthfilter.detect.train import DEFAULT_CAP, SHIPPED_SOURCES, default_lm_cache  # noqa: E402
from synthfilter.text import HOMOGLYPHS, normalize  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
_GLYPH = {}
for _g, _l in HOMOGLYPHS.items():
    _GLYPH.setdefault(_l, _g)


def attack(text: str, seed: int) -> str:
    """Homoglyphs on half the eligible letters, zero-width after 30% of characters, doubled spaces."""
    rng = random.Random(seed)
    out = []
    for ch in text:
        out.append(_GLYPH[ch] if ch in _GLYPH and rng.random() < 0.5 else ch)
        if rng.random() < 0.3:
            out.append("\u200b")
    return "".join(out).replace(" ", "  ")


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float = 0.01) -> float:
    t = threshold_for_fpr(scores[labels == 0], fpr)
    return float((scores[labels == 1] >= t).mean())


def rates(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    return float((scores[labels == 0] >= threshold).mean()), float((scores[labels == 1] >= threshold).mean())


def tfidf_baseline(train_texts, train_y, weights, test_texts) -> np.ndarray:
    vec = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, min_df=2)
    model = LogisticRegression(max_iter=3000).fit(vec.fit_transform(train_texts), train_y, sample_weight=weights)
    return model.decision_function(vec.transform(test_texts))


def leave_one_source_out(docs, cap: int) -> dict:
    out = {}
    sources = sorted({d.source for d in docs})
    for held in sources:
        test = [d for d in docs if d.source == held]
        train_all = cap_per_cell(exclude_overlap([d for d in docs if d.source != held], test), cap=cap)
        fit_part, calib_part = grouped_split(train_all, test_fraction=0.2)
        y_test = np.array([d.label for d in test])
        t0 = time.perf_counter()
        det = FastDetector().fit([d.text for d in fit_part], [d.label for d in fit_part],
                                 sample_weight=balanced_weights(fit_part))
        fit_s = time.perf_counter() - t0
        calib_scores = det.score_texts([d.text for d in calib_part if d.label == 0])
        threshold = threshold_for_fpr(calib_scores, 0.01)
        scores = det.score_texts([d.text for d in test])
        scored = np.isfinite(scores)  # texts outside the detector's languages score NaN; both models skip them
        test = [d for d, keep in zip(test, scored) if keep]
        y_test, scores = y_test[scored], scores[scored]
        fpr, tpr = rates(y_test, scores, threshold)
        prepared = [normalize(d.text) for d in fit_part]
        base = tfidf_baseline(prepared, [d.label for d in fit_part], balanced_weights(fit_part),
                              [normalize(d.text) for d in test])
        out[held] = {
            "n_test_human": int((y_test == 0).sum()), "n_test_ai": int((y_test == 1).sum()),
            "n_not_scored": int((~scored).sum()),
            "n_train": len(fit_part), "fit_seconds": round(fit_s, 1),
            "fast_auroc": round(float(roc_auc_score(y_test, scores)), 4),
            "fast_tpr_at_1pct_fpr_in_domain_threshold": round(tpr_at_fpr(y_test, scores), 4),
            "fast_fpr_at_training_threshold": round(fpr, 4),
            "fast_tpr_at_training_threshold": round(tpr, 4),
            "tfidf_lr_auroc": round(float(roc_auc_score(y_test, base)), 4),
            "tfidf_lr_tpr_at_1pct_fpr": round(tpr_at_fpr(y_test, base), 4),
        }
        print(f"  held out {held:14s} " + json.dumps(out[held]), flush=True)
    return out


def shipped_heldout(docs, cap: int) -> dict:
    """The shipped weights on the grouped held-out split they were not trained on."""
    det = sf.load_detector("fast")
    train, held = grouped_split(cap_per_cell(docs, cap=cap), test_fraction=0.2)
    keys = {d.key for d in train}
    held = [d for d in held if d.key not in keys]
    y = np.array([d.label for d in held])
    clean = det.score_texts([d.text for d in held])
    attacked = det.score_texts([attack(d.text, i) for i, d in enumerate(held)])
    scored = np.isfinite(clean) & np.isfinite(attacked)  # texts outside the detector's languages score NaN
    n_not_scored = int((~scored).sum())
    held = [d for d, keep in zip(held, scored) if keep]
    y, clean, attacked = y[scored], clean[scored], attacked[scored]
    fpr, tpr = rates(y, clean, det.threshold_)
    _, tpr_att = rates(y, attacked, det.threshold_)
    per_domain = {}
    for domain in sorted({d.domain for d in held if d.label == 0}):
        mask = np.array([d.label == 0 and d.domain == domain for d in held])
        if mask.sum() >= 20:
            per_domain[domain] = {"n": int(mask.sum()), "fpr": round(float((clean[mask] >= det.threshold_).mean()), 4)}
    return {
        "detector": det.tag, "threshold": det.threshold_, "n": len(held), "n_not_scored": n_not_scored,
        "auroc_clean": round(float(roc_auc_score(y, clean)), 4),
        "auroc_attacked": round(float(roc_auc_score(y, attacked)), 4),
        "fpr_at_threshold": round(fpr, 4), "tpr_clean": round(tpr, 4), "tpr_attacked": round(tpr_att, 4),
        "human_fpr_per_domain": per_domain,
    }


def _score_chunk(texts: list[str]) -> int:
    det = sf.load_detector("fast")
    det.score_texts(texts)
    return len(texts)


def throughput(docs) -> dict:
    texts = [d.text for d in docs if 180 <= len(d.text.split()) <= 220][:4000]
    words = float(np.mean([len(t.split()) for t in texts]))
    det = sf.load_detector("fast")
    det.score_texts(texts[:50])
    t0 = time.perf_counter()
    for i in range(0, len(texts), 1000):
        det.score_texts(texts[i:i + 1000])
    one = len(texts) / (time.perf_counter() - t0)
    chunks = [texts[i:i + 500] for i in range(0, len(texts), 500)]
    with mp.get_context("fork").Pool(2) as pool:
        pool.map(_score_chunk, chunks[:2])  # warm up: load weights in both workers
        t0 = time.perf_counter()
        pool.map(_score_chunk, chunks)
        two = len(texts) / (time.perf_counter() - t0)
    return {"n_docs": len(texts), "mean_words": round(words, 1), "docs_per_s_1_process": round(one),
            "docs_per_s_2_processes": round(two)}


TIERS = ("fast", "lm", "embed", "stack", "stack+embed")


def _make(tier: str):
    if tier == "stack+embed":
        return StackDetector(use_embedding=True)
    return sf.detect.DETECTORS[tier]()


def _fit(det, docs):
    kwargs = {"groups": [d.source for d in docs]} if isinstance(det, StackDetector) else {}
    return det.fit([d.text for d in docs], [d.label for d in docs], sample_weight=balanced_weights(docs), **kwargs)


def tiers_leave_one_source_out(sample, tiers=TIERS) -> dict:
    """Every tier and the cascade, trained on four sources' sample, tested on the fifth's."""
    out = {}
    for held in sorted({d.source for d in sample}):
        test = [d for d in sample if d.source == held]
        train_all = exclude_overlap([d for d in sample if d.source != held], test)
        fit_part, calib_part = grouped_split(train_all, test_fraction=0.2)
        y = np.array([d.label for d in test])
        y_cal = np.array([d.label for d in calib_part])
        texts, cal_texts = [d.text for d in test], [d.text for d in calib_part]
        row = {"n_test_human": int((y == 0).sum()), "n_test_ai": int((y == 1).sum()), "n_train": len(fit_part)}
        fitted = {}
        for tier in tiers:
            det = _fit(_make(tier), fit_part)
            if hasattr(det, "recalibrate"):
                det.recalibrate(cal_texts, y_cal, sample_weight=balanced_weights(calib_part))
            cal = det.score_texts(cal_texts)
            det.threshold_ = threshold_for_fpr(cal[y_cal == 0], 0.01)
            scores = det.score_texts(texts)
            fpr, tpr = rates(y, scores, det.threshold_)
            row[tier] = {"auroc": round(float(roc_auc_score(y, scores)), 4),
                         "tpr_at_1pct_fpr_in_domain_threshold": round(tpr_at_fpr(y, scores), 4),
                         "fpr_at_training_threshold": round(fpr, 4), "tpr_at_training_threshold": round(tpr, 4)}
            fitted[tier] = (det, scores)
        stack, stack_scores = fitted["stack"]
        low, high, share = choose_band(stack.fast_decision(cal_texts), stack.decision_function(cal_texts), y_cal)
        cascade = CascadeDetector.from_stack(stack, low, high)
        cascade.threshold_ = threshold_for_fpr(cascade.score_texts(cal_texts)[y_cal == 0], 0.01)
        c_scores = cascade.score_texts(texts)
        fpr, tpr = rates(y, c_scores, cascade.threshold_)
        row["cascade"] = {"auroc": round(float(roc_auc_score(y, c_scores)), 4),
                          "tpr_at_1pct_fpr_in_domain_threshold": round(tpr_at_fpr(y, c_scores), 4),
                          "fpr_at_training_threshold": round(fpr, 4), "tpr_at_training_threshold": round(tpr, 4),
                          "band": [round(low, 3), round(high, 3)], "escalated_share_calibration": round(share, 4),
                          "escalated_share_test": round(float(cascade.escalated(texts).mean()), 4)}
        attacked = stack.score_texts([attack(d.text, i) for i, d in enumerate(test)])
        row["stack_attack"] = {"tpr_clean": round(rates(y, stack_scores, stack.threshold_)[1], 4),
                               "tpr_attacked": round(rates(y, attacked, stack.threshold_)[1], 4),
                               "fpr_attacked": round(rates(y, attacked, stack.threshold_)[0], 4)}
        domains = {}
        for domain in sorted({d.domain for d in test if d.label == 0}):
            mask = np.array([d.label == 0 and d.domain == domain for d in test])
            domains[domain] = {"n": int(mask.sum()),
                               "fpr_stack": round(float((stack_scores[mask] >= stack.threshold_).mean()), 4),
                               "fpr_fast": round(float((fitted["fast"][1][mask] >= fitted["fast"][0].threshold_).mean()), 4)}
        row["human_fpr_per_domain_at_training_threshold"] = domains
        out[held] = row
        print(f"  held out {held:14s} " + json.dumps({k: v.get("auroc") for k, v in row.items() if isinstance(v, dict) and "auroc" in v}), flush=True)
    return out


def fit_in_source(sample, per_class: int = 500) -> dict:
    """``fit`` on 500 labelled texts per class of one source, AUROC on that source's grouped held-out rest."""
    out = {}
    for source in sorted({d.source for d in sample}):
        docs = [d for d in sample if d.source == source]
        train, test = grouped_split(docs, test_fraction=0.3, seed=1)
        keys = {d.key for d in train}
        test = [d for d in test if d.key not in keys]
        train = [d for label in (0, 1) for d in [x for x in train if x.label == label][:per_class]]
        y = np.array([d.label for d in test])
        row = {"n_train_human": sum(d.label == 0 for d in train), "n_train_ai": sum(d.label == 1 for d in train),
               "n_test": len(test)}
        for tier in ("fast", "lm", "stack"):
            det = _make(tier).fit([d.text for d in train], [d.label for d in train])
            row[tier] = round(float(roc_auc_score(y, det.score_texts([d.text for d in test]))), 4)
        # calibrate() from known-human text alone: FPR on the held-out humans
        det.calibrate([d.text for d in train if d.label == 0], target_fpr=0.01)
        fpr, tpr = rates(y, det.score_texts([d.text for d in test]), det.threshold_)
        row["stack_after_calibrate"] = {"fpr": round(fpr, 4), "tpr": round(tpr, 4)}
        out[source] = row
        print(f"  fit on {source:14s} " + json.dumps(row), flush=True)
    return out


def tier_throughput(docs, n: int = 120) -> dict:
    """Documents/second per tier on texts the LM cache has never seen (~200 words each)."""
    texts = [d.text for d in docs if 150 <= len(d.text.split()) <= 250]
    texts = sorted(texts, key=lambda t: sf.hash64(7, t))
    out = {}
    for name, count in (("lm", n), ("embed", 4 * n), ("stack", n), ("cascade", 4 * n)):
        det = sf.load_detector(name)
        det.score_texts(texts[-16:])  # load the models and warm up the kernels
        texts = texts[:-16]
        batch, texts = texts[:count], texts[count:]
        t0 = time.perf_counter()
        det.score_texts(batch)
        out[name] = {"n_docs": count, "docs_per_s": round(count / (time.perf_counter() - t0), 2)}
        if name == "cascade":
            out[name]["escalated_share"] = round(float(det.escalated(batch).mean()), 4)
        print(f"  throughput {name}: {out[name]}", flush=True)
    return out


SECTIONS = ("fast", "tiers", "fit", "speed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--cap", type=int, default=3000, help="fast tier's documents per cell (default 3000)")
    parser.add_argument("--tier-cap", type=int, default=DEFAULT_CAP["stack"],
                        help="documents per cell for the tier comparison (default: the shipped heavy tiers' cap)")
    parser.add_argument("--lm-cache", default=str(default_lm_cache()))
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="comma-separated subset of %s; others keep their previous results" % (SECTIONS,))
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    sections = [x for x in args.sections.split(",") if x]
    docs = [d for d in load_corpus(args.data) if d.source in SHIPPED_SOURCES]
    print(f"{len(docs)} documents from {sorted({d.source for d in docs})}")
    path = RESULTS / "detect.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["machine"] = {"cpus": mp.cpu_count(), "python": platform.python_version()}
    if "fast" in sections:
        loso = leave_one_source_out(docs, args.cap)
        shipped = shipped_heldout(docs, args.cap)
        print("  shipped weights, grouped held-out split: " + json.dumps(shipped))
        speed = throughput(docs)
        print("  throughput: " + json.dumps(speed))
        result["summary"] = {
            "fast_loso_mean_auroc": round(float(np.mean([r["fast_auroc"] for r in loso.values()])), 4),
            "tfidf_lr_loso_mean_auroc": round(float(np.mean([r["tfidf_lr_auroc"] for r in loso.values()])), 4),
            "fast_loso_mean_tpr_at_1pct_fpr": round(float(np.mean([r["fast_tpr_at_1pct_fpr_in_domain_threshold"] for r in loso.values()])), 4),
        }
        result.update({"cap_per_cell": args.cap, "leave_one_source_out": loso, "shipped_heldout": shipped,
                       "throughput": speed})
    sample = cap_per_cell(docs, cap=args.tier_cap)
    if {"tiers", "fit"} & set(sections):
        scorer = shared_scorer()
        print(f"  LM feature cache: {scorer.load_cache(args.lm_cache)} texts from {args.lm_cache}")
        scorer.features([d.text for d in sample], progress=True)
        scorer.save_cache(args.lm_cache)
    if "tiers" in sections:
        tiers = tiers_leave_one_source_out(sample)
        names = [*TIERS, "cascade"]
        result["tiers"] = {
            "cap_per_cell": args.tier_cap,
            "mean_auroc": {t: round(float(np.mean([r[t]["auroc"] for r in tiers.values()])), 4) for t in names},
            "min_auroc": {t: round(float(np.min([r[t]["auroc"] for r in tiers.values()])), 4) for t in names},
            "mean_tpr_at_1pct_fpr_in_domain_threshold": {
                t: round(float(np.mean([r[t]["tpr_at_1pct_fpr_in_domain_threshold"] for r in tiers.values()])), 4)
                for t in names},
            "leave_one_source_out": tiers,
        }
        print("  tiers: " + json.dumps({k: v for k, v in result["tiers"].items() if k != "leave_one_source_out"}))
    if "fit" in sections:
        result["fit_in_source"] = fit_in_source(sample)
    if "speed" in sections:
        sample_keys = {d.key for d in sample}
        result["tier_throughput"] = tier_throughput([d for d in docs if d.key not in sample_keys])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
