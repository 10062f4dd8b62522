"""The Ray engine: Ray Data blocks, a pool of actors for ``map_batches``; rows keep their order."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa

from ..io import data_format, input_files, read_dataset, recorded_files
from .base import BatchFn, Engine

__all__ = ["RayEngine", "ordered", "quiet", "require_ray", "start_local"]

_ROW = "_sf_row"


@contextlib.contextmanager
def ordered() -> Iterator[None]:
    """Ray Data keeps row order for the duration (so positions, and ties by position, match one machine)."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    before = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True
    try:
        yield
    finally:
        ctx.execution_options.preserve_order = before


def require_ray() -> Any:
    """Import ``ray`` or raise an ImportError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:  # pragma: no cover - exercised only without ray
        raise ImportError("synthfilter needs Ray Data for Ray: pip install 'synthfilter[ray]'") from err
    return ray


def start_local(num_cpus: int | None = None, *, verbose: bool = False) -> Any:
    """Join the cluster at ``RAY_ADDRESS`` if set; else start a local Ray.

    ``num_cpus`` caps the local Ray's CPUs (default: all). No dashboard, no log
    forwarding to the driver. Does nothing when Ray is already initialised. Ray 2.60
    refuses a loopback node address and its gRPC servers listen on every interface;
    they require Ray's session token (on by default), so leave ``RAY_AUTH_MODE`` unset.
    ``verbose=False`` (default) keeps Ray quiet: errors only, no Ray Data progress logs
    (set ``verbose=True`` for Ray's own logging and progress bars).
    """
    ray = require_ray()
    quiet(not verbose)
    if ray.is_initialized():
        return ray
    level = logging.INFO if verbose else logging.ERROR
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False, logging_level=level)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=level)
    quiet(not verbose)
    return ray


def quiet(on: bool = True) -> None:
    """Silence (or restore) Ray's driver-side logging, Ray Data's progress output and its advice warnings."""
    if on:
        warnings.filterwarnings("ignore", message="The minimum number of concurrent actors", category=UserWarning)
    for name in ("ray", "ray.data", "ray._private", "ray.util", "ray.rllib"):
        logging.getLogger(name).setLevel(logging.ERROR if on else logging.INFO)
    try:
        from ray.data import DataContext
    except ImportError:  # pragma: no cover - ray missing is reported by require_ray
        return
    ctx = DataContext.get_current()
    for flag in ("enable_progress_bars", "enable_operator_progress_bars"):
        if hasattr(ctx, flag):
            setattr(ctx, flag, not on)
    if hasattr(ctx, "print_on_execution_start"):
        ctx.print_on_execution_start = not on


class _Apply:
    """An actor holding one transform (its model loads once per actor)."""

    def __init__(self, fn: BatchFn) -> None:
        self.fn = fn

    def __call__(self, table: pa.Table) -> pa.Table:
        return self.fn(table)


class RayEngine(Engine):
    """Steps on a ``ray.data.Dataset``; joins the cluster at ``RAY_ADDRESS`` or starts a local Ray.

    Parameters
    ----------
    workers:
        Actors of ``map_batches`` (and CPUs of a Ray started here). Default 2.
    batch_size:
        Rows per batch. Default 1000.
    verbose:
        Ray's own logs and progress output (default ``False``: errors only).
    """

    name = "ray"

    def __init__(self, workers: int = 2, batch_size: int = 1000, verbose: bool = False) -> None:
        self.ray = start_local(num_cpus=max(workers, 1), verbose=verbose)
        self.workers = workers
        self.batch_size = batch_size

    def columns(self, data: Any) -> list[str]:
        return list(data.columns())

    def load(self, path: Path) -> Any:
        files = input_files(path)
        if all(data_format(p)[0] == "parquet" for p in files):
            return self.ray.data.read_parquet([str(p) for p in files])
        return self.ray.data.from_arrow(read_dataset(path).data.table)

    def read(self, folder: Path) -> Any:
        # only the files the folder's checksums list, in their order: never a stray or hidden one
        return self.ray.data.read_parquet([str(p) for p in recorded_files(folder, ".parquet")
                                           if p.parent == Path(folder)])

    def write(self, data: Any, folder: Path) -> int:
        import pyarrow.parquet as pq

        n = 0
        with ordered():
            for i, table in enumerate(data.iter_batches(batch_format="pyarrow", batch_size=None)):
                pq.write_table(table, Path(folder) / f"part-{i:05d}.parquet")
                n += table.num_rows
        return n

    def map_batches(self, data: Any, fn: BatchFn, desc: str) -> Any:
        """Lazy: blocks stream from the read through the actors to whatever consumes the result."""
        with ordered():
            return data.map_batches(
                _Apply, fn_constructor_kwargs={"fn": fn}, batch_format="pyarrow", batch_size=self.batch_size,
                compute=self.ray.data.ActorPoolStrategy(size=self.workers), num_cpus=self._actor_cpus())

    def _actor_cpus(self) -> float:
        """CPUs per actor, leaving one CPU of the cluster free for the read and write tasks that feed them
        (actors holding every CPU would starve a streaming read)."""
        total = float(self.ray.cluster_resources().get("CPU", self.workers + 1))
        return max(0.25, min(1.0, (total - 1.0) / max(self.workers, 1)))

    def _positioned(self, data: Any, column: str = _ROW) -> Any:
        """``data`` with each row's position in ``column``, numbered on the driver as blocks stream past in order.

        Ray Data has no global row index (``Dataset.zip`` with a range could number rows, but it
        is deprecated): the blocks are put back in the object store numbered, without passing
        twice over the input.
        """
        refs, start = [], 0
        with ordered():
            for table in data.iter_batches(batch_format="pyarrow", batch_size=None):
                positions = pa.array(np.arange(start, start + table.num_rows, dtype=np.int64))
                refs.append(self.ray.put(table.append_column(column, positions)))
                start += table.num_rows
            if not refs:
                schema = data.schema()
                empty = pa.schema(getattr(schema, "base_schema", schema)).empty_table()
                refs.append(self.ray.put(empty.append_column(column, pa.array([], pa.int64()))))
            return self.ray.data.from_arrow_refs(refs)

    def number_rows(self, data: Any, column: str) -> Any:
        return self._positioned(data, column)

    def reduce(self, data: Any, fn: Callable[[pa.Table, np.ndarray], pa.Table], columns: list[str]) -> list[pa.Table]:
        out, start = [], 0
        with ordered():
            for table in data.select_columns(columns).iter_batches(batch_format="pyarrow", batch_size=None):
                out.append(fn(table, np.arange(start, start + table.num_rows, dtype=np.int64)))
                start += table.num_rows
        return out

    def filter(self, data: Any, keep: Callable[[pa.Table, np.ndarray], np.ndarray], columns: list[str]) -> Any:
        def apply(table: pa.Table) -> pa.Table:
            mask = keep(table.select(columns), table.column(_ROW).to_numpy().astype(np.int64))
            return table.filter(pa.array(mask)).drop_columns([_ROW])

        numbered = self._positioned(data)
        with ordered():
            return numbered.map_batches(apply, batch_format="pyarrow")

    def to_local(self, data: Any) -> datasets.Dataset:
        with ordered():
            tables = list(data.iter_batches(batch_format="pyarrow", batch_size=None))
        return datasets.Dataset(datasets.table.InMemoryTable(pa.concat_tables(tables)))
