"""The same transforms on Ray Data: tagging, embedding, exact quotas, cluster assignment.

Every function here calls the single-machine batch code (:class:`synthfilter.Tagger`,
:class:`synthfilter.Embedder`, the quota module's classification, hashing and
selection, :func:`synthfilter.diversity.clustering.assign_clusters`) inside
``ray.data.Dataset.map_batches``; nothing is implemented twice, so for the same input
and seed the kept rows and tags equal the ``datasets`` path's. Install with
``pip install synthfilter[ray]``.

* :func:`tag` / :func:`embed`: the Arrow-batch transforms of :mod:`synthfilter.batches`
  on a fixed pool of actors (:class:`synthfilter.engines.ray.RayEngine`), so each actor
  loads its model once.
* :func:`enforce_quota`: the engine-neutral quota plan (:mod:`synthfilter.quota.plan`)
  run by the Ray engine: per-block summaries reduced on the driver, the boundary rows,
  then a per-block keep mask.
* :func:`fit_centroids` / :func:`assign_clusters`: k-means fitted on a hash-chosen
  sample on the driver, assignment distributed.

Row order is preserved (``DataContext.execution_options.preserve_order`` is set for
the duration of each call), which also makes positions, and so tie-breaks between
rows with equal keys, the same as on one machine.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa

from ..batches import EmbedColumn, TagColumns, set_column
from ..columns import CLUSTER
from ..diversity import EMBEDDING_COLUMN, Embedder
from ..diversity.clustering import assign_clusters as _assign, fit_hierarchy
from ..engines.ray import RayEngine, quiet, require_ray, start_local
from ..quota import QuotaConfig
from ..quota.engine import enforce_quota_on
from ..tag import Tagger

__all__ = ["tag", "embed", "enforce_quota", "fit_centroids", "assign_clusters", "require_ray", "start_local", "quiet"]

_ROW = "_sf_row"


# --------------------------------------------------------------------------- tag / embed / quota
def _engine(concurrency: int = 2, batch_size: int = 1024) -> Any:
    return RayEngine(workers=concurrency, batch_size=batch_size)


def tag(ds: Any, *, text_column: str = "text", detector: str = "fast", threshold: float | None = None,
        concurrency: int = 2, batch_size: int = 1024, **tagger_options: Any) -> Any:
    """``ds`` with the tag columns, computed by ``concurrency`` actors (one detector each).

    ``tagger_options`` are the other :class:`synthfilter.Tagger` arguments (``languages``,
    ``min_letters``).
    """
    require_ray()
    tagger = Tagger(text_column=text_column, detector=detector, threshold=threshold, **tagger_options)
    return _engine(concurrency, batch_size).map_batches(ds, TagColumns(tagger), desc="tag")


def embed(ds: Any, *, text_column: str = "text", model: str = "minilm", concurrency: int = 2,
          batch_size: int = 1024, output_column: str = EMBEDDING_COLUMN) -> Any:
    """``ds`` with an embedding column, computed by ``concurrency`` actors (one model each)."""
    require_ray()
    embedder = Embedder(text_column=text_column, model=model, output_column=output_column)
    return _engine(concurrency, batch_size).map_batches(ds, EmbedColumn(embedder), desc="embed")


def enforce_quota(ds: Any, max_synthetic: float | None = None, *, config: QuotaConfig | None = None,
                  reference: Any = None, ai_reference: Any = None, detector: Any = None, return_report: bool = False,
                  **options: Any) -> Any:
    """:func:`synthfilter.enforce_quota` on a ``ray.data.Dataset``: the same kept rows, in order.

    ``max_synthetic``/``options`` (or ``config``) are those of :class:`synthfilter.quota.QuotaConfig`
    (no streaming, sharding or ``num_proc``: Ray distributes the passes). The passes are
    the engine-neutral plan's (:func:`synthfilter.quota.engine.enforce_quota_on`); the basis,
    ``reference``/``ai_reference``/``detector`` and the corpus's own known-human rows work as on the
    ``datasets`` path.
    Returns a ``ray.data.Dataset`` (lazy: it streams into whatever consumes it), and with ``return_report=True`` also
    the :class:`synthfilter.QuotaReport`.
    """
    require_ray()
    cfg = QuotaConfig.build(max_synthetic, config, options)
    cfg.key_column(ds.columns())  # fail fast, naming the missing key column
    out, report = enforce_quota_on(_engine(), ds, cfg, reference=reference, ai_reference=ai_reference, detector=detector)
    return (out, report) if return_report else out


# --------------------------------------------------------------------------- clusters
def fit_centroids(ds: Any, n_clusters: int, *, embedding_column: str = EMBEDDING_COLUMN, sample_size: int = 100_000,
                  seed: int = 0) -> np.ndarray:
    """Leaf centroids ``(n_clusters, dim)`` fitted by k-means on about ``sample_size`` rows of ``ds``.

    The sample is the rows whose seeded hash of the embedding falls lowest (by a
    threshold, so each block decides alone); k-means runs on the driver.
    """
    require_ray()
    n = ds.count()
    share = min(1.0, sample_size / max(n, 1))
    cut = np.uint64(min(int(share * 2.0**64), 2**64 - 1))

    def sample(table: pa.Table) -> pa.Table:
        h = _row_hashes(_matrix(table, embedding_column), seed)
        return table.select([embedding_column]).filter(pa.array(h <= cut))

    rows = ds.map_batches(sample, batch_format="pyarrow").take_all()
    X = np.asarray([r[embedding_column] for r in rows], dtype=np.float32)
    if not len(X):
        raise ValueError(f"{embedding_column!r}: no rows to fit centroids on")
    k = min(n_clusters, len(X))
    return fit_hierarchy(X, (k,), seed, np.arange(len(X))).centroids


def _row_hashes(X: np.ndarray, seed: int) -> np.ndarray:
    from ..hashing import hash64

    return np.array([hash64(seed, v.tobytes()) for v in X], dtype=np.uint64)


def _matrix(table: pa.Table, column: str) -> np.ndarray:
    if column not in table.column_names:
        raise KeyError(f"embedding column {column!r} not found; columns present: {table.column_names}")
    values = table.column(column).to_pylist()
    if any(v is None for v in values):
        raise ValueError(f"embedding column {column!r} has null vectors; embed every row or drop them first")
    return np.asarray(values, dtype=np.float32)


def assign_clusters(ds: Any, centroids: np.ndarray, *, embedding_column: str = EMBEDDING_COLUMN,
                    output_column: str = CLUSTER.name) -> Any:
    """``ds`` with the nearest centroid of each row in ``output_column`` (distributed per block)."""
    require_ray()

    def assign(table: pa.Table) -> pa.Table:
        labels, _ = _assign(_matrix(table, embedding_column), centroids)
        return set_column(table, output_column, pa.array(labels.astype(np.int64)))

    return ds.map_batches(assign, batch_format="pyarrow")


# --------------------------------------------------------------------------- deprecated names
class TagBatches(TagColumns):
    """Deprecated: use ``synthfilter.batches.TagColumns(Tagger(...))`` (or :func:`tag`)."""

    def __init__(self, text_column: str = "text", detector: str = "fast", threshold: float | None = None) -> None:
        warnings.warn("TagBatches is deprecated: use synthfilter.batches.TagColumns(synthfilter.Tagger(...))",
                      DeprecationWarning, stacklevel=2)
        super().__init__(Tagger(text_column=text_column, detector=detector, threshold=threshold))


class EmbedBatches(EmbedColumn):
    """Deprecated: use ``synthfilter.batches.EmbedColumn(Embedder(...))`` (or :func:`embed`)."""

    def __init__(self, text_column: str = "text", model: str = "minilm", batch_size: int = 64,
                 output_column: str = EMBEDDING_COLUMN) -> None:
        warnings.warn("EmbedBatches is deprecated: use synthfilter.batches.EmbedColumn(synthfilter.Embedder(...))",
                      DeprecationWarning, stacklevel=2)
        super().__init__(Embedder(text_column=text_column, model=model, batch_size=batch_size,
                                  output_column=output_column))
