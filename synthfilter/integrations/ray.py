"""The same transforms on Ray Data: tagging, embedding, exact quotas, cluster assignment.

Every function here calls the single-machine batch code (:class:`synthfilter.Tagger`,
:class:`synthfilter.Embedder`, the quota module's classification, hashing and
selection, :func:`synthfilter.diversity.assign_clusters`) inside
``ray.data.Dataset.map_batches``; nothing is implemented twice, so for the same input
and seed the kept rows and tags equal the ``datasets`` path's. Install with
``pip install synthfilter[ray]``.

* :func:`tag` / :func:`embed`: callable classes, so each actor loads its model once.
* :func:`enforce_quota`: the sharded two-pass algorithm. Pass 1 reduces per-block
  counts and hash histograms to global counts; the driver plans how many rows each
  (group, class) keeps; pass 2 collects the few rows in each stratum's boundary hash
  bucket; pass 3 keeps, per row, those whose (hash, position) is under the cut.
* :func:`fit_centroids` / :func:`assign_clusters`: k-means fitted on a hash-chosen
  sample on the driver, assignment distributed.

Row order is preserved (``DataContext.execution_options.preserve_order`` is set for
the duration of each call), which also makes positions, and so tie-breaks between
rows with equal keys, the same as on one machine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ..quota import QuotaConfig, QuotaPlan, RowKeys, Summary, make_plan, row_keys
from ..diversity import assign_clusters as _assign, fit_hierarchy
from ..embed import EMBEDDING_COLUMN, Embedder
from ..columns import CLUSTER, TAG_COLUMNS
from ..tag import Tagger

__all__ = ["TagBatches", "EmbedBatches", "tag", "embed", "enforce_quota", "fit_centroids", "assign_clusters",
           "require_ray", "start_local"]

_ROW = "_sf_row"


def require_ray() -> Any:
    """Import ``ray`` or raise an ImportError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:  # pragma: no cover - exercised only without ray
        raise ImportError("synthfilter.integrations.ray needs Ray Data: pip install 'synthfilter[ray]'") from err
    return ray


def start_local(num_cpus: int | None = None) -> Any:
    """Join the cluster at ``RAY_ADDRESS`` if set; else start a local Ray.

    ``num_cpus`` caps the local Ray's CPUs (default: all). No dashboard, no log
    forwarding to the driver. Does nothing when Ray is already initialised. Ray 2.60
    refuses a loopback node address and its gRPC servers listen on every interface;
    they require Ray's session token (on by default), so leave ``RAY_AUTH_MODE`` unset.
    """
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return ray


@contextlib.contextmanager
def _ordered() -> Iterator[None]:
    from ray.data import DataContext

    ctx = DataContext.get_current()
    before = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True
    try:
        yield
    finally:
        ctx.execution_options.preserve_order = before


# --------------------------------------------------------------------------- tag / embed
class TagBatches:
    """``map_batches`` callable (Arrow batches): adds the :data:`~synthfilter.columns.TAG_COLUMNS`.

    Takes the :class:`synthfilter.Tagger` arguments; the detector loads once per actor.
    """

    def __init__(self, text_column: str = "text", detector: str = "fast", threshold: float | None = None) -> None:
        self.tagger = Tagger(text_column=text_column, detector=detector, threshold=threshold)

    def __call__(self, table: pa.Table) -> pa.Table:
        if self.tagger.text_column not in table.column_names:
            raise KeyError(f"text column {self.tagger.text_column!r} not found; columns present: {table.column_names}")
        columns = self.tagger.columns(table.column(self.tagger.text_column).to_pylist())
        for column in TAG_COLUMNS:
            table = _set_column(table, column.name, pa.array(columns[column.name], column.type))
        return table


class EmbedBatches:
    """``map_batches`` callable (Arrow batches): adds the :class:`synthfilter.Embedder` column."""

    def __init__(self, text_column: str = "text", model: str = "minilm", batch_size: int = 64,
                 output_column: str = EMBEDDING_COLUMN) -> None:
        self.embedder = Embedder(text_column=text_column, model=model, batch_size=batch_size,
                                 output_column=output_column)

    def __call__(self, table: pa.Table) -> pa.Table:
        column = self.embedder.text_column
        if column not in table.column_names:
            raise KeyError(f"text column {column!r} not found; columns present: {table.column_names}")
        vectors = self.embedder.encode(table.column(column).to_pylist())
        values = pa.array([None if v is None else np.asarray(v, np.float32) for v in vectors],
                          pa.list_(pa.float32()))
        return _set_column(table, self.embedder.output_column, values)


