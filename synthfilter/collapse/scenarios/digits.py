"""The digits scenario: scikit-learn's 8x8 digits in PCA space, refit with a 10-component Gaussian mixture."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..metrics import sliced_w2
from .base import MixtureModel, Scenario

__all__ = ["DigitsScenario"]


@dataclass
class DigitsScenario(MixtureModel, Scenario):
    """scikit-learn's bundled 8x8 digits in a fixed 16-d PCA space, modelled by a 10-component Gaussian mixture.

    The digits are split in two halves by index (even / odd): real data are drawn from the
    first, and every metric is measured on the second, held out (class coverage by a
    logistic-regression classifier trained on the first half, ``sliced_w2`` and ``nll_real``
    against the held-out digits), so the model is never scored on the rows it was fitted to.

    Parameters
    ----------
    n:
        Sample size per generation (at least 10, one row per mixture component). Default 1000.
    pca_dim:
        PCA components kept of the 64 pixel features, 1 to 64. Default 16.
    """

    n: int = 1000
    pca_dim: int = 16
    name: ClassVar[str] = "digits"
    metrics: ClassVar[dict[str, str]] = {"class_entropy": "higher", "min_class_share": "higher", "sliced_w2": "lower",
                                         "nll_real": "lower"}
    tail_metric: ClassVar[str] = "min_class_share"
    quality_metric: ClassVar[str] = "nll_real"
    _components: ClassVar[int] = 10
    _reg_covar: ClassVar[float] = 1e-3
    _cache: ClassVar[dict] = {}
    min_train_rows: ClassVar[int] = 10  # one row per mixture component

    def validate(self):
        super().validate()
        self._check_int("pca_dim", 1, "PCA components of the 64 pixel features", maximum=64)
        return self

    def _space(self):
        if self.pca_dim not in self._cache:
            from sklearn.datasets import load_digits
            from sklearn.decomposition import PCA
            from sklearn.linear_model import LogisticRegression
            digits = load_digits()
            train, held = digits.data[0::2], digits.data[1::2]
            pca = PCA(self.pca_dim, random_state=0).fit(train)
            Z, Z_held = pca.transform(train), pca.transform(held)
            clf = LogisticRegression(max_iter=3000).fit(Z, digits.target[0::2])
            self._cache[self.pca_dim] = (Z, Z_held, clf)
        return self._cache[self.pca_dim]

    def real(self, rng, n):
        Z, _, _ = self._space()
        return Z[rng.integers(0, len(Z), n)] + rng.normal(scale=0.05, size=(n, self.pca_dim))

    def evaluate(self, model, rng):
        _, Z, clf = self._space()
        gen = self.sample(model, 2000, rng)
        share = np.bincount(clf.predict(gen), minlength=10) / len(gen)
        nz = share[share > 0]
        return {"class_entropy": float(-(nz * np.log(nz)).sum() / math.log(10)),
                "min_class_share": float(share.min() * 10),
                "sliced_w2": sliced_w2(gen, Z),
                "nll_real": float(-np.mean(model.score_samples(Z)))}
