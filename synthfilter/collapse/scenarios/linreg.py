"""The linreg scenario: linear regression refit on its own labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .base import Scenario

__all__ = ["LinRegScenario"]


@dataclass
class LinRegScenario(Scenario):
    """Linear regression refit on its own labels (Gerstgrasser et al. 2024; Dohmatob et al. 2024).

    A sample is a row of features with the label as last column.

    Parameters
    ----------
    n:
        Sample size per generation; must exceed ``dim + 1``. Default 100.
    dim:
        Number of features (at least 1). Default 10.
    noise:
        Standard deviation of the label noise, > 0. Default 1.0.
    """

    n: int = 100
    dim: int = 10
    noise: float = 1.0
    name: ClassVar[str] = "linreg"
    metrics: ClassVar[dict[str, str]] = {"excess_error_ratio": "lower", "test_mse_ratio": "lower"}
    tail_metric: ClassVar[str] = "excess_error_ratio"
    quality_metric: ClassVar[str] = "test_mse_ratio"
    w_true: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def validate(self):
        super().validate()
        self._check_int("dim", 1, "the number of features")
        self._check_real("noise", low=0.0, low_open=True, why="the label noise standard deviation")
        # the ideal excess error noise**2 * dim / (n - dim - 1) needs n > dim + 1
        self._check_int("n", self.dim + 2, f"the sample size must exceed dim + 1 = {self.dim + 1}")
        return self

    def setup(self, rng):
        self.w_true = rng.normal(size=self.dim)

    def _label(self, w, X, rng):
        return X @ w + self.noise * rng.normal(size=len(X))

    def real(self, rng, n):
        X = rng.normal(size=(n, self.dim))
        return np.column_stack([X, self._label(self.w_true, X, rng)])

    def fit(self, data, rng):
        return np.linalg.lstsq(data[:, :-1], data[:, -1], rcond=None)[0]

    def sample(self, model, n, rng):
        X = rng.normal(size=(n, self.dim))
        return np.column_stack([X, self._label(model, X, rng)])

    def log_likelihood(self, model, data):
        return -0.5 * (data[:, -1] - data[:, :-1] @ model) ** 2

    def evaluate(self, model, rng):
        excess = float(np.sum((model - self.w_true) ** 2))
        ideal = self.noise ** 2 * self.dim / (self.n - self.dim - 1)
        return {"excess_error_ratio": excess / ideal, "test_mse_ratio": 1.0 + excess / self.noise ** 2}
