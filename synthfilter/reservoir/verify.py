"""Checking a reservoir folder against its manifest: every file, every row's text."""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .manifest import MANIFEST_NAME, SHARDS_DIR, manifest_problems, read_manifest, text_sha256
from .report import ReservoirVerifyReport, RowChange, RowRef

__all__ = ["verify_reservoir"]

_NOT_TEXT = "<null or not a string>"


def _files_on_disk(folder: Path) -> list[str]:
    """Relative POSIX paths of every file under ``folder``; names starting with '.' (the lock,
    temporary files of a write in progress) are skipped, folders so named too."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                out.append((Path(root) / name).relative_to(folder).as_posix())
    return out


def _read_table(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))


def _row_hash(value: Any) -> str:
    if not isinstance(value, str):
        return _NOT_TEXT
    try:
        return text_sha256(value)
    except UnicodeEncodeError:
        return _NOT_TEXT


def _compare_rows(name: str, expected: list[str], found: list[str], report: ReservoirVerifyReport) -> None:
    """Align the recorded and the present row hashes of one shard; record changed, added and removed rows.

    ``row`` is the position in the file for changed and added rows, the recorded position for removed ones.
    """
    if expected == found:
        return
    matcher = difflib.SequenceMatcher(None, expected, found, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            report.changed.append(RowChange(name, j1 + k, expected[i1 + k], found[j1 + k]))
        for i in range(i1 + pairs, i2):
            report.removed.append(RowRef(name, i, expected[i]))
        for j in range(j1 + pairs, j2):
            report.added.append(RowRef(name, j, found[j]))


def _check_metadata(name: str, table: pa.Table, found: list[str], shard: dict[str, Any],
                    entry: dict[str, Any] | None, report: ReservoirVerifyReport) -> None:
    """The ``sha256`` column against the texts, and ``source``/``licence``/``collected``/``version`` against the manifest."""
    wanted: dict[str, Any] = {"version": shard["version"]}
    if entry is not None:
        wanted.update(source=entry["source"], licence=entry["licence"], collected=entry["collected"])
    for column in ("sha256", "source", "licence", "collected", "version"):
        if column not in table.column_names:
            report.metadata_mismatches.append(f"{name}: column {column!r} is missing")
            continue
        values = table.column(column).to_pylist()
        if column == "sha256":
            bad = sum(1 for v, h in zip(values, found) if v != h)
            what = "whose 'sha256' is not the SHA-256 of their text"
        elif column in wanted:
            bad = sum(1 for v in values if v != wanted[column])
            what = f"whose {column!r} is not {wanted[column]!r} as the manifest records"
        else:
            continue
        if bad:
            report.metadata_mismatches.append(f"{name}: {bad} row(s) {what}")


def _check_shard(folder: Path, shard: dict[str, Any], entry: dict[str, Any] | None,
                 report: ReservoirVerifyReport) -> None:
    name = shard["file"]
    path = folder / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.missing_shards.append(name)
        report.removed.extend(RowRef(name, i, h) for i, h in enumerate(shard["row_sha256"]))
        return
    except OSError as exc:
        report.unreadable_shards.append(f"{name}: {exc}")
        return
    if hashlib.sha256(data).hexdigest() != shard["sha256"]:
        report.checksum_mismatches.append(f"{name}: file sha256 differs from the manifest's")
    try:
        table = _read_table(data)
    except Exception as exc:  # any corruption pyarrow finds
        report.unreadable_shards.append(f"{name}: not readable Parquet: {type(exc).__name__}: {exc}")
        return
    if "text" not in table.column_names:
        report.unreadable_shards.append(f"{name}: has no 'text' column (columns: {table.column_names})")
        return
    found = [_row_hash(v) for v in table.column("text").to_pylist()]
    _compare_rows(name, shard["row_sha256"], found, report)
    _check_metadata(name, table, found, shard, entry, report)


def _check_extra(folder: Path, name: str, report: ReservoirVerifyReport) -> None:
    """An unlisted file: an extra file; if it is a readable shard, its rows are added rows."""
    report.extra_files.append(name)
    if not name.startswith(SHARDS_DIR + "/"):
        return
    try:
        table = _read_table((folder / name).read_bytes())
    except Exception:
        return
    if "text" in table.column_names:
        report.added.extend(RowRef(name, i, _row_hash(v)) for i, v in enumerate(table.column("text").to_pylist()))


def verify_reservoir(path: str | os.PathLike, *, fingerprint: str | None = None) -> ReservoirVerifyReport:
    """Check the reservoir at ``path`` against its ``manifest.json``.

    Parameters
    ----------
    path:
        The reservoir folder.
    fingerprint:
        Optional: the content fingerprint you recorded earlier (``Reservoir.fingerprint``);
        a different one in the manifest is a problem. Default ``None``: not compared.

    Every shard file is read; its bytes are compared with the recorded SHA-256, and the
    SHA-256 of every row's text is recomputed and compared with the manifest's per-row list
    (not with the shard's own ``sha256`` column, which a tamperer could rewrite too). Never
    raises for a damaged reservoir: everything found goes into the report.
    """
    folder = Path(path)
    report = ReservoirVerifyReport(path=str(path))
    try:
        manifest = read_manifest(folder / MANIFEST_NAME)
    except FileNotFoundError:
        report.manifest_problems.append(f"{MANIFEST_NAME} is missing" if folder.is_dir()
                                        else f"{path}: no such reservoir folder")
        return report
    except ValueError as exc:
        report.manifest_problems.append(str(exc))
        return report
    report.version, report.rows, report.fingerprint = manifest["version"], manifest["rows"], manifest["fingerprint"]
    report.manifest_problems.extend(manifest_problems(manifest))
    if fingerprint is not None and fingerprint != manifest["fingerprint"]:
        report.manifest_problems.append(f"fingerprint is {manifest['fingerprint']}, expected {fingerprint}")
    versions = {entry["version"]: entry for entry in manifest["versions"]}
    for shard in manifest["shards"]:
        _check_shard(folder, shard, versions.get(shard["version"]), report)
    listed = {MANIFEST_NAME} | {shard["file"] for shard in manifest["shards"]}
    for name in _files_on_disk(folder):
        if name not in listed:
            _check_extra(folder, name, report)
    return report
