"""The ``fast`` detector: hashed word n-grams plus stylometry, logistic regression.

A triage detector: thousands of documents per second on a laptop core, no model
download, weights of about a megabyte. Texts are normalised
(:func:`synthfilter.text.normalize`) and cut to ``max_words`` words before scoring,
so a long document costs the same as a short one and the score does not depend on
formatting or document length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ..text import normalize
from .base import BaseDetector
from .features import STYLE_FEATURES, lexical_features, style_features, truncate_words
from .inputs import as_texts
from .state import ArraySpec

__all__ = ["FastDetector"]


class FastDetector(BaseDetector):
    """Cheap AI-text detector over hashed word 1-2 grams and stylometric statistics.

    Parameters
    ----------
    max_words:
        Words of each (normalised) text that are scored; the rest is ignored.
        Default 200.
    n_features:
        Size of the hashed n-gram space. Default ``2**18``.
    style_weight:
        Scale of the standardised stylometric block relative to the L2-normalised
        n-gram block; larger lets style dominate. Default 0.1.
    C:
        Inverse L2 regularisation strength of the logistic regression. Default 1.0.
    max_iter:
        Iteration cap of the solver. Default 3000.
    """

    name = "fast"
    _param_ranges = {"max_words": (1, 10**6), "n_features": (1, 2**24), "style_weight": (0.0, 1e6),
                     "C": (1e-12, 1e12), "max_iter": (1, 10**7)}

    def __init__(self, max_words: int = 200, n_features: int = 2**18, style_weight: float = 0.1,
                 C: float = 1.0, max_iter: int = 3000) -> None:
        self.max_words = max_words
        self.n_features = n_features
        self.style_weight = style_weight
        self.C = C
        self.max_iter = max_iter

    # ----------------------------------------------------------------- features
    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Normalise and truncate texts exactly as scoring does."""
        return [truncate_words(normalize(t), self.max_words) for t in texts]

    def feature_blocks(self, prepared: list[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(hashed n-gram matrix, stylometric block) of :meth:`prepare`-d texts; the stack reuses them across folds."""
        return lexical_features(prepared, self.n_features), style_features(prepared)

    def _design(self, lexical: sparse.csr_matrix, style: np.ndarray) -> sparse.csr_matrix:
        scaled = (style - self.style_mean_) / self.style_scale_ * self.style_weight
        return sparse.hstack([lexical, sparse.csr_matrix(scaled.astype(np.float32))], format="csr")

    # -------------------------------------------------------------------- learn
    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "FastDetector":
        """Learn the n-gram and stylometric weights (parameters as :meth:`BaseDetector.fit`; ``groups`` unused)."""
        texts = as_texts(texts)
        targets = self._fit_targets(texts, labels)
        lexical, style = self.feature_blocks(self.prepare(texts))
        self.fit_blocks(lexical, style, targets.y, sample_weight)
        self._set_fitted(targets)
        return self

    def fit_blocks(self, lexical: sparse.csr_matrix, style: np.ndarray, y: np.ndarray,
                   sample_weight: Sequence[float] | None = None) -> "FastDetector":
        """Fit the weights on precomputed :meth:`feature_blocks` and 0/1 targets ``y``; returns ``self``
        (classes and threshold are left to :meth:`fit`)."""
        scaler = StandardScaler().fit(style)
        self.style_mean_ = scaler.mean_.astype(np.float32)
        self.style_scale_ = scaler.scale_.astype(np.float32)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(self._design(lexical, style), y, sample_weight=sample_weight)
        # Files store float32 coefficients: score with exactly those, so a saved detector scores identically.
        self.model_.coef_ = self.model_.coef_.astype(np.float32).astype(np.float64)
        return self

    def decision_blocks(self, lexical: sparse.csr_matrix, style: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of the positive target from precomputed :meth:`feature_blocks`."""
        return self.model_.decision_function(self._design(lexical, style))

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.decision_blocks(*self.feature_blocks(self.prepare(texts)))

    # -------------------------------------------------------------- persistence
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {
            "coef": self.model_.coef_.ravel().astype(np.float32),
            "intercept": np.asarray(self.model_.intercept_, dtype=np.float64),
            "style_mean": self.style_mean_,
            "style_scale": self.style_scale_,
            "style_names": np.array(STYLE_FEATURES),
        }

    def _expected_arrays(self) -> dict[str, ArraySpec]:
        width = len(STYLE_FEATURES)
        return {
            "coef": ArraySpec("f", (self.n_features + width,)),
            "intercept": ArraySpec("f", (1,)),
            "style_mean": ArraySpec("f", (width,)),
            "style_scale": ArraySpec("f", (width,), positive=True),
            "style_names": ArraySpec("U", (width,)),
        }

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        names = tuple(str(x) for x in arrays["style_names"])
        if names != STYLE_FEATURES:
            raise ValueError("weights were trained with a different stylometric feature set; retrain them")
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.coef_ = arrays["coef"].astype(np.float64)[None, :]
        model.intercept_ = arrays["intercept"].astype(np.float64)
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = model.coef_.shape[1]
        self.model_ = model
        self.style_mean_ = arrays["style_mean"]
        self.style_scale_ = arrays["style_scale"]
