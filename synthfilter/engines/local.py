"""The local engine: ``datasets`` on this machine, ``num_proc`` worker processes for ``map_batches``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa

from ..io import read_dataset, recorded_files
from .base import BatchFn, Engine
from .workers import BoundToParent

__all__ = ["LocalEngine"]


class LocalEngine(Engine):
    """Steps on a ``datasets.Dataset``.

    Parameters
    ----------
    workers:
        Processes of ``map_batches`` (``datasets.map(num_proc=...)``), used when the data
        holds at least two batches. Default 2.
    batch_size:
        Rows per batch. Default 1000.
    """

    name = "local"
    #: Rows per batch of ``reduce`` and ``filter`` (cheap per row: fewer, larger batches).
    reduce_batch_size = 100_000

    def __init__(self, workers: int = 2, batch_size: int = 1000) -> None:
        self.workers = workers
        self.batch_size = batch_size

    def columns(self, ds: datasets.Dataset) -> list[str]:
        return list(ds.column_names)

    def load(self, path: Path) -> datasets.Dataset:
        return read_dataset(path)

    def number_rows(self, ds: datasets.Dataset, column: str) -> datasets.Dataset:
        return ds.add_column(column, np.arange(ds.num_rows, dtype=np.int64),
                             feature=datasets.Value("int64"))

    def read(self, folder: Path) -> datasets.Dataset:
        # only the files the folder's checksums list, in their order: never a stray or hidden one
        return datasets.load_dataset("parquet", data_files=[str(p) for p in recorded_files(folder, ".parquet")
                                                            if p.parent == Path(folder)], split="train")

    def write(self, ds: datasets.Dataset, folder: Path) -> int:
        ds.to_parquet(str(Path(folder) / "part-00000.parquet"))
        return ds.num_rows

    def map_batches(self, ds: datasets.Dataset, fn: BatchFn, desc: str) -> datasets.Dataset:
        if ds.num_rows == 0:  # datasets.map skips an empty dataset, so the new columns would be missing
            return datasets.Dataset(datasets.table.InMemoryTable(fn(ds.with_format("arrow")[:0])))
        procs = self.workers if self.workers > 1 and ds.num_rows >= 2 * self.batch_size else None
        if procs:
            fn = BoundToParent(fn)  # workers die with this process, not minutes later
        out = ds.with_format("arrow").map(fn, batched=True, batch_size=self.batch_size, num_proc=procs, desc=desc)
        return out.with_format(None)

    def _batches(self, ds: datasets.Dataset, columns: list[str]) -> Iterator[tuple[pa.Table, np.ndarray]]:
        start, size = 0, max(self.batch_size, self.reduce_batch_size)
        for batch in ds.select_columns(columns).with_format("arrow").iter(batch_size=size):
            yield batch, np.arange(start, start + batch.num_rows, dtype=np.int64)
            start += batch.num_rows

    def reduce(self, ds: datasets.Dataset, fn: Callable[[pa.Table, np.ndarray], pa.Table],
               columns: list[str]) -> list[pa.Table]:
        return [fn(batch, positions) for batch, positions in self._batches(ds, columns)]

    def filter(self, ds: datasets.Dataset, keep: Callable[[pa.Table, np.ndarray], np.ndarray],
               columns: list[str]) -> datasets.Dataset:
        masks = [keep(batch, positions) for batch, positions in self._batches(ds, columns)]
        kept = np.flatnonzero(np.concatenate(masks)) if masks else np.zeros(0, np.int64)
        return ds.select(kept) if len(kept) < ds.num_rows else ds

    def to_local(self, ds: datasets.Dataset) -> datasets.Dataset:
        return ds
