"""Detector benchmark: leave-one-source-out quality, attack robustness, throughput.

    python benchmarks/detect.py [--data ../shared/data/detect] [--cap 3000]

For every source folder: train on all other folders (texts shared with the held-out
folder removed), test on the whole held-out folder; report AUROC, TPR at 1% FPR
(threshold from the held-out folder's own human texts, i.e. what ``calibrate`` on
in-domain human text gives) and the FPR/TPR at the threshold chosen on the
training sources (what a user gets without calibrating). A TF-IDF + logistic
regression baseline is run on the same splits. Then: in-source AUROC of the shipped
weights on their grouped held-out split, clean vs character-attacked, and
documents/second for ~200-word documents on 1 and 2 processes.
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
        fpr, tpr = rates(y_test, scores, threshold)
        prepared = [normalize(d.text) for d in fit_part]
        base = tfidf_baseline(prepared, [d.label for d in fit_part], balanced_weights(fit_part),
                              [normalize(d.text) for d in test])
        out[held] = {
            "n_test_human": int((y_test == 0).sum()), "n_test_ai": int((y_test == 1).sum()),
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
    fpr, tpr = rates(y, clean, det.threshold_)
    _, tpr_att = rates(y, attacked, det.threshold_)
    per_domain = {}
    for domain in sorted({d.domain for d in held if d.label == 0}):
        mask = np.array([d.label == 0 and d.domain == domain for d in held])
        if mask.sum() >= 20:
            per_domain[domain] = {"n": int(mask.sum()), "fpr": round(float((clean[mask] >= det.threshold_).mean()), 4)}
    return {
        "detector": det.tag, "threshold": det.threshold_, "n": len(held),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--cap", type=int, default=3000)
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    docs = load_corpus(args.data)
    print(f"{len(docs)} documents from {sorted({d.source for d in docs})}")
    loso = leave_one_source_out(docs, args.cap)
    shipped = shipped_heldout(docs, args.cap)
    print("  shipped weights, grouped held-out split: " + json.dumps(shipped))
    speed = throughput(docs)
    print("  throughput: " + json.dumps(speed))
    summary = {
        "fast_loso_mean_auroc": round(float(np.mean([r["fast_auroc"] for r in loso.values()])), 4),
        "tfidf_lr_loso_mean_auroc": round(float(np.mean([r["tfidf_lr_auroc"] for r in loso.values()])), 4),
        "fast_loso_mean_tpr_at_1pct_fpr": round(float(np.mean([r["fast_tpr_at_1pct_fpr_in_domain_threshold"] for r in loso.values()])), 4),
    }
    print("summary: " + json.dumps(summary))
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"machine": {"cpus": mp.cpu_count(), "python": platform.python_version()},
              "cap_per_cell": args.cap, "summary": summary, "leave_one_source_out": loso,
              "shipped_heldout": shipped, "throughput": speed}
    (RESULTS / "detect.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS / 'detect.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
