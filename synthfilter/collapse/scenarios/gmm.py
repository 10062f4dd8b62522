"""The GMM scenario: a 2-D mixture with a rare minority mode, refit with a Gaussian mixture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..metrics import sliced_w2, tail_mass_ratio
from .base import MixtureModel, Scenario

__all__ = ["GMMScenario"]


@dataclass
class GMMScenario(MixtureModel, Scenario):
    """2-D mixture: a 95% majority mode and a 5% minority mode; refit with scikit-learn GaussianMixture.

    Parameters
    ----------
    n:
        Sample size per generation. Default 1000.
    minority_weight:
        Share of the minority mode in the real data, in (0, 1). Default 0.05.
    """

    n: int = 1000
    minority_weight: float = 0.05
    name: ClassVar[str] = "gmm"
    metrics: ClassVar[dict[str, str]] = {"minority_mass": "target:1", "sliced_w2": "lower", "tail_mass": "target:1",
                                         "variance_ratio": "target:1", "nll_real": "lower"}
    tail_metric: ClassVar[str] = "minority_mass"
    quality_metric: ClassVar[str] = "nll_real"
    _MAJOR: ClassVar[np.ndarray] = np.array([0.0, 0.0])
    _MINOR: ClassVar[np.ndarray] = np.array([3.5, 3.5])

    def validate(self):
        super().validate()
        self._check_real("minority_weight", low=0.0, high=1.0, low_open=True, high_open=True,
                         why="the share of the minority mode")
        return self

    def real(self, rng, n):
        minor = rng.random(n) < self.minority_weight
        X = rng.normal(size=(n, 2))
        X[minor] = self._MINOR + 0.5 * X[minor]
        return X

    def _minor_share(self, X):
        return float(np.mean(np.linalg.norm(X - self._MINOR, axis=1) < np.linalg.norm(X - self._MAJOR, axis=1)))

    def evaluate(self, model, rng):
        held = self.real(np.random.default_rng(12345), 4000)
        gen = self.sample(model, 4000, rng)
        return {"minority_mass": self._minor_share(gen) / self._minor_share(held),
                "sliced_w2": sliced_w2(gen, held), "tail_mass": tail_mass_ratio(gen, held),
                "variance_ratio": float(np.trace(np.cov(gen.T)) / np.trace(np.cov(held.T))),
                "nll_real": float(-np.mean(model.score_samples(held)))}
