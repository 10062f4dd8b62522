"""Decision thresholds from known-human scores (what :meth:`BaseDetector.calibrate` sets)."""

from __future__ import annotations

import numpy as np

__all__ = ["threshold_for_fpr"]


def threshold_for_fpr(human_scores: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold such that at most ``target_fpr`` of ``human_scores`` are ``>=`` it.

    Parameters
    ----------
    human_scores:
        Scores (probabilities of AI) of texts known to be human-written.
    target_fpr:
        Largest share of them allowed at or above the threshold, in (0, 1).
    """
    scores = np.sort(np.asarray(human_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(target_fpr * len(scores)))
    if allowed >= len(scores):
        return float(scores[-1])
    # Strictly above the (allowed+1)-th highest score, so exactly `allowed` may pass.
    return float(np.nextafter(scores[allowed], np.inf))
