"""The class (human, synthetic, unknown) and the group of every row, from an Arrow batch or one row."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import CLASS_NAMES, HUMAN, NULL_GROUP, SYNTHETIC, UNKNOWN, QuotaConfig, group_name

__all__ = ["classify", "row_class", "group_codes", "group_values"]


def classify(table: pa.Table, cfg: QuotaConfig) -> np.ndarray:
    """Class per row of an Arrow batch: 0 human, 1 synthetic, 2 unknown (before the ``unknown`` policy).

    Provenance rules (``cfg.provenance``) decide first; the label, flag or score the rest.
    """
    if cfg.provenance is None:
        return _classify(table, cfg)
    decision = cfg.provenance.decide(table)
    if decision.decided.all():
        return decision.classes.astype(np.int8)
    classes = _classify(table, cfg)
    classes[decision.decided] = decision.classes[decision.decided]
    return classes


def _classify(table: pa.Table, cfg: QuotaConfig) -> np.ndarray:
    columns = table.column_names
    if cfg.synthetic_column is not None:
        if cfg.synthetic_column not in columns:
            raise KeyError(f"synthetic_column {cfg.synthetic_column!r} not found; columns present: {columns}")
        return _classify_flags(table.column(cfg.synthetic_column), f"synthetic_column {cfg.synthetic_column!r}")
    if cfg.score_column is not None and cfg.score_threshold is not None:
        if cfg.score_column not in columns:
            raise KeyError(f"score column {cfg.score_column!r} not found (columns present: {columns}); "
                           "run ds.map(synthfilter.tag, batched=True) first")
        scores = pc.fill_null(table.column(cfg.score_column).cast(pa.float64()), math.nan).to_numpy(zero_copy_only=False)
        cls = (scores >= cfg.score_threshold).astype(np.int8)
        cls[np.isnan(scores)] = UNKNOWN
        return cls
    if cfg.label_column not in columns:
        raise KeyError(f"label column {cfg.label_column!r} not found (columns present: {columns}); "
                       "run ds.map(synthfilter.tag, batched=True) first, or pass synthetic_column=... "
                       "or score_column=/score_threshold=")
    col = table.column(cfg.label_column)
    if pa.types.is_boolean(col.type) or pa.types.is_integer(col.type) or pa.types.is_null(col.type):
        return _classify_flags(col, f"label column {cfg.label_column!r}")
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise TypeError(f"label column {cfg.label_column!r} must hold 'human'/'synthetic'/'unknown' strings, "
                        f"booleans or 0/1, got {col.type}")
    is_syn = pc.fill_null(pc.equal(col, "synthetic"), False).to_numpy(zero_copy_only=False)
    is_hum = pc.fill_null(pc.equal(col, "human"), False).to_numpy(zero_copy_only=False)
    is_unk = pc.fill_null(pc.equal(col, "unknown"), True).to_numpy(zero_copy_only=False)
    if not (is_syn | is_hum | is_unk).all():
        bad = pc.unique(pc.filter(col, pc.invert(pc.is_in(col, pa.array(["synthetic", "human", "unknown"]))))).to_pylist()
        raise ValueError(f"label column {cfg.label_column!r} holds {bad[:5]}; expected 'human', 'synthetic' or 'unknown'")
    return np.where(is_syn, SYNTHETIC, np.where(is_hum, HUMAN, UNKNOWN)).astype(np.int8)


def _classify_flags(col: pa.ChunkedArray, what: str) -> np.ndarray:
    """Class per row of a boolean or 0/1 column: true/1 synthetic, false/0 human, null unknown."""
    if pa.types.is_null(col.type):  # every value null, e.g. a provenance column null in this batch
        return np.full(len(col), UNKNOWN, dtype=np.int8)
    if pa.types.is_integer(col.type):
        bad = pc.unique(pc.filter(col, pc.invert(pc.is_in(col, pa.array([0, 1], col.type))))).to_pylist()
        bad = [b for b in bad if b is not None]
        if bad:
            raise ValueError(f"{what} holds {bad[:5]}; expected booleans or 0/1 (1 = synthetic)")
        col = pc.equal(col, pa.scalar(1, col.type))
    elif not pa.types.is_boolean(col.type):
        raise TypeError(f"{what} must be boolean (or 0/1), got {col.type}")
    values = pc.fill_null(col, False).to_numpy(zero_copy_only=False)
    nulls = col.is_null().to_numpy(zero_copy_only=False)
    return np.where(nulls, UNKNOWN, values.astype(np.int8)).astype(np.int8)


def row_class(row: dict[str, Any], cfg: QuotaConfig) -> int:
    """:func:`classify` for one row of a stream."""
    if cfg.provenance is not None:
        decided, _ = cfg.provenance.decide_row(row)
        if decided >= 0:
            return int(decided)
    column = cfg.class_column()
    if column not in row:
        hint = "" if cfg.synthetic_column else "; run ds.map(synthfilter.tag, batched=True) first"
        raise KeyError(f"column {column!r} not found (columns present: {list(row)}){hint}")
    value = row[column]
    if value is None:
        return UNKNOWN
    flags = isinstance(value, (bool, np.bool_, int, np.integer))
    if cfg.synthetic_column is not None or (cfg.score_column is None and flags):
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value not in (0, 1):
            raise ValueError(f"column {column!r} holds {value!r}; expected booleans or 0/1 (1 = synthetic)")
        if not isinstance(value, (bool, np.bool_, int, np.integer)):
            raise TypeError(f"synthetic_column {column!r} must be boolean (or 0/1), got {value!r}")
        return SYNTHETIC if value else HUMAN
    if cfg.score_column is not None and cfg.score_threshold is not None:
        value = float(value)
        return UNKNOWN if math.isnan(value) else int(value >= cfg.score_threshold)
    try:
        return CLASS_NAMES.index(value)
    except ValueError:
        raise ValueError(f"label column {column!r} holds {value!r}; expected 'human', 'synthetic' or 'unknown'") from None


def group_codes(table: pa.Table, cfg: QuotaConfig) -> tuple[np.ndarray, list]:
    """Group code per row and the group names (:func:`~synthfilter.quota.config.group_name`: null and NaN
    values form one group, ``NULL_GROUP``; a ``Json`` column's values are named by their JSON text)."""
    if cfg.by is None:
        return np.zeros(table.num_rows, dtype=np.int64), [None]
    if cfg.by not in table.column_names:
        raise KeyError(f"by: group column {cfg.by!r} not found; columns present: {table.column_names}")
    col = table.column(cfg.by)
    if isinstance(col.type, pa.BaseExtensionType):  # Json (values of several types): grouped by their JSON text
        col = pa.chunked_array([c.storage for c in col.chunks], col.type.storage_type)
    if pa.types.is_floating(col.type):
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
    if pa.types.is_null(col.type):
        return np.zeros(table.num_rows, dtype=np.int64), [NULL_GROUP]
    encoded = pc.dictionary_encode(col, null_encoding="encode").combine_chunks()
    names = [group_name(v) for v in encoded.dictionary.to_pylist()]
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), names


def group_values(table: pa.Table, by: str) -> np.ndarray:
    """The ``by`` group of every row as an object array, null and NaN as ``NULL_GROUP`` (as :func:`group_codes` names them)."""
    codes, names = group_codes(table, QuotaConfig(0.0, by=by))
    values = np.empty(len(names), dtype=object)
    values[:] = names
    return values[codes]
