"""The Gaussian scenario: a d-dimensional standard Gaussian refit by maximum likelihood."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..metrics import tail_mass_ratio, w2_gaussian
from .base import Scenario

__all__ = ["GaussianScenario"]


@dataclass
class GaussianScenario(Scenario):
    """d-dimensional standard Gaussian, refit by maximum likelihood (Shumailov et al.'s theory case).

    Parameters
    ----------
    n:
        Sample size per generation. Default 100.
    dim:
        Dimension of the Gaussian (at least 1). Default 1.
    """

    n: int = 100
    dim: int = 1
    name: ClassVar[str] = "gaussian"
    metrics: ClassVar[dict[str, str]] = {"variance": "target:1", "log_variance_ratio": "target:0", "w2": "lower",
                                         "tail_mass": "target:1", "nll_real": "lower"}
    tail_metric: ClassVar[str] = "tail_mass"
    quality_metric: ClassVar[str] = "w2"

    def validate(self):
        super().validate()
        self._check_int("dim", 1, "the dimension")
        return self

    def real(self, rng, n):
        return rng.normal(size=(n, self.dim))

    def fit(self, data, rng):
        X = np.atleast_2d(data.T).T
        return X.mean(axis=0), np.atleast_2d(np.cov(X.T, ddof=0))

    def sample(self, model, n, rng):
        mu, cov = model
        return rng.multivariate_normal(mu, cov, size=n) if self.dim > 1 else rng.normal(mu[0], math.sqrt(cov[0, 0]), (n, 1))

    def log_likelihood(self, model, data):
        from scipy.stats import multivariate_normal
        mu, cov = model
        return multivariate_normal(mu, cov, allow_singular=True).logpdf(np.atleast_2d(data.T).T).reshape(-1)

    def evaluate(self, model, rng):
        mu, cov = model
        var = float(np.trace(cov) / self.dim)
        held = self.real(np.random.default_rng(12345), 2000)
        return {"variance": var, "log_variance_ratio": math.log(max(var, 1e-300)),
                "w2": w2_gaussian(mu, cov, np.zeros(self.dim), np.eye(self.dim)),
                "tail_mass": tail_mass_ratio(self.sample(model, 4000, rng), held),
                "nll_real": float(-np.mean(self.log_likelihood(model, held)))}
