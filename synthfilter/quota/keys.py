"""What a quota needs of each row: :class:`RowKeys` (group, class, hash, position; score and provenance for
``basis="estimated"``), from an Arrow batch, and as Arrow tables an engine ships between processes."""

from __future__ import annotations

from collections.abc import Iterable
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import REASON, SCORE
from ..hashing import hash_column
from ..provenance import REASON_PREFIX
from .classify import classify, group_codes
from .config import HUMAN, UNKNOWN, QuotaConfig

__all__ = ["RowKeys", "row_keys", "estimated_classes", "keys_table", "keys_from_tables", "own_reference_rows", "BUCKET_BITS"]

#: Bits of the hash histogrammed per stratum in the labels quota's first pass (65,536 buckets).
BUCKET_BITS = 16


@dataclass
class RowKeys:
    """What the quota needs of each row of a batch."""

    groups: np.ndarray
    """Group code per row (an index into ``names``)."""
    names: list
    """Group value per code (``[None]`` without ``by``; ``NULL_GROUP`` for null/NaN)."""
    classes: np.ndarray
    """0 human, 1 synthetic, 2 unknown, per row."""
    hashes: np.ndarray
    """``hash64(seed, row key)`` per row (uint64)."""
    positions: np.ndarray
    """Global position per row (int64): ties between equal hashes go to the earlier row."""
    scores: np.ndarray | None = None
    """Detector score per row for ``basis="estimated"`` (NaN where the row is not scored), else ``None``."""
    known: np.ndarray | None = None
    """For ``basis="estimated"``: whether the row's class is known without the detector (provenance, or a
    label without a score); known-human rows with a score are the corpus's own reference."""

    @property
    def strata(self) -> np.ndarray:
        return self.groups * 3 + self.classes

    def stratum(self, code: int) -> tuple[Any, int]:
        return self.names[int(code) // 3], int(code) % 3

    @property
    def buckets(self) -> np.ndarray:
        return (self.hashes >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)

    @property
    def certify_half(self) -> np.ndarray:
        """Which half of the rows certifies an estimated cut (the other half chooses it): the hash's lowest bit."""
        return (self.hashes & np.uint64(1)).astype(bool)


def row_keys(table: pa.Table, cfg: QuotaConfig, positions: np.ndarray | int = 0) -> RowKeys:
    """:class:`RowKeys` of an Arrow batch; ``positions`` is an array or the first row's global position."""
    if isinstance(positions, (int, np.integer)):
        positions = np.arange(int(positions), int(positions) + table.num_rows, dtype=np.int64)
    groups, names = group_codes(table, cfg)
    scores = known = None
    if cfg.basis == "estimated":
        classes, scores, known = estimated_classes(table, cfg)
    else:
        classes = classify(table, cfg)
    return RowKeys(groups, names, classes, hash_column(table.column(cfg.key_column(table.column_names)), cfg.seed),
                   np.asarray(positions, dtype=np.int64), scores, known)


def estimated_classes(table: pa.Table, cfg: QuotaConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: class (by provenance, else as labelled), score (NaN if none or unknown), and whether the class is known.

    A class is *known* when provenance decided it (``cfg.provenance``'s rules, or an
    ``sf_reason`` of ``provenance:...`` written by a tagger with rules), or when the row is
    labelled human/synthetic without a score. Known rows keep their score: the known-human
    ones are the corpus's own reference.
    """
    if cfg.score_column not in table.column_names:
        raise KeyError(f"score column {cfg.score_column!r} not found (columns present: {table.column_names}); "
                       "basis='estimated' needs detector scores: run ds.map(synthfilter.tag, batched=True) first")
    scores = pc.fill_null(table.column(cfg.score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False).copy()
    known = np.zeros(table.num_rows, dtype=bool)
    if cfg.label_column in table.column_names or cfg.provenance is not None:
        if cfg.label_column in table.column_names:
            classes = classify(table, cfg)
        else:
            classes = np.where(np.isfinite(scores), HUMAN, UNKNOWN).astype(np.int8)
            decision = cfg.provenance.decide(table)
            classes[decision.decided] = decision.classes[decision.decided]
        if cfg.provenance is not None:
            known |= cfg.provenance.decide(table).decided
        if REASON.name in table.column_names:
            reasons = pc.fill_null(pc.starts_with(table.column(REASON.name).cast(pa.string()), REASON_PREFIX), False)
            known |= reasons.to_numpy(zero_copy_only=False) & (classes != UNKNOWN)
        known |= ~np.isfinite(scores) & (classes != UNKNOWN)
    else:
        classes = np.where(np.isfinite(scores), HUMAN, UNKNOWN).astype(np.int8)
    scores[classes == UNKNOWN] = np.nan
    return classes, scores, known


def keys_table(keys: RowKeys) -> pa.Table:
    """A batch's keys as an Arrow table (group values by ``repr``), for an engine to ship to the driver."""
    names = [keys.names[int(c)] for c in keys.groups]
    known = keys.known if keys.known is not None else np.zeros(len(keys.hashes), bool)
    return pa.table({"group": pa.array([repr(n) for n in names], pa.string()),
                     "group_value": pa.array(names) if len(names) else pa.array([], pa.null()),
                     "cls": pa.array(keys.classes, pa.int8()), "score": pa.array(keys.scores, pa.float64()),
                     "known": pa.array(known, pa.bool_()),
                     "hash": pa.array(keys.hashes, pa.uint64()), "row": pa.array(keys.positions, pa.int64())})


def keys_from_tables(tables: Iterable[pa.Table]) -> RowKeys:
    """:func:`keys_table` outputs merged back into one :class:`RowKeys`."""
    tables = [t for t in tables if t.num_rows]
    if not tables:
        z = np.zeros(0, np.int64)
        return RowKeys(z, [None], z.astype(np.int8), z.astype(np.uint64), z, z.astype(np.float64), z.astype(bool))
    reprs = [r for t in tables for r in t.column("group").to_pylist()]
    values = [v for t in tables for v in t.column("group_value").to_pylist()]
    index: dict[str, int] = {}
    names: list = []
    for r, v in zip(reprs, values):
        if r not in index:
            index[r] = len(names)
            names.append(v)
    cat = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    return RowKeys(np.asarray([index[r] for r in reprs], dtype=np.int64), names,
                   cat.column("cls").to_numpy().astype(np.int8), cat.column("hash").to_numpy().astype(np.uint64),
                   cat.column("row").to_numpy().astype(np.int64), cat.column("score").to_numpy(zero_copy_only=False),
                   cat.column("known").to_numpy(zero_copy_only=False).astype(bool))


def own_reference_rows(table: pa.Table, cfg: QuotaConfig) -> int:
    """Rows of a batch that can serve as the corpus's own reference: known human by provenance, and scored."""
    column = cfg.score_column or SCORE.name
    if column not in table.column_names:
        return 0
    probe = cfg if cfg.score_column else dataclasses.replace(cfg, score_column=column)
    classes, scores, known = estimated_classes(table, probe)
    return int((known & (classes == HUMAN) & np.isfinite(scores)).sum())
