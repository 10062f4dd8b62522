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
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from .. import quota as _quota
from ..diversity import assign_clusters as _assign, fit_hierarchy
from ..embed import EMBEDDING_COLUMN, Embedder
from ..columns import TAG_COLUMNS
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
def _arrays(table: pa.Table, cfg: _quota.QuotaConfig) -> dict[str, Any]:
    """Classes, group codes, hashes and positions of one block: the quota module's own functions."""
    return {"classes": _quota._classify(table, cfg), "groups": _quota._groups(table, cfg)[0],
            "names": _quota._groups(table, cfg)[1], "hashes": _quota._hashes(table, cfg.key_column(table.column_names), cfg.seed),
            "index": table.column(_ROW).to_numpy().astype(np.int64)}


def _summary_rows(table: pa.Table, cfg: _quota.QuotaConfig) -> pa.Table:
    a = _arrays(table, cfg)
    s = _quota.summarise(a["groups"], a["names"], a["classes"], a["hashes"])
    keys = list(s.counts)
    return pa.table({
        "group": pa.array([repr(k[0]) for k in keys], pa.string()),
        "group_value": pa.array([k[0] for k in keys]) if keys else pa.array([], pa.null()),
        "cls": pa.array([k[1] for k in keys], pa.int8()),
        "count": pa.array([s.counts[k] for k in keys], pa.int64()),
        "buckets": pa.array([np.flatnonzero(s.histograms[k]).astype(np.int32) for k in keys], pa.list_(pa.int32())),
        "bucket_counts": pa.array([s.histograms[k][s.histograms[k] > 0] for k in keys], pa.list_(pa.int64())),
    })


def _boundary_rows(table: pa.Table, cfg: _quota.QuotaConfig, cutoffs: dict) -> pa.Table:
    a = _arrays(table, cfg)
    buckets = (a["hashes"] >> np.uint64(64 - _quota._BUCKET_BITS)).astype(np.int64)
    stratum = a["groups"] * 3 + a["classes"]
    rows: dict[str, list] = {"group": [], "cls": [], "hash": [], "row": []}
    for code in np.unique(stratum):
        key = (a["names"][int(code) // 3], int(code) % 3)
        bucket, remaining = cutoffs[key]
        if remaining:
            m = (stratum == code) & (buckets == bucket)
            n = int(m.sum())
            rows["group"] += [repr(key[0])] * n
            rows["cls"] += [key[1]] * n
            rows["hash"] += a["hashes"][m].tolist()
            rows["row"] += a["index"][m].tolist()
    return pa.table({"group": pa.array(rows["group"], pa.string()), "cls": pa.array(rows["cls"], pa.int8()),
                     "hash": pa.array(rows["hash"], pa.uint64()), "row": pa.array(rows["row"], pa.int64())})


def _select_rows(table: pa.Table, cfg: _quota.QuotaConfig, cutoffs: dict, cuts: dict) -> pa.Table:
    a = _arrays(table, cfg)
    keep = _quota._select(a["groups"], a["names"], a["classes"], a["hashes"], a["index"], cutoffs, cuts)
    return table.filter(pa.array(keep)).drop_columns([_ROW])


def _with_positions(ds: Any) -> Any:
    import ray

    n = ds.count()
    return ds.zip(ray.data.range(n).rename_columns({"id": _ROW}))


def enforce_quota(ds: Any, max_synthetic: float, *, mode: Literal["cap", "exact"] = "cap", by: str | None = None,
                  label_column: str = "sf_label", synthetic_column: str | None = None,
                  score_column: str | None = None, score_threshold: float | None = None,
                  unknown: Literal["human", "synthetic", "drop"] = "human", id_column: str | None = None,
                  text_column: str = "text", seed: int = 0, min_rows: int = 1, return_report: bool = False) -> Any:
    """:func:`synthfilter.enforce_quota` on a ``ray.data.Dataset``: the same kept rows, in order.

    Parameters are those of :func:`synthfilter.enforce_quota` (no streaming, sharding
    or ``num_proc``: Ray distributes the passes). Returns a ``ray.data.Dataset``
    (materialised), and with ``return_report=True`` also the
    :class:`synthfilter.QuotaReport`.
    """
    require_ray()
    cfg = _quota.QuotaConfig(max_synthetic=max_synthetic, mode=mode, by=by, label_column=label_column,
                             synthetic_column=synthetic_column, score_column=score_column,
                             score_threshold=score_threshold, unknown=unknown, id_column=id_column,
                             text_column=text_column, seed=seed, min_rows=min_rows)
    cfg.key_column(ds.columns())  # fail fast, naming the missing key column
    with _ordered():
        indexed = _with_positions(ds).materialize()
        # pass 1: per-block counts and sparse hash histograms, reduced on the driver
        total = _quota.ShardSummary()
        values: dict[str, Any] = {}
        for row in indexed.map_batches(_summary_rows, fn_kwargs={"cfg": cfg}, batch_format="pyarrow").iter_rows():
            values.setdefault(row["group"], row["group_value"])
            hist = np.zeros(1 << _quota._BUCKET_BITS, dtype=np.int64)
            hist[np.asarray(row["buckets"], dtype=np.int64)] = np.asarray(row["bucket_counts"], dtype=np.int64)
            part = _quota.ShardSummary({(values[row["group"]], row["cls"]): row["count"]},
                                       {(values[row["group"]], row["cls"]): hist})
            total = total.merge(part)
        keep = _quota.plan_keep(total.counts, cfg)
        cutoffs = _quota._cutoffs_from_histograms(total, keep)
        # pass 2: the boundary bucket of each stratum
        boundary: dict = {}
        if any(remaining for _, remaining in cutoffs.values()):
            for row in indexed.map_batches(_boundary_rows, fn_kwargs={"cfg": cfg, "cutoffs": cutoffs},
                                           batch_format="pyarrow").iter_rows():
                key = (values[row["group"]], int(row["cls"]))
                boundary.setdefault(key, []).append((int(row["hash"]), int(row["row"])))
        cuts = _quota._exact_cuts(boundary, cutoffs)
        # pass 3: per-row selection
        out = indexed.map_batches(_select_rows, fn_kwargs={"cfg": cfg, "cutoffs": cutoffs, "cuts": cuts},
                                  batch_format="pyarrow").materialize()
    if not return_report:
        return out
    before: dict[str, dict[str, int]] = {}
    after: dict[str, dict[str, int]] = {}
    for (group, cls), n in total.counts.items():
        name = "all" if group is None else str(group)
        before.setdefault(name, {}).update({_quota._CLASS_NAMES[cls]: n})
        after.setdefault(name, {}).update({_quota._CLASS_NAMES[cls]: min(n, keep.get((group, cls), 0))})
    return out, _quota._report(cfg, _fill(before), _fill(after))


def _fill(per_group: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {g: {c: v.get(c, 0) for c in _quota._CLASS_NAMES} for g, v in per_group.items()}


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
                    output_column: str = "sf_cluster") -> Any:
    """``ds`` with the nearest centroid of each row in ``output_column`` (distributed per block)."""
    require_ray()

    def assign(table: pa.Table) -> pa.Table:
        labels, _ = _assign(_matrix(table, embedding_column), centroids)
        return _set_column(table, output_column, pa.array(labels.astype(np.int64)))

    return ds.map_batches(assign, batch_format="pyarrow")
