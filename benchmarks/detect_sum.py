"""The standardised sum of several tiers' scores (an ensemble with no fitted combiner), leave-one-folder-out.

Built from the fold scores ``benchmarks/detect_folders.py`` saved for every tier, on the test
documents all of them scored (joined by text key). Each tier's score is standardised by the
mean and standard deviation of its own fold's calibration humans (nothing of the held-out
folder is used), and the standardised scores are added. Reported per held-out folder and per
language: the sum's AUROC and TPR at 1% FPR on the folder's own humans, and each tier's AUROC
alone on the same rows. Every tier scores every row, so the sum's speed is
``1 / sum(1 / speed)``.

Used through ``python benchmarks/detect_folders.py --sum fast,accurate,lm``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.detect import tpr_at_fpr

__all__ = ["joined_rows", "scored_auroc", "standardised", "sum_summary"]


def joined_rows(folds: dict[str, dict]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per held-out folder: (labels, languages, scores with one column per tier) on the test documents
    every tier of ``folds`` (tier -> :func:`detect_folders.load_folds` output) scored."""
    tiers = list(folds)
    out = {}
    for held in sorted(set.intersection(*(set(folds[t]) for t in tiers))):
        first = folds[tiers[0]][held]
        where = [{k: i for i, k in enumerate(folds[t][held]["key"])} for t in tiers]
        keys = [k for k in first["key"] if all(k in w for w in where)]
        index = [np.array([w[k] for k in keys], dtype=int) for w in where]
        y = first["y"][index[0]]
        for t, i in zip(tiers[1:], index[1:]):
            if not np.array_equal(folds[t][held]["y"][i], y):
                raise ValueError(f"{held}: saved labels disagree on the same documents ({tiers[0]} and {t})")
        langs = np.array([first["test"][j].lang for j in index[0]])
        scores = np.column_stack([folds[t][held]["s"][i] for t, i in zip(tiers, index)])
        out[held] = (y, langs, scores)
    return out


def _on_scored_rows(metric: Callable[[np.ndarray, np.ndarray], float], y: np.ndarray, s: np.ndarray) -> float | None:
    """``metric(y, s)`` over the rows with a score (not NaN); None unless both labels are among them."""
    ok = ~np.isnan(s)
    return float(metric(y[ok], s[ok])) if len(set(y[ok].tolist())) == 2 else None


def scored_auroc(y: np.ndarray, s: np.ndarray) -> float | None:
    """AUROC over the rows with a score; None unless both labels are among them."""
    return _on_scored_rows(roc_auc_score, y, s)


def _tpr(y: np.ndarray, s: np.ndarray) -> float | None:
    return _on_scored_rows(tpr_at_fpr, y, s)


def standardised(scores: np.ndarray, cal_human: np.ndarray) -> np.ndarray:
    """``scores`` in standard deviations of the fold's calibration humans ``cal_human`` above their mean."""
    return (scores - cal_human.mean()) / cal_human.std()


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def sum_summary(folds: dict[str, dict], speeds: dict[str, float | None]) -> dict:
    """Per folder, per language and mean: the standardised sum's AUROC and TPR at 1% FPR (own humans), each
    tier's AUROC on the same rows; documents/second when every tier's speed is known."""
    tiers = list(folds)
    per_folder, per_language = {}, {}
    for held, (y, langs, scores) in joined_rows(folds).items():
        summed = sum(standardised(scores[:, j], folds[t][held]["cal"]) for j, t in enumerate(tiers))
        per_folder[held] = {"n": int(len(y)), "sum_auroc": scored_auroc(y, summed), "sum_tpr_at_1pct_fpr": _tpr(y, summed),
                            "tier_auroc": {t: scored_auroc(y, scores[:, j]) for j, t in enumerate(tiers)}}
        for lang in sorted(set(langs.tolist())):
            m = langs == lang
            part = per_language.setdefault(lang, {"folders": 0, "sum": [], "tpr": [], "tiers": {t: [] for t in tiers}})
            part["folders"] += 1
            part["sum"].append(scored_auroc(y[m], summed[m]))
            part["tpr"].append(_tpr(y[m], summed[m]))
            for j, t in enumerate(tiers):
                part["tiers"][t].append(scored_auroc(y[m], scores[m, j]))
    languages = {lang: {"folders": p["folders"], "sum_auroc": _mean(p["sum"]), "sum_tpr_at_1pct_fpr": _mean(p["tpr"]),
                        "tier_auroc": {t: _mean(v) for t, v in p["tiers"].items()}} for lang, p in per_language.items()}
    rows = list(per_folder.values())
    mean = {"sum_auroc": _mean([r["sum_auroc"] for r in rows]),
            "sum_tpr_at_1pct_fpr": _mean([r["sum_tpr_at_1pct_fpr"] for r in rows]),
            "tier_auroc": {t: _mean([r["tier_auroc"][t] for r in rows]) for t in tiers}}
    known = [speeds.get(t) for t in tiers]
    docs_per_s = round(1.0 / sum(1.0 / s for s in known), 1) if all(known) else None
    return {"tiers": tiers, "per_folder": per_folder, "per_language": languages, "mean": mean, "docs_per_s": docs_per_s}
