"""The Arrow-batch form of :class:`~synthfilter.Embedder`, as every engine runs it (see :mod:`synthfilter.batches`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..arrow_json import column_values, set_column
from .encoders import Embedder

__all__ = ["EmbedColumn"]


class EmbedColumn:
    """Arrow-batch form of an :class:`~synthfilter.Embedder`: adds its vector column."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, table: pa.Table) -> pa.Table:
        vectors = self.embedder.encode(column_values(table, self.embedder.text_column))
        values = pa.array([None if v is None else np.asarray(v, np.float32) for v in vectors], pa.list_(pa.float32()))
        return set_column(table, self.embedder.output_column, values)
