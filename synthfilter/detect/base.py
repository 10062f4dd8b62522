"""The detector interface: scikit-learn style estimators that score texts.

A detector maps texts to a probability that each was AI-generated. Like a
scikit-learn estimator, its constructor stores parameters only, learnt state ends in
``_``, ``fit`` returns ``self``, and ``get_params``/``set_params`` work. On top of
that it has a decision ``threshold_`` that :meth:`BaseDetector.calibrate` can set
from known-human text alone, and ``save``/``load`` to a small ``.npz`` file (no
pickle, so loading a file cannot run code).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

__all__ = ["BaseDetector", "coerce_labels", "NotFittedError"]

_POSITIVE = {"ai", "synthetic", "generated", "machine", "1", "true"}
_NEGATIVE = {"human", "real", "0", "false"}


def coerce_labels(labels: Iterable[Any]) -> np.ndarray:
    """Map labels to 1 (AI-generated) / 0 (human).

    Accepts booleans, 0/1 integers, or the strings ``"ai"``, ``"synthetic"``,
    ``"generated"``, ``"machine"`` (positive) and ``"human"``, ``"real"`` (negative),
    in any case. Anything else raises ``ValueError`` naming the offending value.
    """
    out = []
    for value in labels:
        key = str(value).strip().lower() if not isinstance(value, (bool, np.bool_)) else str(bool(value)).lower()
        if key in _POSITIVE:
            out.append(1)
        elif key in _NEGATIVE:
            out.append(0)
        else:
            raise ValueError(
                f"labels: cannot read {value!r} as a class; expected 'human'/'ai' "
                "(or 'real'/'synthetic', 0/1, False/True)"
            )
    return np.asarray(out, dtype=np.int64)


class BaseDetector(ClassifierMixin, BaseEstimator):
    """Common behaviour of every synthfilter detector.

    Subclasses implement ``fit(texts, labels)``, ``_raw_scores(texts)`` (a real
    decision value per text, higher = more likely AI) and the array (de)serialisation
    hooks ``_state_arrays`` / ``_load_state_arrays``.
    """

    #: Registry name, written into ``sf_detector`` as ``name@version``.
    name: ClassVar[str] = "base"
    classes_ = np.array([0, 1])

    # ------------------------------------------------------------------ scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call fit(texts, labels) or "
                f"synthfilter.load_detector({self.name!r}) for the shipped weights"
            )

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Real-valued score per text (log-odds of being AI-generated)."""
        self._check_fitted()
        return np.asarray(self._raw_scores(list(texts)), dtype=np.float64)

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is AI-generated, shape ``(n,)``."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(texts)))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Shape ``(n, 2)``: column 0 human, column 1 AI-generated (scikit-learn order)."""
        p = self.score_texts(texts)
        return np.column_stack([1.0 - p, p])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """1 where the AI probability is at or above ``threshold_``, else 0."""
        return (self.score_texts(texts) >= self.threshold_).astype(np.int64)

    def calibrate(self, human_texts: Sequence[str], target_fpr: float = 0.01) -> "BaseDetector":
        """Set ``threshold_`` so that at most ``target_fpr`` of ``human_texts`` score at or above it.

        Parameters
        ----------
        human_texts:
            Texts known to be human-written, ideally from the domain you will clean.
            At least ``ceil(1 / target_fpr)`` texts are needed for the rate to be
            resolvable; fewer raise ``ValueError``.
        target_fpr:
            Largest share of human texts allowed to be labelled synthetic, in (0, 1).
            Default 0.01.
        """
        self._check_fitted()
        if not 0.0 < target_fpr < 1.0:
            raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
        texts = [t for t in human_texts]
        needed = int(np.ceil(1.0 / target_fpr))
        if len(texts) < needed:
            raise ValueError(
                f"human_texts: {len(texts)} texts cannot resolve a false-positive rate of "
                f"{target_fpr}; give at least {needed}"
            )
        self.threshold_ = threshold_for_fpr(self.score_texts(texts), target_fpr)
        return self

    # ------------------------------------------------------------- persistence
    @property
    def version(self) -> str:
        """Version string of the fitted weights (``"unfitted"`` before ``fit``)."""
        return getattr(self, "version_", "unfitted")

    @property
    def tag(self) -> str:
        """``name@version``, the value written to the ``sf_detector`` column."""
        return f"{self.name}@{self.version}"

    def _state_arrays(self) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write parameters and learnt state to ``path`` (a compressed ``.npz``)."""
        self._check_fitted()
        meta = {
            "detector": self.name,
            "version": self.version,
            "threshold": float(self.threshold_),
            "params": self.get_params(),
            "info": getattr(self, "info_", {}),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            np.savez_compressed(handle, __meta__=np.array(json.dumps(meta, sort_keys=True)), **self._state_arrays())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BaseDetector":
        """Read a detector written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            if meta.get("detector") != cls.name:
                raise ValueError(f"{path}: holds a {meta.get('detector')!r} detector, not {cls.name!r}")
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
        det = cls(**meta["params"])
        det._load_state_arrays(arrays)
        det.threshold_ = float(meta["threshold"])
        det.version_ = str(meta["version"])
        det.info_ = meta.get("info", {})
        return det


def threshold_for_fpr(human_scores: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold such that at most ``target_fpr`` of ``human_scores`` are ``>=`` it."""
    scores = np.sort(np.asarray(human_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(target_fpr * len(scores)))
    if allowed >= len(scores):
        return float(scores[-1])
    # Strictly above the (allowed+1)-th highest score, so exactly `allowed` may pass.
    return float(np.nextafter(scores[allowed], np.inf))
