"""The interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa

__all__ = ["Engine", "BatchFn", "PositionedFn"]

#: A transform of one Arrow batch: same rows out, in the same order.
BatchFn = Callable[[pa.Table], pa.Table]
#: A function of one Arrow batch and the global positions of its rows.
PositionedFn = Callable[[pa.Table, np.ndarray], Any]


class Engine:
    """Runs steps over data it holds in its own form (a ``datasets.Dataset``, a Ray dataset, ...)."""

    name = "base"

    def columns(self, data: Any) -> list[str]:  # pragma: no cover - interface
        """The column names of ``data``."""
        raise NotImplementedError

    def load(self, path: Path) -> Any:  # pragma: no cover - interface
        """The input at ``path`` (a data file or folder; see :func:`synthfilter.io.read_dataset`)."""
        raise NotImplementedError

    def read(self, folder: Path) -> Any:  # pragma: no cover - interface
        """The Parquet files a previous :meth:`write` left in ``folder``, as its ``_CHECKSUMS.json`` lists them."""
        raise NotImplementedError

    def write(self, data: Any, folder: Path) -> int:  # pragma: no cover - interface
        """Write ``data`` as Parquet files into ``folder``, in row order; return the row count."""
        raise NotImplementedError

    def number_rows(self, data: Any, column: str) -> Any:  # pragma: no cover - interface
        """``data`` with an int64 ``column`` holding each row's global position (0-based)."""
        raise NotImplementedError

    def map_batches(self, data: Any, fn: BatchFn, desc: str) -> Any:  # pragma: no cover - interface
        """``fn`` applied to every Arrow batch (on workers; ``fn`` is pickled, models load there)."""
        raise NotImplementedError

    def reduce(self, data: Any, fn: Callable[[pa.Table, np.ndarray], pa.Table],
               columns: list[str]) -> list[pa.Table]:  # pragma: no cover - interface
        """``fn(batch, positions)`` of every batch of ``columns``, collected on the driver as a list."""
        raise NotImplementedError

    def filter(self, data: Any, keep: Callable[[pa.Table, np.ndarray], np.ndarray],
               columns: list[str]) -> Any:  # pragma: no cover - interface
        """The rows where ``keep(batch of columns, positions)`` is true, in order."""
        raise NotImplementedError

    def to_local(self, data: Any) -> datasets.Dataset:  # pragma: no cover - interface
        """``data`` as a ``datasets.Dataset`` on the driver."""
        raise NotImplementedError
