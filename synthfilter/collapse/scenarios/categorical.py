"""The categorical scenario: a long-tailed (Zipf) categorical source refit by counting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import datasets
import numpy as np

from .._checks import OptionError
from ..metrics import js_divergence, kl_divergence
from .base import Scenario, temper

#: additive smoothing of the model's probabilities in ``kl_real_model`` and ``tail_loglik``
#: (see :func:`synthfilter.collapse.metrics.kl_divergence`)
KL_EPS = 1e-6

__all__ = ["CategoricalScenario"]


@dataclass
class CategoricalScenario(Scenario):
    """A long-tailed categorical source (Zipf over ``categories``), refit by counting.

    ``categories=2, zipf=3.17`` gives the "90% yellow / 10% blue" case (1 : 2**-3.17 = 0.9 : 0.1).
    ``temperature`` and ``top_p`` change how the fitted model samples. A sample is a category id.

    Parameters
    ----------
    n:
        Sample size per generation. Default 2000.
    categories:
        Number of categories (at least 2). Default 1000.
    zipf:
        Zipf exponent of the real distribution, > 0. Default 1.1.
    temperature:
        Sampling temperature of the fitted model, > 0. Default 1.0 (sample the fitted frequencies).
    top_p:
        Nucleus mass kept when sampling, in (0, 1]. Default 1.0 (keep every category).

    Metrics (the *tail* is the rarest categories that together hold 20% of the real mass; the
    headline tail metric is ``tail_mass``, or ``tail_lost`` when the tail is one category):
    ``tail_mass`` the model's mass on the tail over the real mass (target 1);
    ``tail_lost`` the share of tail categories the model gives probability 0 (with two
    categories: 1 when the minority is lost, so its mean over seeds is the probability of
    loss); ``tail_loglik`` the expected log-probability of a real tail draw under the model
    (smoothed by :data:`KL_EPS`); ``support_ratio``; ``tail_recall`` (tail categories with any
    probability: it cannot move while a policy keeps real rows, so it is not a headline);
    ``kl_real_model`` (smoothed by :data:`KL_EPS`); ``js``.
    """

    n: int = 2000
    categories: int = 1000
    zipf: float = 1.1
    temperature: float = 1.0
    top_p: float = 1.0
    name: ClassVar[str] = "categorical"
    metrics: ClassVar[dict[str, str]] = {"tail_mass": "target:1", "tail_lost": "lower", "tail_loglik": "higher",
                                         "support_ratio": "higher", "tail_recall": "higher", "kl_real_model": "lower",
                                         "js": "lower"}
    quality_metric: ClassVar[str] = "kl_real_model"
    min_train_rows: ClassVar[int] = 1

    def validate(self):
        super().validate()
        self._check_int("categories", 2, "the number of categories")
        self._check_real("zipf", low=0.0, low_open=True, why="the Zipf exponent")
        self._check_real("temperature", low=0.0, low_open=True, why="the sampling temperature")
        self._check_real("top_p", low=0.0, high=1.0, low_open=True, why="the nucleus mass kept when sampling")
        tail = self.tail
        if len(tail) == 0 or not self.probs[tail].sum() > 0:
            raise OptionError(("options", "categories"), self._option_label("categories"),
                              f"must be large enough, with zipf={self.zipf!r}, that the rarest categories with "
                              "non-zero probability together hold at most 20% of the mass (the tail metrics "
                              f"measure them), got {self.categories!r}; use more categories or another zipf exponent")
        return self

    @property
    def tail_metric(self) -> str:  # type: ignore[override]
        """``tail_lost`` when the tail is one category (was it lost or not: Shumailov's 90% / 10% case), else
        ``tail_mass``."""
        return "tail_lost" if len(self.tail) == 1 else "tail_mass"

    @property
    def binary_metrics(self) -> frozenset[str]:
        """``tail_lost`` is a 0/1 outcome per seed when the tail is one category."""
        return frozenset({"tail_lost"}) if len(self.tail) == 1 else frozenset()

    @property
    def probs(self) -> np.ndarray:
        with np.errstate(over="ignore"):  # a huge exponent gives the rarest categories probability 0
            p = 1.0 / np.arange(1, self.categories + 1) ** self.zipf
        return p / p.sum()

    @property
    def tail(self) -> np.ndarray:
        """The rarest categories that together hold 20% of the real mass."""
        cum = np.cumsum(self.probs[::-1])
        return np.arange(self.categories)[::-1][cum <= 0.2]

    def real(self, rng, n):
        return rng.choice(self.categories, size=n, p=self.probs)

    def fit(self, data, rng):
        return np.bincount(np.asarray(data, dtype=np.int64), minlength=self.categories) / len(data)

    def _sampling_probs(self, model):
        p = model.astype(np.float64)
        if self.temperature != 1.0:
            p = temper(p, self.temperature)
        if self.top_p < 1.0:
            order = np.argsort(-p, kind="stable")
            keep = np.cumsum(p[order]) - p[order] < self.top_p
            mask = np.zeros_like(p, dtype=bool)
            mask[order[keep]] = True
            p = np.where(mask, p, 0.0) / p[mask].sum()
        return p

    def sample(self, model, n, rng):
        return rng.choice(self.categories, size=n, p=self._sampling_probs(model))

    def log_likelihood(self, model, data):
        return np.log(np.maximum(model[np.asarray(data, dtype=np.int64)], 1e-12))

    def evaluate(self, model, rng):
        tail = self.tail
        real_tail = self.probs[tail] / self.probs[tail].sum()
        smoothed = (model + KL_EPS) / (1.0 + len(model) * KL_EPS)
        return {"tail_mass": float(model[tail].sum() / self.probs[tail].sum()),
                "tail_lost": float(np.mean(model[tail] <= 0)),
                "tail_loglik": float(np.sum(real_tail * np.log(smoothed[tail]))),
                "support_ratio": float(np.mean(model > 0)),
                "tail_recall": float(np.mean(model[tail] > 0)),
                "kl_real_model": kl_divergence(self.probs, model, eps=KL_EPS),
                "js": js_divergence(self.probs, model)}

    def feature_names(self, data):
        return ["category"]

    def to_dataset(self, data, is_synthetic, ids):
        return datasets.Dataset.from_dict({"category": np.asarray(data, dtype=np.int64), "id": ids.astype(np.int64),
                                           "is_synthetic": is_synthetic.astype(bool)})

    def features(self, data):
        onehot = np.zeros((len(data), self.categories))
        onehot[np.arange(len(data)), np.asarray(data, dtype=np.int64)] = 1.0
        return onehot
