"""Paraphrase robustness of the ``fast`` tier, leave-one-folder-out over the English folders.

    python benchmarks/detect_paraphrase.py [--test-per-folder 60] [--train-per-folder 60] [--cap 1500]

For every English folder of ``../shared/data/detect``: fit ``fast`` on the other folders
(as ``detect_folders.py`` does: at most ``--cap`` documents per (folder, label), grouped
80/20 split, every cell weighted equally), then score the held-out folder's human texts,
its AI texts and local SmolLM2 paraphrases of those AI texts (``--test-per-folder`` of
each, hash-chosen; all cut to the same 120 words, so length says nothing). Reported:
AUROC human vs AI and human vs paraphrased AI, and the share flagged at the transferred
threshold (the ``shipped_alpha`` quantile of the calibration humans, from
``benchmarks/results/detect_folders.json``). Then the same after paraphrase-augmented
training: ``--train-per-folder`` paraphrases of each training folder's AI texts are added
to its AI side (a paraphrase is still AI text). Paraphrases are cached in
``$SYNTHFILTER_CACHE`` (default ``~/.cache/synthfilter``); they are derived from the
corpus, so they never go into the repository.

Writes benchmarks/results/detect_paraphrase.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import write_result  # noqa: E402
from benchmarks.detect_folders import alpha_threshold, test_sample  # noqa: E402
from synthfilter.detect.corpus import (  # noqa: E402
    Document, balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, grouped_split, load_corpus,
)
from synthfilter.detect.fast import FastDetector  # noqa: E402
from synthfilter.detect.paraphrase import Paraphraser  # noqa: E402
from synthfilter.hashing import hash64  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WORDS = 120


def cut(text: str) -> str:
    return " ".join(text.split()[:WORDS])


def fit_fast(docs: list[Document]) -> FastDetector:
    return FastDetector().fit([cut(d.text) for d in docs], [d.label for d in docs], sample_weight=balanced_weights(docs))


def flagged(scores: np.ndarray, threshold: float) -> float:
    return round(float((scores >= threshold).mean()), 4)


def evaluate(det: FastDetector, cal_humans: list[Document], humans: list[str], ai: list[str], para: list[str],
             alpha: float) -> dict:
    t = alpha_threshold(det.ai_score([cut(d.text) for d in cal_humans], any_language=True), alpha)
    sh, sa, sp = (det.ai_score(x, any_language=True) for x in (humans, ai, para))
    y = np.r_[np.zeros(len(sh)), np.ones(len(sa))]
    return {"auroc_ai": round(float(roc_auc_score(y, np.r_[sh, sa])), 4),
            "auroc_paraphrased": round(float(roc_auc_score(y, np.r_[sh, sp])), 4),
            "human_flagged": flagged(sh, t), "ai_flagged": flagged(sa, t), "paraphrased_flagged": flagged(sp, t)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--test-per-folder", type=int, default=60)
    parser.add_argument("--train-per-folder", type=int, default=60)
    parser.add_argument("--cap", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=0, help="torch threads for generation (default: torch's choice)")
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    alpha = json.loads((RESULTS / "detect_folders.json").read_text())["tiers"]["fast"]["summary"]["shipped_alpha"]
    cache = Path(os.environ.get("SYNTHFILTER_CACHE") or Path.home() / ".cache" / "synthfilter") / "paraphrases-v1.jsonl"
    paraphrase = Paraphraser(max_words=WORDS, batch_size=16, cache=cache)
    docs = load_corpus(args.data)
    english = sorted({d.source for d in docs} - {d.source for d in docs if d.lang != "en"})
    docs = [d for d in docs if d.source in english]
    t0 = time.perf_counter()
    # the paraphrased training AI texts: hash-chosen per folder, the same whichever folder is held out
    train_para = {}
    for source in english:
        ai = sorted((d for d in docs if d.source == source and d.label == 1), key=lambda d: hash64(3, str(d.key)))
        chosen = ai[: args.train_per_folder]
        train_para[source] = [replace(d, text=p, key=hash64(4, p)) for d, p in zip(chosen, paraphrase([d.text for d in chosen],
                                                                                                      progress=True))]
    per_folder = {}
    for held in english:
        held_docs = [d for d in docs if d.source == held]
        test = test_sample(held_docs, args.test_per_folder)
        humans = [cut(d.text) for d in test if d.label == 0]
        ai_docs = [d for d in test if d.label == 1]
        ai, para = [cut(d.text) for d in ai_docs], [cut(p) for p in paraphrase([d.text for d in ai_docs], progress=True)]
        train = cap_per_cell(exclude_overlap([d for d in docs if d.source != held], held_docs), cap=args.cap)
        fit_part, cal_part = grouped_split(train, test_fraction=0.2)
        cal_humans = [d for d in cal_part if d.label == 0]
        augmented = fit_part + [p for source, ps in train_para.items() if source != held for p in ps]
        per_folder[held] = {"n_human": len(humans), "n_ai": len(ai),
                            "plain": evaluate(fit_fast(fit_part), cal_humans, humans, ai, para, alpha),
                            "paraphrase_trained": evaluate(fit_fast(augmented), cal_humans, humans, ai, para, alpha)}
        print(held, json.dumps(per_folder[held]), flush=True)
    mean = {kind: {k: round(float(np.mean([r[kind][k] for r in per_folder.values()])), 4)
                   for k in per_folder[english[0]][kind]} for kind in ("plain", "paraphrase_trained")}
    result = {"per_folder": per_folder, "mean": mean, "alpha": alpha, "words": WORDS, "cap_per_cell": args.cap,
              "train_paraphrases_per_folder": args.train_per_folder, "seconds": round(time.perf_counter() - t0, 1),
              "paraphraser": {k: v for k, v in vars(paraphrase).items() if not k.startswith("_") and k != "cache"}}
    write_result("detect_paraphrase.json", result)
    print(json.dumps(mean, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
