"""JSON values read exactly: integers beyond the signed 64-bit range, and columns whose values are of several JSON
types (``datasets.Json``), which ``datasets`` would round or decode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import datasets
import pyarrow as pa

from .files import InputUnit, open_decompressed

__all__ = ["exact_big_ints", "exact_json_values", "as_json_columns", "json_features"]


def _json_records(path: Path) -> Iterator[Any]:
    """The records of a JSON-lines file (or the items of one JSON array), parsed by Python (exact integers)."""
    with open_decompressed(path) as raw:
        data = raw.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip().startswith(b"["):
        yield from json.loads(data)
        return
    for line in data.split(b"\n"):
        if line.strip():
            yield json.loads(line)


def json_features(path: Path) -> datasets.Features:
    """Column types of a JSON-lines file inferred from all of it (pyarrow's reader; holds the whole file)."""
    import pyarrow.json as paj

    with open_decompressed(path) as raw:
        return datasets.Features.from_arrow_schema(paj.read_json(raw).schema)


def exact_big_ints(unit: InputUnit, ds: datasets.Dataset) -> datasets.Dataset:
    """pyarrow's JSON reader reads integers beyond the signed 64-bit range as float64, rounded (2**63 + 5 comes
    back as 2**63): read such a column again exactly, as uint64, or refuse it when no type holds it exactly."""
    import pyarrow.compute as pc

    table = ds.data.table
    suspects = [name for name in table.column_names if pa.types.is_floating(table.schema.field(name).type)
                and pc.any(pc.greater_equal(pc.abs(table.column(name)), 2.0**63)).as_py()]
    if not suspects:
        return ds
    values: dict[str, list[Any]] = {name: [] for name in suspects}
    for record in _json_records(unit.path):
        for name in suspects:
            values[name].append(record.get(name) if isinstance(record, dict) else None)
    for name, column in values.items():
        numbers = [v for v in column if v is not None]
        if not any(type(v) is int and not -(2**63) <= v < 2**63 for v in numbers):
            continue  # floats written as floats (1e19): the reader rounded nothing
        if len(column) != ds.num_rows:
            raise ValueError(f"{unit.path}: column {name!r}: {len(column)} records for {ds.num_rows} rows")
        bad = next(((i, v) for i, v in enumerate(column) if v is not None and not (type(v) is int and 0 <= v < 2**64)),
                   None)
        if bad is not None:
            row, value = bad
            why = ("is beyond the unsigned 64-bit range (2**64 - 1 at most)" if type(value) is int and value >= 2**64
                   else "is negative" if type(value) is int else f"is not an integer ({type(value).__name__})")
            raise ValueError(f"{unit.path}: column {name!r} holds integers beyond the signed 64-bit range, and the "
                             f"value {value!r} of row {row + 1} {why}: no column type holds all of them exactly (they "
                             f"would be rounded as floats); write them as strings")
        ds = ds.remove_columns(name).add_column(name, pa.array(column, pa.uint64()))
    return ds.select_columns(table.column_names)


def _holds_json(feature: Any) -> bool:
    if isinstance(feature, datasets.Json):
        return True
    if isinstance(feature, dict):
        return any(_holds_json(f) for f in feature.values())
    inner = getattr(feature, "feature", None)
    return inner is not None and _holds_json(inner)


def _json_text(value: Any, feature: Any) -> Any:
    """``value`` with every part that ``feature`` types as ``Json`` written as its exact JSON text."""
    if value is None:
        return None
    if isinstance(feature, datasets.Json):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(feature, dict) and isinstance(value, dict):
        return {k: _json_text(value.get(k), f) for k, f in feature.items()}
    inner = getattr(feature, "feature", None)
    if inner is not None and isinstance(value, list):
        return [_json_text(v, inner) for v in value]
    return value


def exact_json_values(unit: InputUnit, ds: datasets.Dataset) -> datasets.Dataset:
    """``datasets`` stores a column whose values are of several JSON types (a number among strings) as ``Json``,
    keeping each string as it is when it parses as JSON: the text ``"null"``, ``"42"`` or ``"\"hi\""`` would come
    back as null, 42 and hi, and the group value ``"1"`` as the integer 1. Such columns are read again from the
    file, every value written as its exact JSON text, so each comes back as it was written."""
    names = [name for name, feature in ds.features.items() if _holds_json(feature)]
    if not names:
        return ds
    values: dict[str, list[Any]] = {name: [] for name in names}
    for record in _json_records(unit.path):
        for name in names:
            values[name].append(_json_text(record.get(name) if isinstance(record, dict) else None, ds.features[name]))
    table = ds.data.table
    for name, column in values.items():
        if len(column) != ds.num_rows:
            raise ValueError(f"{unit.path}: column {name!r}: {len(column)} records for {ds.num_rows} rows")
        target = table.schema.field(name).type
        array = pa.array(column, _storage_type(target)).cast(target)
        table = table.set_column(table.column_names.index(name), name, array)
    return datasets.Dataset(datasets.table.InMemoryTable(table), info=ds.info)


def as_json_columns(ds: datasets.Dataset, names: list[str]) -> datasets.Dataset:
    """``ds`` with the columns ``names`` turned into ``Json`` columns holding each value's exact JSON text (to join
    a file where that column mixes JSON types)."""
    if not names:
        return ds
    table = ds.data.table
    for name in names:
        values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in table.column(name).to_pylist()]
        table = table.set_column(table.column_names.index(name), name, pa.array(values, pa.string()).cast(pa.json_()))
    return datasets.Dataset(datasets.table.InMemoryTable(table.replace_schema_metadata(None)))


def _storage_type(t: pa.DataType) -> pa.DataType:
    """``t`` with every extension type (``Json``) replaced by its storage type, for ``pa.array`` of plain values."""
    if isinstance(t, pa.BaseExtensionType):
        return _storage_type(t.storage_type)
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_storage_type(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_large_list(t):
        return pa.large_list(_storage_type(t.value_type))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_storage_type(t.value_type), t.list_size)
    if pa.types.is_list(t):
        return pa.list_(_storage_type(t.value_type))
    return t
