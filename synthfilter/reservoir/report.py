"""Reports of :meth:`Reservoir.add <synthfilter.reservoir.Reservoir.add>` and
:meth:`Reservoir.verify <synthfilter.reservoir.Reservoir.verify>`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..reports import Report

__all__ = ["RowRef", "RowChange", "ReservoirAddReport", "ReservoirVerifyReport"]

_SHOWN = 10  # items of each kind listed by summary_lines


class RowRef(NamedTuple):
    """A row by position: ``shard`` (relative file name), ``row`` (0-based) and the SHA-256 of its text."""

    shard: str
    row: int
    sha256: str


class RowChange(NamedTuple):
    """A row whose text changed: the SHA-256 the manifest records and the one its text has now."""

    shard: str
    row: int
    expected: str
    found: str


@dataclass
class ReservoirAddReport(Report):
    """What one :meth:`~synthfilter.reservoir.Reservoir.add` stored and skipped.

    ``version`` is the reservoir version after the call: a new one when rows were added,
    the unchanged current one when every row was already there (nothing is written then).
    """

    path: str
    version: int
    rows_in: int
    rows_added: int
    rows_skipped_existing: int
    rows_skipped_repeated: int
    rows_total: int
    fingerprint: str
    shards: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "version": self.version, "rows_in": self.rows_in, "rows_added": self.rows_added,
                "rows_skipped_existing": self.rows_skipped_existing,
                "rows_skipped_repeated": self.rows_skipped_repeated, "rows_total": self.rows_total,
                "fingerprint": self.fingerprint, "shards": list(self.shards)}

    def summary_lines(self) -> list[str]:
        skipped = (f"skipped {self.rows_skipped_existing} already in the reservoir and "
                   f"{self.rows_skipped_repeated} repeated in the input")
        if not self.rows_added:
            head = f"reservoir {self.path}: nothing new among {self.rows_in} rows ({skipped}); still version {self.version}"
        else:
            head = f"reservoir {self.path}: version {self.version} adds {self.rows_added} of {self.rows_in} rows ({skipped})"
        return [head, f"{self.rows_total} rows in all, fingerprint {self.fingerprint}"]


@dataclass
class ReservoirVerifyReport(Report):
    """The result of checking a reservoir's files against its manifest.

    Fields (each list empty when all is well):

    * ``manifest_problems``: the manifest is missing, unreadable or inconsistent
      (totals, fingerprint), or its fingerprint differs from the one asked for;
    * ``missing_shards`` / ``extra_files``: listed shard files that are gone, and files
      in the folder the manifest does not list (hidden names, starting with ``.``, are
      not counted: the lock and temporary files of a write in progress);
    * ``checksum_mismatches``: shard files whose bytes differ from the recorded SHA-256;
    * ``unreadable_shards``: shard files that are not readable Parquet with a ``text`` column;
    * ``changed``: rows (:class:`RowChange`) whose text no longer has the recorded SHA-256;
    * ``added`` / ``removed``: rows (:class:`RowRef`) present but not recorded, or recorded
      but gone (rows of a missing shard included; an extra shard's rows are ``added``);
    * ``metadata_mismatches``: the ``sha256``, ``source``, ``licence``, ``collected`` or
      ``version`` columns disagree with the text or with the manifest.

    ``ok`` is true when every list is empty.
    """

    path: str
    version: int | None = None
    rows: int | None = None
    fingerprint: str | None = None
    manifest_problems: list[str] = field(default_factory=list)
    missing_shards: list[str] = field(default_factory=list)
    extra_files: list[str] = field(default_factory=list)
    checksum_mismatches: list[str] = field(default_factory=list)
    unreadable_shards: list[str] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    added: list[RowRef] = field(default_factory=list)
    removed: list[RowRef] = field(default_factory=list)
    metadata_mismatches: list[str] = field(default_factory=list)

    _LISTS = ("manifest_problems", "missing_shards", "extra_files", "checksum_mismatches", "unreadable_shards",
              "changed", "added", "removed", "metadata_mismatches")

    @property
    def ok(self) -> bool:
        """True when the files are exactly as the manifest records them."""
        return not any(getattr(self, name) for name in self._LISTS)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "ok": self.ok, "version": self.version, "rows": self.rows,
                               "fingerprint": self.fingerprint}
        for name in self._LISTS:
            out[name] = [item._asdict() if isinstance(item, tuple) else item for item in getattr(self, name)]
        return out

    def summary_lines(self) -> list[str]:
        if self.ok:
            return [f"reservoir {self.path}: OK: version {self.version}, {self.rows} rows, "
                    f"fingerprint {self.fingerprint}"]
        counts = ", ".join(f"{len(getattr(self, name))} {name.replace('_', ' ')}" for name in self._LISTS
                           if getattr(self, name))
        lines = [f"reservoir {self.path}: FAILED verification ({counts})"]
        for name in self._LISTS:
            items = getattr(self, name)
            for item in items[:_SHOWN]:
                lines.append(f"  {name.replace('_', ' ')}: {_describe(item)}")
            if len(items) > _SHOWN:
                lines.append(f"  ... and {len(items) - _SHOWN} more {name.replace('_', ' ')}")
        return lines


def _describe(item: Any) -> str:
    if isinstance(item, RowChange):
        return f"{item.shard} row {item.row}: text sha256 {item.found[:12]}..., recorded {item.expected[:12]}..."
    if isinstance(item, RowRef):
        return f"{item.shard} row {item.row}: sha256 {item.sha256[:12]}..."
    return str(item)
