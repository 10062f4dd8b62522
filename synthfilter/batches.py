"""The model-backed transforms on Arrow batches, as every engine runs them.

``TagColumns(Tagger(...))`` and ``EmbedColumn(Embedder(...))`` take a ``pyarrow.Table``
and return it with the transform's columns set, typed as :mod:`synthfilter.columns`
declares them (so a batch whose values are all null still has the column's real type).
They pickle without their models, which load once per worker or actor.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .arrow_json import pylist
from .columns import TAG_COLUMNS
from .diversity.encoders import Embedder
from .tag import Tagger

__all__ = ["TagColumns", "EmbedColumn", "set_column"]


def set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """``table`` with column ``name`` replaced by (or appended as) ``values``."""
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def _text(table: pa.Table, column: str) -> list:
    if column not in table.column_names:
        raise KeyError(f"text column {column!r} not found; columns present: {table.column_names}")
    return pylist(table.column(column))


class TagColumns:
    """Arrow-batch form of a :class:`~synthfilter.Tagger`: adds the tag columns."""

    def __init__(self, tagger: Tagger) -> None:
        self.tagger = tagger

    def __call__(self, table: pa.Table) -> pa.Table:
        columns = self.tagger.columns(_text(table, self.tagger.text_column), decision=self.tagger.decide(table))
        for column in TAG_COLUMNS:
            table = set_column(table, column.name, pa.array(columns[column.name], column.type))
        return table


class EmbedColumn:
    """Arrow-batch form of an :class:`~synthfilter.Embedder`: adds its vector column."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, table: pa.Table) -> pa.Table:
        vectors = self.embedder.encode(_text(table, self.embedder.text_column))
        values = pa.array([None if v is None else np.asarray(v, np.float32) for v in vectors], pa.list_(pa.float32()))
        return set_column(table, self.embedder.output_column, values)
