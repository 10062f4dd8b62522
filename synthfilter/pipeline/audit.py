"""The audit trail of ``clean``: every input row ends in the output or in ``OUT/dropped/`` with a reason.

Rows are numbered on entry (``sf_row``, their input position); a step that drops rows
also returns them with ``sf_drop_reason``, and the runner writes them beside the step's
output. Rows the tail resampling repeats carry ``sf_copies``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import COPIES, DROP_REASON, LABEL, ROW
from ..quota import QuotaConfig
from ..batches import set_column

__all__ = ["QuotaDropReason", "with_reason", "duplicates_dropped", "not_selected", "with_copies", "reasons_of"]


class QuotaDropReason:
    """Arrow-batch transform: ``sf_drop_reason`` of rows a quota dropped (``unknown`` under
    ``unknown="drop"`` for unscorable rows, else ``quota``)."""

    def __init__(self, cfg: QuotaConfig) -> None:
        self.unknown_dropped = cfg.unknown == "drop"

    def __call__(self, table: pa.Table) -> pa.Table:
        reason = pa.array(["quota"] * table.num_rows, pa.string())
        if self.unknown_dropped and LABEL.name in table.column_names:
            is_unknown = pc.fill_null(pc.equal(table.column(LABEL.name), "unknown"), True)
            reason = pc.if_else(is_unknown, pa.scalar("unknown"), reason)
        return set_column(table, DROP_REASON.name, reason)


def with_reason(ds: datasets.Dataset, reasons: list[str] | str) -> datasets.Dataset:
    """``ds`` with ``sf_drop_reason`` (one reason for every row, or one per row)."""
    values = [reasons] * ds.num_rows if isinstance(reasons, str) else list(reasons)
    return ds.add_column(DROP_REASON.name, values, feature=datasets.Value("string"))


def duplicates_dropped(ds: datasets.Dataset, duplicate_of: np.ndarray) -> datasets.Dataset:
    """The rows near-duplicate removal dropped, each with ``near_duplicate_of:<sf_row of the kept row>``."""
    dropped = np.flatnonzero(duplicate_of >= 0)
    rows = np.asarray(ds[ROW.name], dtype=np.int64)
    return with_reason(ds.select(dropped), [f"near_duplicate_of:{rows[k]}" for k in duplicate_of[dropped]])


def not_selected(before: datasets.Dataset, after: datasets.Dataset, reason: str) -> datasets.Dataset:
    """The rows of ``before`` whose ``sf_row`` is not in ``after``, with ``reason``."""
    kept = np.isin(np.asarray(before[ROW.name], dtype=np.int64), np.asarray(after[ROW.name], dtype=np.int64))
    return with_reason(before.select(np.flatnonzero(~kept)), reason)


def with_copies(ds: datasets.Dataset) -> datasets.Dataset:
    """``ds`` with ``sf_copies``: how many of its rows share each row's ``sf_row``."""
    rows = ds[ROW.name]
    counts = Counter(rows)
    values = [counts[r] for r in rows]
    if COPIES.name in ds.column_names:
        ds = ds.remove_columns(COPIES.name)
    return ds.add_column(COPIES.name, values, feature=datasets.Value("int32"))


def reasons_of(tables: list[pa.Table]) -> dict[str, Any]:
    """Rows per drop reason, ``near_duplicate_of:*`` counted together as ``near_duplicate``."""
    counts: Counter = Counter()
    for t in tables:
        for item in pc.value_counts(t.column(DROP_REASON.name)).to_pylist():
            name = item["values"] or ""
            counts["near_duplicate" if name.startswith("near_duplicate_of:") else name] += item["counts"]
    return dict(sorted(counts.items()))
