"""A small calibrated linear head over dense features, shared by the heavier tiers.

Standardise, logistic regression, then an optional Platt recalibration
``sigmoid(a * z + b)`` of the decision value ``z`` fitted on held-out rows, so the
probability means the same thing on data the regression did not see. The state is a
handful of arrays, saved inside a detector's ``.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from .base import BaseDetector, coerce_labels

__all__ = ["LinearHead", "HeadDetector"]


class LinearHead:
    """Standardised logistic regression with Platt recalibration.

    Parameters
    ----------
    C:
        Inverse L2 regularisation strength. Default 1.0.
    max_iter:
        Solver iteration cap. Default 3000.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 3000) -> None:
        self.C = C
        self.max_iter = max_iter
        self.platt = (1.0, 0.0)

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Sequence[float] | None = None) -> "LinearHead":
        """Fit on rows ``X`` with 0/1 labels ``y``; NaN features are set to the column mean."""
        X = np.asarray(X, dtype=np.float64)
        self.mean = np.nanmean(X, axis=0)
        self.mean[np.isnan(self.mean)] = 0.0
        centred = np.where(np.isnan(X), 0.0, X - self.mean)
        self.scale = centred.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.fit(centred / self.scale, y, sample_weight=sample_weight)
        self.coef = model.coef_.ravel().copy()
        self.intercept = float(model.intercept_[0])
        self.platt = (1.0, 0.0)
        return self

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Decision value of the regression before recalibration."""
        X = np.asarray(X, dtype=np.float64)
        z = np.where(np.isnan(X), 0.0, (X - self.mean) / self.scale)
        return z @ self.coef + self.intercept

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Calibrated log-odds of being AI-generated."""
        a, b = self.platt
        return a * self.raw(X) + b

    def recalibrate(self, X: np.ndarray, y: np.ndarray, sample_weight: Sequence[float] | None = None) -> "LinearHead":
        """Fit the Platt scaling on held-out rows ``X``/``y`` (the regression is kept)."""
        z = self.raw(X)[:, None]
        model = LogisticRegression(C=1e4, max_iter=1000).fit(z, y, sample_weight=sample_weight)
        self.platt = (float(model.coef_[0, 0]), float(model.intercept_[0]))
        return self

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """State as arrays named ``prefix + field``."""
        return {
            f"{prefix}mean": self.mean, f"{prefix}scale": self.scale, f"{prefix}coef": self.coef,
            f"{prefix}intercept": np.array([self.intercept]), f"{prefix}platt": np.array(self.platt),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, C: float = 1.0) -> "LinearHead":
        """Rebuild a head saved by :meth:`to_arrays`."""
        head = cls(C=C)
        head.mean = arrays[f"{prefix}mean"].astype(np.float64)
        head.scale = arrays[f"{prefix}scale"].astype(np.float64)
        head.coef = arrays[f"{prefix}coef"].astype(np.float64)
        head.intercept = float(arrays[f"{prefix}intercept"][0])
        platt = arrays[f"{prefix}platt"]
        head.platt = (float(platt[0]), float(platt[1]))
        return head


class HeadDetector(BaseDetector):
    """A detector that is a :class:`LinearHead` over dense per-text features.

    Subclasses implement ``features(texts) -> (n, k) array`` (and may extend
    ``fit``); this class fits the head, scores, and saves the head's arrays.
    """

    C: float = 1.0

    def features(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "HeadDetector":
        """Fit the head on ``texts`` and ``labels`` (human/ai; see :func:`coerce_labels`).

        Heavy feature models stay frozen; only the linear head is learnt. ``groups``
        is accepted for a common signature with :class:`StackDetector` and unused
        here. The threshold is set to 0.5; use :meth:`calibrate` on known-human text.
        """
        texts = list(texts)
        y = _checked_labels(texts, labels)
        self.head_ = LinearHead(C=self.C).fit(self.features(texts), y, sample_weight)
        self.threshold_ = 0.5
        self.version_ = getattr(self, "version_", "custom")
        return self

    def recalibrate(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None) -> "HeadDetector":
        """Refit only the probability scale (Platt) on held-out labelled texts."""
        self._check_fitted()
        texts = list(texts)
        self.head_.recalibrate(self.features(texts), _checked_labels(texts, labels), sample_weight)
        return self

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.head_.decision(self.features(texts))

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.head_.to_arrays("head_")

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.head_ = LinearHead.from_arrays(arrays, "head_", C=self.C)


def _checked_labels(texts: Sequence[str], labels: Sequence) -> np.ndarray:
    y = coerce_labels(labels)
    if len(y) != len(texts):
        raise ValueError(f"texts and labels differ in length: {len(texts)} vs {len(y)}")
    if len(set(y.tolist())) < 2:
        raise ValueError("labels: both classes (human and ai) are needed to fit")
    return y
