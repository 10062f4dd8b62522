"""Rebuild the shipped detector weights from the labelled corpus, deterministically.

Usage::

    python -m synthfilter.detect.train [--data ../shared/data/detect] [--out synthfilter/detect/weights]

Every source folder under ``--data`` is used (new ones are picked up). Each
(source, label) cell is capped at ``--cap`` documents chosen by hash, rows are
weighted so every cell counts equally, and a grouped 80/20 split per source keeps
the held-out 20% for choosing the default threshold: the smallest one that flags at
most 1% of the held-out human texts. The same inputs give byte-identical weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from .base import threshold_for_fpr
from .corpus import balanced_weights, cap_per_cell, default_corpus_dir, grouped_split, load_corpus
from .registry import DETECTORS, weights_path

__all__ = ["train_shipped", "main"]

#: Version written into ``sf_detector``; bump when features, data or training change.
WEIGHTS_VERSION = "1"


def train_shipped(name: str = "fast", data: str | Path | None = None, cap: int = 3000,
                  target_fpr: float = 0.01, seed: int = 0, out_dir: str | Path | None = None) -> Path:
    """Train detector ``name`` on every source in ``data`` and write its weights; return the path."""
    docs = cap_per_cell(load_corpus(data), cap=cap, seed=seed)
    train, held = grouped_split(docs, test_fraction=0.2, seed=seed)
    train_keys = {d.key for d in train}
    held = [d for d in held if d.key not in train_keys]  # a text shared by two sources
    det = DETECTORS[name]()
    det.version_ = WEIGHTS_VERSION
    det.fit([d.text for d in train], [d.label for d in train], sample_weight=balanced_weights(train))
    held_scores = det.score_texts([d.text for d in held])
    labels = np.array([d.label for d in held])
    det.threshold_ = threshold_for_fpr(held_scores[labels == 0], target_fpr)
    per_source = {}
    for source in sorted({d.source for d in held}):
        mask = np.array([d.source == source for d in held])
        if len(set(labels[mask].tolist())) == 2:
            per_source[source] = round(float(roc_auc_score(labels[mask], held_scores[mask])), 4)
    det.info_ = {
        "trained_on": sorted({d.source for d in train}),
        "n_train": len(train),
        "n_heldout": len(held),
        "heldout_in_source_auroc": per_source,
        "heldout_human_fpr": round(float((held_scores[labels == 0] >= det.threshold_).mean()), 4),
        "target_fpr": target_fpr,
        "seed": seed,
        "cap_per_cell": cap,
    }
    path = Path(out_dir) / f"{name}.npz" if out_dir else weights_path(name)
    det.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthfilter.detect.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()), help="corpus folder (default: %(default)s)")
    parser.add_argument("--detector", default="fast", choices=sorted(DETECTORS))
    parser.add_argument("--cap", type=int, default=3000, help="documents per (source, label) (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output folder (default: the package's weights folder)")
    args = parser.parse_args(argv)
    path = train_shipped(args.detector, args.data, cap=args.cap, seed=args.seed, out_dir=args.out)
    det = DETECTORS[args.detector].load(path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), {det.tag}, threshold {det.threshold_:.4f}")
    for key, value in det.info_.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
