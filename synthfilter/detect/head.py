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

from .base import BaseDetector
from .inputs import as_texts, require_scorable
from .labels import targets_01
from .state import ArraySpec

__all__ = ["LinearHead", "HeadDetector", "checked_labels"]


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

    @staticmethod
    def array_specs(prefix: str, width: int | str) -> dict[str, ArraySpec]:
        """What :meth:`to_arrays` writes for ``width`` features (a ``str`` width: any, shared)."""
        return {
            f"{prefix}mean": ArraySpec("f", (width,)), f"{prefix}scale": ArraySpec("f", (width,), positive=True),
            f"{prefix}coef": ArraySpec("f", (width,)), f"{prefix}intercept": ArraySpec("f", (1,)),
            f"{prefix}platt": ArraySpec("f", (2,)),
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
        """Fit only the linear head; heavy feature models stay frozen (parameters as
        :meth:`BaseDetector.fit`; ``groups`` unused)."""
        texts = as_texts(texts)
        targets = self._fit_targets(texts, labels)
        self.head_ = LinearHead(C=self.C).fit(self.features(texts), targets.y, sample_weight)
        self._set_fitted(targets)
        return self

    def recalibrate(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None) -> "HeadDetector":
        """Refit only the probability scale (Platt) on held-out labelled texts (``classes_`` is kept)."""
        texts = as_texts(texts)
        self._check_fitted()
        self.head_.recalibrate(self.features(texts), checked_labels(texts, labels), sample_weight)
        return self

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.head_.decision(self.features(texts))

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.head_.to_arrays("head_")

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.head_ = LinearHead.from_arrays(arrays, "head_", C=self.C)

    def _feature_width(self) -> int | str:
        """Number of features per text for the current parameters (a ``str``: not known without the model)."""
        return "features"

    def _expected_arrays(self) -> dict[str, ArraySpec]:
        return LinearHead.array_specs("head_", self._feature_width())


def checked_labels(texts: list, labels: Sequence) -> np.ndarray:
    """0/1 targets of ``labels`` for re-fitting on ``texts``; every text must be scorable."""
    y = targets_01(labels, len(texts))
    require_scorable(texts, "texts", "remove or fix them first")
    return y