def _set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def tag(ds: Any, *, text_column: str = "text", detector: str = "fast", threshold: float | None = None,
        concurrency: int = 2, batch_size: int = 1024) -> Any:
    """``ds`` with the tag columns, computed by ``concurrency`` actors (one detector each)."""
    require_ray()
    # Materialise the input first: actors hold their CPUs, so a lazy read behind them could starve.
    return ds.materialize().map_batches(TagBatches, fn_constructor_kwargs={"text_column": text_column, "detector": detector,
                                                             "threshold": threshold},
                          batch_format="pyarrow", batch_size=batch_size, concurrency=concurrency)


def embed(ds: Any, *, text_column: str = "text", model: str = "minilm", concurrency: int = 2,
          batch_size: int = 1024, output_column: str = EMBEDDING_COLUMN) -> Any:
    """``ds`` with an embedding column, computed by ``concurrency`` actors (one model each)."""
    require_ray()
    return ds.materialize().map_batches(EmbedBatches, fn_constructor_kwargs={"text_column": text_column, "model": model,
                                                               "output_column": output_column},
                          batch_format="pyarrow", batch_size=batch_size, concurrency=concurrency)


# --------------------------------------------------------------------------- quota
def _keys(table: pa.Table, cfg: QuotaConfig) -> RowKeys:
    return row_keys(table, cfg, table.column(_ROW).to_numpy().astype(np.int64))


def _summary_rows(table: pa.Table, cfg: QuotaConfig) -> pa.Table:
    return Summary.of(_keys(table, cfg)).to_arrow()


def _boundary_rows(table: pa.Table, plan: QuotaPlan) -> pa.Table:
    rows = plan.boundary(_keys(table, plan.cfg))
    return pa.table({"group": pa.array([repr(key[0]) for key, _, _ in rows], pa.string()),
                     "cls": pa.array([key[1] for key, _, _ in rows], pa.int8()),
                     "hash": pa.array([h for _, h, _ in rows], pa.uint64()),
                     "row": pa.array([p for _, _, p in rows], pa.int64())})


def _select_rows(table: pa.Table, plan: QuotaPlan) -> pa.Table:
    return table.filter(pa.array(plan.keep(_keys(table, plan.cfg)))).drop_columns([_ROW])


def _with_positions(ds: Any) -> Any:
    import ray

    n = ds.count()
    return ds.zip(ray.data.range(n).rename_columns({"id": _ROW}))


def enforce_quota(ds: Any, max_synthetic: float | None = None, *, config: QuotaConfig | None = None,
                  return_report: bool = False, **options: Any) -> Any:
    """:func:`synthfilter.enforce_quota` on a ``ray.data.Dataset``: the same kept rows, in order.

    ``max_synthetic``/``options`` (or ``config``) are those of :class:`synthfilter.quota.QuotaConfig`
    (no streaming, sharding or ``num_proc``: Ray distributes the passes). The passes are
    the engine-neutral plan's (:mod:`synthfilter.quota.plan`): summaries per block,
    reduced on the driver; the boundary rows of each stratum; a per-block keep mask.
    Returns a ``ray.data.Dataset`` (materialised), and with ``return_report=True`` also
    the :class:`synthfilter.QuotaReport`.
    """
    require_ray()
    cfg = QuotaConfig.build(max_synthetic, config, options)
    cfg.key_column(ds.columns())  # fail fast, naming the missing key column
    with _ordered():
        indexed = _with_positions(ds).materialize()
        summary = Summary.from_rows(
            indexed.map_batches(_summary_rows, fn_kwargs={"cfg": cfg}, batch_format="pyarrow").iter_rows())
        plan = make_plan(summary, cfg)
        if plan.needs_boundary:
            groups = {repr(g): g for g, _ in summary.counts}
            rows = indexed.map_batches(_boundary_rows, fn_kwargs={"plan": plan}, batch_format="pyarrow").iter_rows()
            plan = plan.resolve(((groups[r["group"]], int(r["cls"])), int(r["hash"]), int(r["row"])) for r in rows)
        out = indexed.map_batches(_select_rows, fn_kwargs={"plan": plan}, batch_format="pyarrow").materialize()
    return (out, plan.report()) if return_report else out


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
        return _set_column(table, output_column, pa.array(labels.astype(np.int64)))

    return ds.map_batches(assign, batch_format="pyarrow")
