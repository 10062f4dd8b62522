"""``synthfilter detector fit`` as a function: fit a fresh detector on labelled texts, its threshold and AUROC from
a hash-chosen held-out part (see :mod:`synthfilter.detect.cli` for the rules)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["HELD_OUT", "fit_detector", "flagged", "needed_humans", "read_labels"]

#: Share of the rows (by group) that ``detector fit`` holds out for the threshold and the AUROC.
HELD_OUT = 0.2

def needed_humans(target_fpr: float) -> int:
    """Human texts needed to resolve ``target_fpr`` (as :meth:`BaseDetector.calibrate` requires)."""
    return int(np.ceil(1.0 / target_fpr))


def flagged(scores: np.ndarray, threshold: float) -> tuple[int, float]:
    """How many of ``scores`` are at or above ``threshold``, and their share."""
    flagged = int(np.count_nonzero(scores >= threshold))
    return flagged, flagged / len(scores) if len(scores) else math.nan


def read_labels(values: list, column: str, source: str) -> np.ndarray:
    """0 (human) / 1 (AI) per row; ``ValueError`` naming the rows whose label cannot be read."""
    from .labels import coerce_labels

    seen: dict[tuple[str, str], int] = {}
    y = np.empty(len(values), dtype=np.int64)
    bad: list[int] = []
    for i, value in enumerate(values):
        key = (type(value).__name__, repr(value))
        if key not in seen:
            try:
                seen[key] = int(coerce_labels([value])[0])
            except ValueError:
                seen[key] = -1
        y[i] = seen[key]
        if seen[key] < 0:
            bad.append(i)
    if bad:
        shown = ", ".join(f"{i} ({values[i]!r})" for i in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(f"--label-column {column}: row(s) {shown}{more} of {source} hold no readable class; "
                         "expected human/ai (or real/synthetic, 0/1, false/true)")
    return y


def _group_keys(texts: list[str], groups: list | None) -> list:
    """What the held-out split hashes per row: the group value, else the normalised, lower-cased text."""
    from .corpus import text_key

    if groups is None:
        return [text_key(t) for t in texts]
    return ["\x00null" if g is None else str(g) for g in groups]


def _auroc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(set(y.tolist())) < 2:
        return math.nan
    return float(roc_auc_score(y, scores))


def _class_weights(y: np.ndarray) -> np.ndarray:
    """Weights giving both classes the same total, mean 1."""
    counts = np.bincount(y, minlength=2).astype(np.float64)
    w = 1.0 / counts[y]
    return w * (len(y) / w.sum())


# ----------------------------------------------------------------------------- fit
def fit_detector(name: str, texts: list[str], y: np.ndarray, groups: list | None = None, *,
                 target_fpr: float = 0.01, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """Fit a fresh detector ``name`` on ``texts``/``y`` (1 = AI) as ``synthfilter detector fit`` does.

    Returns the detector (threshold set) and a summary dict: rows and classes of the fit
    and held-out parts, the held-out AUROC, where the threshold came from
    (``"held-out"`` or ``"all-human"``) and the rates at it. See the module docstring.
    """
    from ..hashing import hash64
    from .base import SHIPPED_CLASSES, threshold_for_fpr
    from .registry import load_detector
    from .stack import CascadeDetector, StackDetector, choose_band

    y = np.asarray(y, dtype=np.int64)
    needed = needed_humans(target_fpr)
    if int((y == 0).sum()) < needed:
        raise ValueError(f"--target-fpr {target_fpr} needs at least {needed} human rows to be resolvable; DATA "
                         f"has {int((y == 0).sum())}: give more human rows or raise --target-fpr")
    keys = _group_keys(texts, groups)
    held = np.array([hash64(seed, k) / 2.0**64 < HELD_OUT for k in keys], dtype=bool)
    fit_y = y[~held]
    if len(set(fit_y.tolist())) < 2:
        raise ValueError(f"DATA: the {int((~held).sum())} rows left to fit on after holding out {HELD_OUT:.0%} "
                         f"hold {int((fit_y == 0).sum())} human and {int((fit_y == 1).sum())} AI rows; "
                         "give more rows of each class")
    fit_texts = [t for t, h in zip(texts, held) if not h]
    held_texts = [t for t, h in zip(texts, held) if h]
    held_y = y[held]
    labels = [SHIPPED_CLASSES[v] for v in fit_y.tolist()]  # classes_ = the sf_label vocabulary
    weights = _class_weights(fit_y)
    fit_groups = None if groups is None else [k for k, h in zip(keys, held) if not h]
    if name in ("stack", "cascade"):
        det = StackDetector().fit(fit_texts, labels, sample_weight=weights, groups=fit_groups)
    else:
        det = load_detector(name, fitted=False).fit(fit_texts, labels, sample_weight=weights)
    both = len(set(held_y.tolist())) == 2
    if both and hasattr(det, "recalibrate"):
        det.recalibrate(held_texts, held_y, sample_weight=_class_weights(held_y))
    if name == "cascade":  # the band: narrowest whose held-out AUROC is within 0.01 of the stack's
        low, high = CascadeDetector().band_low, CascadeDetector().band_high
        if both:
            low, high, _ = choose_band(det.fast_decision(held_texts), det.ai_score(held_texts, any_language=True), held_y)
        det = CascadeDetector.from_stack(det, low, high)
    held_scores = det.score_texts(held_texts, any_language=True) if held_texts else np.zeros(0)
    held_humans = held_scores[held_y == 0]
    if len(held_humans) >= needed:
        basis, human_scores = "held-out", held_humans
    else:  # too few held-out humans to resolve the rate: every human row (see the module docstring)
        fit_humans = det.score_texts([t for t, v in zip(fit_texts, fit_y) if v == 0], any_language=True)
        basis, human_scores = "all-human", np.concatenate([held_humans, fit_humans])
    det.threshold_ = threshold_for_fpr(human_scores, target_fpr)
    summary = {
        "fit_rows": len(fit_texts), "fit_human": int((fit_y == 0).sum()), "fit_ai": int((fit_y == 1).sum()),
        "held_rows": len(held_texts), "held_human": int((held_y == 0).sum()), "held_ai": int((held_y == 1).sum()),
        "held_auroc": _auroc(held_y, held_scores) if held_texts else math.nan,
        "threshold_basis": basis, "threshold_humans": len(human_scores), "needed": needed,
        "human_fpr": flagged(human_scores, det.threshold_)[1],
        "held_human_fpr": flagged(held_humans, det.threshold_)[1],
        "held_ai_tpr": flagged(held_scores[held_y == 1], det.threshold_)[1],
    }
    det.info_ = {**getattr(det, "info_", {}), "n_train": len(fit_texts), "n_heldout": len(held_texts),
                 "heldout_auroc": None if math.isnan(summary["held_auroc"]) else round(summary["held_auroc"], 4),
                 "threshold_from": basis, "target_fpr": target_fpr, "seed": seed}
    return det, summary
