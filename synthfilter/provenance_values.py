"""Arrow column values read for the provenance rules: strings to match, and dates to compare.

:func:`values_as_strings` turns a column rule's column into strings (integers by their
decimal form); :func:`dates_before` says per row whether a date, timestamp or ISO-8601
string column is before midnight UTC of a cut date. The accepted types and formats are
documented in :mod:`synthfilter.provenance`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["values_as_strings", "dates_before"]

_EPOCH = dt.date(1970, 1, 1)
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
# An offset (Z, +05, +0530, +05:30) after the time part; the date part's "-" never follows a "T"/" ".
_OFFSET = r"[T ][0-9:.]*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _decoded(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    return values


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def values_as_strings(values: pa.Array | pa.ChunkedArray, column: str) -> pa.Array | pa.ChunkedArray:
    """The column rule's values as strings (integers by their decimal form)."""
    values = _decoded(values)
    t = values.type
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.string())
    if _is_text(t) or pa.types.is_integer(t):
        return values.cast(pa.string())
    raise TypeError(f"provenance column {column!r} must hold strings or integers (compared as strings), got {t}")


def dates_before(values: pa.Array | pa.ChunkedArray, cut: dt.date, column: str) -> np.ndarray:
    """Boolean per row: the value is before midnight UTC of ``cut`` (null -> False)."""
    values = _decoded(values)
    t = values.type
    days = (cut - _EPOCH).days
    if pa.types.is_null(t):
        return np.zeros(len(values), dtype=bool)
    if pa.types.is_date32(t):
        ticks, limit = values.cast(pa.int32()), days
    elif pa.types.is_date64(t):
        ticks, limit = values.cast(pa.int64()), days * 86_400_000
    elif pa.types.is_timestamp(t):  # stored as UTC (aware) or wall time read as UTC (naive)
        ticks, limit = values.cast(pa.int64()), days * 86_400 * _PER_SECOND[t.unit]
    elif _is_text(t):
        ticks, limit = _parse_iso(values, column), days * 86_400 * 10**6
    else:
        raise TypeError(f"first_seen_column {column!r} must hold dates, timestamps or ISO-8601 strings, got {t}")
    early = pc.less(ticks, pa.scalar(limit, ticks.type))
    return pc.fill_null(early, False).to_numpy(zero_copy_only=False).astype(bool)


def _parse_iso(values: pa.Array | pa.ChunkedArray, column: str) -> pa.Array | pa.ChunkedArray:
    """Microseconds since the epoch (UTC) per ISO-8601 string; null for null/blank; ``ValueError`` otherwise."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(values.cast(pa.string())))
    none = pa.scalar(None, pa.string())
    text = pc.if_else(pc.equal(text, ""), none, text)
    text = pc.replace_substring_regex(text, r"(\.[0-9]{6})[0-9]+", r"\1")  # Arrow parses at most microseconds
    aware = pc.fill_null(pc.match_substring_regex(text, _OFFSET), False)
    naive = _cast_or_explain(pc.if_else(aware, none, text), pa.timestamp("us"), column, values)
    zoned = _cast_or_explain(pc.if_else(aware, text, none), pa.timestamp("us", tz="UTC"), column, values)
    return pc.coalesce(naive.cast(pa.int64()), zoned.cast(pa.int64()))


def _cast_or_explain(text: pa.Array | pa.ChunkedArray, to: pa.DataType, column: str,
                     original: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``text.cast(to)``, or ``ValueError`` naming the column and an original value that does not parse."""
    try:
        return text.cast(to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    start, stop = 0, len(text)
    while stop - start > 1:  # bisect to one value that does not parse: O(n) work in all, only on this error path
        mid = (start + stop) // 2
        try:
            text.slice(start, mid - start).cast(to)
            start = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            stop = mid
    example = original[start].as_py() if len(text) else None
    raise ValueError(f"first_seen_column {column!r} holds {example!r}, which is not an ISO-8601 date or timestamp "
                     "(like '2022-11-30', '2022-11-30T12:00:00' or '2022-11-30T12:00:00+01:00')")
