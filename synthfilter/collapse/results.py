"""The result rows of a collapse run: ``RUN_DIR/results.jsonl``, one row per (policy, seed, generation)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

__all__ = ["ROW_KEY", "load_results", "dedupe_rows"]

#: the columns that identify a result row: one row per (policy, seed, generation)
ROW_KEY = ("policy", "seed", "generation")


def _row_key(row: dict[str, Any]) -> tuple[str, int, int]:
    return tuple(row[k] for k in ROW_KEY)  # type: ignore[return-value]


def _is_row(row: Any) -> bool:
    return (isinstance(row, dict) and isinstance(row.get("policy"), str)
            and all(isinstance(row.get(k), int) and not isinstance(row.get(k), bool) for k in ("seed", "generation")))


def dedupe_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with each (policy, seed, generation) once: the first row of each key, in order.

    Cells are deterministic, so repeated rows (from an earlier interrupted or overlapping
    run) are copies; keeping one makes every seed count once in medians and quantiles.
    """
    seen: set[tuple[str, int, int]] = set()
    out = []
    for row in rows:
        key = _row_key(row)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def load_results(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of ``RUN_DIR/results.jsonl``, each (policy, seed, generation) once.

    Lines that are not a complete result row (a truncated last line from a killed run)
    are ignored; a row repeated later in the file is dropped (see :func:`dedupe_rows`).
    """
    path = Path(run_dir) / "results.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if _is_row(row):
                rows.append(row)
    return dedupe_rows(rows)
