"""The scenario contract (:class:`Scenario`) and the helpers several scenario families share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import datasets
import numpy as np

from .._checks import check_int, check_real

__all__ = ["MixtureModel", "Scenario", "temper"]


def temper(p: np.ndarray, temperature: float) -> np.ndarray:
    """``p ** (1 / temperature)`` normalised, computed in log space so that no temperature underflows to all zeros.

    Parameters
    ----------
    p:
        Non-negative weights (a probability vector or counts); zeros stay zero.
    temperature:
        Sampling temperature, > 0: below 1 sharpens ``p``, above 1 flattens it.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(p)
    pos = p > 0
    if not pos.any():
        return out
    logits = np.log(p[pos]) / temperature
    w = np.exp(logits - logits.max())
    out[pos] = w / w.sum()
    return out


@dataclass
class Scenario:
    """Base class. Subclasses set ``name``, ``metrics`` (name -> ``better``: ``"higher"``, ``"lower"`` or
    ``"target:X"``, see :mod:`synthfilter.collapse.directions`) and implement the hooks.

    Parameters
    ----------
    n:
        Sample size per generation (rows the model is fitted on).
    seed:
        Seed of the scenario's fixed state (non-negative).
    """

    n: int = 1000
    seed: int = 0
    name: ClassVar[str] = "base"
    metrics: ClassVar[dict[str, str]] = {}
    #: the headline tail and quality metric of this scenario (for summaries)
    tail_metric: ClassVar[str] = ""
    quality_metric: ClassVar[str] = ""
    #: the fewest training rows the model family can be fitted on
    min_train_rows: ClassVar[int] = 2

    @property
    def binary_metrics(self) -> frozenset[str]:
        """The metrics that are a 0/1 outcome per seed (compared by an exact McNemar test). Default: none."""
        return frozenset()

    def __post_init__(self) -> None:
        self.validate()

    # -- option checks: every option is checked when the scenario is made, naming it and what it expects
    def _option_label(self, option: str) -> str:
        return f"{self.name} option {option}"

    def _check_int(self, option: str, minimum: int, why: str = "", maximum: int | None = None) -> None:
        setattr(self, option, check_int(getattr(self, option), ("options", option), self._option_label(option), minimum,
                                        why, maximum))

    def _check_real(self, option: str, **bounds: Any) -> None:
        setattr(self, option, check_real(getattr(self, option), ("options", option), self._option_label(option), **bounds))

    def validate(self) -> "Scenario":
        """Check every option; raises :class:`OptionError` (a ``ValueError``) naming the first bad one."""
        self._check_int("n", max(2, self.min_train_rows), "the sample size per generation")
        self._check_int("seed", 0)
        return self

    def setup(self, rng: np.random.Generator) -> None:
        """Per-seed fixed state (for example the true regression weights). Default: nothing."""

    def real(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, data: np.ndarray, rng: np.random.Generator) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, model: Any, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, model: Any, rng: np.random.Generator) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_likelihood(self, model: Any, data: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- bridges to the library's transforms
    def feature_names(self, data: np.ndarray) -> list[str]:
        return [f"x{i}" for i in range(np.atleast_2d(data.T).T.shape[1])]

    def to_dataset(self, data: np.ndarray, is_synthetic: np.ndarray, ids: np.ndarray) -> datasets.Dataset:
        X = np.atleast_2d(data.T).T
        cols: dict[str, Any] = {name: X[:, i].astype(np.float64) for i, name in enumerate(self.feature_names(data))}
        cols.update({"id": ids.astype(np.int64), "is_synthetic": is_synthetic.astype(bool)})
        return datasets.Dataset.from_dict(cols)

    def features(self, data: np.ndarray) -> np.ndarray:
        """Numeric view of samples, for detectors and clustering."""
        return np.atleast_2d(np.asarray(data, dtype=np.float64).T).T


class MixtureModel:
    """Model family of scenarios fitted with scikit-learn's GaussianMixture (mix in before :class:`Scenario`).

    ``reg_covar`` (1e-4 here; scikit-learn's default is 1e-6) is added to every covariance's
    diagonal so that a component which has collapsed onto a handful of points can still be
    fitted. It is 1/2500 of the gmm minority mode's variance (0.25), so a collapse shows in
    the metrics long before the floor is reached; it does not hide one at the sizes run here.
    """

    _components: ClassVar[int] = 2
    min_train_rows: ClassVar[int] = 2  # a mixture needs at least one row per component
    _reg_covar: ClassVar[float] = 1e-4

    def fit(self, data, rng):
        from sklearn.mixture import GaussianMixture
        return GaussianMixture(self._components, covariance_type="full", reg_covar=self._reg_covar,
                               random_state=int(rng.integers(2**31))).fit(data)

    def sample(self, model, n, rng):
        model.random_state = int(rng.integers(2**31))
        X, _ = model.sample(n)
        return X[rng.permutation(n)]

    def log_likelihood(self, model, data):
        return model.score_samples(data)
