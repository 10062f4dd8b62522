"""Arrow columns as Python values, the way ``datasets`` decodes them, and set in a table.

``datasets`` stores a JSON column whose values are of several types (a number among
strings) as its ``Json`` feature: an Arrow ``arrow.json`` extension array holding each
value's JSON text (see :func:`synthfilter.io.read_dataset`, which writes that text
exactly). Code that reads Arrow batches directly (the engines' transforms) gets the JSON
text from ``to_pylist()``; :func:`pylist` decodes it, so a transform sees the text
``"42"`` as the string ``"42"`` and the number 42 as a number, as ``ds.map`` would.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

__all__ = ["pylist", "is_json", "column_values", "set_column"]


def is_json(t: pa.DataType) -> bool:
    """Whether ``t`` is Arrow's JSON extension type (``datasets.Json``)."""
    return isinstance(t, pa.BaseExtensionType) and t.extension_name == "arrow.json"


def pylist(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The values of an Arrow column as Python objects; a JSON column's values decoded."""
    out = values.to_pylist()
    if is_json(values.type):
        return [None if v is None else json.loads(v) for v in out]
    return out


def column_values(table: pa.Table, column: str) -> list[Any]:
    """The values of ``table``'s column ``column`` (see :func:`pylist`); ``KeyError`` naming the columns present."""
    if column not in table.column_names:
        raise KeyError(f"text column {column!r} not found; columns present: {table.column_names}")
    return pylist(table.column(column))


def set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """``table`` with column ``name`` replaced by (or appended as) ``values``."""
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)
