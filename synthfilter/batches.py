"""The model-backed transforms on Arrow batches, as every engine runs them.

``TagColumns(Tagger(...))`` and ``EmbedColumn(Embedder(...))`` take a ``pyarrow.Table``
and return it with the transform's columns set, typed as :mod:`synthfilter.columns`
declares them (so a batch whose values are all null still has the column's real type).
They pickle without their models, which load once per worker or actor.
"""

from __future__ import annotations

import pyarrow as pa

from .arrow_json import column_values, set_column
from .columns import TAG_COLUMNS
from .diversity.embed_batches import EmbedColumn
from .tag import Tagger

__all__ = ["TagColumns", "EmbedColumn", "set_column"]


class TagColumns:
    """Arrow-batch form of a :class:`~synthfilter.Tagger`: adds the tag columns."""

    def __init__(self, tagger: Tagger) -> None:
        self.tagger = tagger

    def __call__(self, table: pa.Table) -> pa.Table:
        columns = self.tagger.columns(column_values(table, self.tagger.text_column), decision=self.tagger.decide(table))
        for column in TAG_COLUMNS:
            table = set_column(table, column.name, pa.array(columns[column.name], column.type))
        return table
