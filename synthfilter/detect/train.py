"""Rebuild the shipped detector weights from the labelled corpus, deterministically.

Usage::

    python -m synthfilter.detect.train [--detector NAME] [--data ../shared/data/detect] [--out DIR]
    synthfilter detector train [--detector NAME] ...        # the same command

Rebuilds every shipped detector (``fast``, ``lm``, ``embed``, ``stack``, ``cascade``,
``accurate``, ``lm-hidden``, ``multilingual``) or one (``--detector``). The tiers of
:data:`ALL_FOLDER_TIERS` are trained on every source folder under ``--data`` (all languages); the others on the English folders
their ``@1`` weights were trained on. Each (source, label) cell is capped at ``--cap`` documents chosen by hash, rows
are weighted so every cell counts equally, and a grouped 80/20 split per source keeps the
held-out 20% for the Platt recalibration of the heavy tiers, the cascade's band and the
default threshold: the smallest one that flags at most the tier's :data:`SHIPPED_ALPHA` share
(else 1%) of the held-out human texts.
The same inputs give the same weights (the LM tiers up to floating-point noise of the
language model across machines; ``accurate`` up to torch's CPU kernels and thread count).
``accurate@4`` took about 14 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from .base import SHIPPED_CLASSES, BaseDetector, threshold_for_fpr
from .corpus import Document, balanced_weights, cap_per_cell, default_corpus_dir, grouped_split, load_corpus
from .lm import shared_scorer
from .registry import DETECTORS, weights_path
from .recipe import (ALL_FOLDER_TIERS, DEFAULT_CAP, SHIPPED, SHIPPED_ALPHA, SHIPPED_LANGUAGES, SHIPPED_SOURCES,
                     WEIGHTS_VERSION, WEIGHTS_VERSIONS, add_arguments, default_lm_cache)
from .stack import CascadeDetector, StackDetector, choose_band

__all__ = ["train_shipped", "fit_shipped_detector", "default_lm_cache", "SHIPPED", "add_arguments", "run", "main"]

def fit_shipped_detector(name: str, train: list[Document], held: list[Document], target_fpr: float = 0.01) -> BaseDetector:
    """Fit detector ``name`` on ``train``; recalibrate, choose the threshold (and the cascade band) on ``held``.

    ``target_fpr`` is the share of ``held``'s human texts left above the threshold (default 0.01).
    """
    texts = [d.text for d in train]
    labels = [SHIPPED_CLASSES[d.label] for d in train]  # classes_ = the sf_label vocabulary
    weights = balanced_weights(train)
    held_texts, held_labels = [d.text for d in held], np.array([d.label for d in held])
    if name in ("stack", "cascade"):
        det = StackDetector().fit(texts, labels, sample_weight=weights, groups=[d.source for d in train])
    else:
        det = DETECTORS[name]().fit(texts, labels, sample_weight=weights)
    if hasattr(det, "recalibrate"):
        det.recalibrate(held_texts, held_labels, sample_weight=balanced_weights(held))
    if name == "cascade":
        gate = det.fast_decision(held_texts)
        low, high, share = choose_band(gate, det.ai_score(held_texts, any_language=True), held_labels)
        det = CascadeDetector.from_stack(det, low, high)
        det.info_ = {"heldout_escalated_share": round(share, 4)}
    held_scores = det.score_texts(held_texts, any_language=True)
    det.threshold_ = threshold_for_fpr(held_scores[held_labels == 0], target_fpr)
    det.languages_ = SHIPPED_LANGUAGES.get(name, det.languages_)
    per_source = {}
    for source in sorted({d.source for d in held}):
        mask = np.array([d.source == source for d in held])
        if len(set(held_labels[mask].tolist())) == 2:
            per_source[source] = round(float(roc_auc_score(held_labels[mask], held_scores[mask])), 4)
    det.info_ = {
        **getattr(det, "info_", {}),
        "trained_on": sorted({d.source for d in train}),
        "n_train": len(train),
        "n_heldout": len(held),
        "heldout_in_source_auroc": per_source,
        "heldout_human_fpr": round(float((held_scores[held_labels == 0] >= det.threshold_).mean()), 4),
        "target_fpr": target_fpr,
    }
    return det


def train_shipped(name: str = "fast", data: str | Path | None = None, cap: int | None = None,
                  target_fpr: float | None = None, seed: int = 0, out_dir: str | Path | None = None,
                  lm_cache: str | Path | None = None, sources: Sequence[str] | None | str = "default") -> Path:
    """Train detector ``name`` on the ``sources`` folders of ``data`` and write its weights; return the path.

    ``sources`` ``"default"`` takes every folder for the tiers of :data:`ALL_FOLDER_TIERS` and
    the English folders the shipped ``@1`` weights were trained on for the others, so
    rerunning reproduces them even after new folders arrive; ``None`` takes every folder.
    ``target_fpr``: see :func:`fit_shipped_detector`; default the tier's :data:`SHIPPED_ALPHA`, else 0.01.
    ``lm_cache`` (default :func:`default_lm_cache`) keeps the language-model
    features between runs; it only saves time, the weights are the same without it.
    """
    cap = cap or DEFAULT_CAP.get(name, 750)
    if sources == "default":
        sources = None if name in ALL_FOLDER_TIERS else SHIPPED_SOURCES
    corpus = load_corpus(data)
    if sources is not None:
        missing = set(sources) - {d.source for d in corpus}
        if missing:
            raise FileNotFoundError(f"sources {sorted(missing)} not found under {data or default_corpus_dir()}")
        corpus = [d for d in corpus if d.source in set(sources)]
    docs = cap_per_cell(corpus, cap=cap, seed=seed)
    train, held = grouped_split(docs, test_fraction=0.2, seed=seed)
    train_keys = {d.key for d in train}
    held = [d for d in held if d.key not in train_keys]  # a text shared by two sources
    cache = Path(lm_cache) if lm_cache else default_lm_cache()
    scorer = shared_scorer()
    if name in ("lm", "stack", "cascade"):
        scorer.load_cache(cache)
        scorer.features([d.text for d in docs], progress=True)
        scorer.save_cache(cache)
    det = fit_shipped_detector(name, train, held, SHIPPED_ALPHA.get(name, 0.01) if target_fpr is None else target_fpr)
    det.version_ = WEIGHTS_VERSIONS.get(name, WEIGHTS_VERSION)
    det.info_ = {**det.info_, "seed": seed, "cap_per_cell": cap}
    path = Path(out_dir) / f"{name}.npz" if out_dir else weights_path(name)
    det.save(path)
    return path


def run(args: argparse.Namespace) -> int:
    """Rebuild the detectors ``args`` name (see :func:`add_arguments`) and print what was written."""
    names = SHIPPED if args.detector == "all" else (args.detector,)
    for name in names:
        sources = None if args.sources == "all" else "default" if args.sources == "default" else tuple(args.sources.split(","))
        path = train_shipped(name, args.data, cap=args.cap, seed=args.seed, out_dir=args.out, lm_cache=args.lm_cache,
                             sources=sources)
        det = DETECTORS[name].load(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), {det.tag}, threshold {det.threshold_:.4f}", flush=True)
        for key, value in det.info_.items():
            print(f"  {key}: {value}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthfilter.detect.train", description=__doc__.split("\n")[0])
    return run(add_arguments(parser).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
