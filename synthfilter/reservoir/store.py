"""``Reservoir``: a versioned, verifiable store of known-human text (Parquet shards + a JSON manifest)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .._version import __version__
from ..hashing import hash_keys
from ..io import RunLock, atomic_path, atomic_write_text
from .inputs import Data, checked_label, collected_date, input_texts, is_int, text_hashes
from .manifest import (MANIFEST_NAME, SCHEMA, SHARDS_DIR, content_fingerprint, empty_manifest, is_reservoir,
                       read_manifest, shard_name, text_sha256)
from .report import ReservoirAddReport, ReservoirVerifyReport
from .verify import verify_reservoir

__all__ = ["Reservoir", "open_reservoir", "is_reservoir"]

DEFAULT_SHARD_ROWS = 100_000


def _empty_table() -> pa.Table:
    return SCHEMA.empty_table()


class Reservoir:
    """A versioned store of known-human text in the folder ``path``.

    Parameters
    ----------
    path:
        The reservoir folder: ``manifest.json`` and ``shards/*.parquet``. It may not exist
        yet: the reservoir is then empty (version 0) and the folder is created by the
        first :meth:`add`. A file, or a non-empty folder without ``manifest.json``, is
        refused with ``ValueError``.
    shard_rows:
        Most rows per Parquet shard written by :meth:`add` (default 100,000).

    Every :meth:`add` that stores at least one new text makes a new version; shards are
    never rewritten, so any earlier version can be read back (:meth:`dataset` with
    ``version=``). Reads go through the manifest, which is replaced atomically, so a reader
    sees one version or the next, never a half-written one; every shard read is checked
    against its recorded SHA-256. :meth:`verify` checks everything, row by row.
    """

    def __init__(self, path: str | os.PathLike, *, shard_rows: int = DEFAULT_SHARD_ROWS) -> None:
        if not is_int(shard_rows) or shard_rows < 1:
            raise ValueError(f"shard_rows must be an integer >= 1, got {shard_rows!r}")
        self.path = Path(path)
        self.shard_rows = int(shard_rows)
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None
        self._refuse_foreign()

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, path: str | os.PathLike, *, shard_rows: int = DEFAULT_SHARD_ROWS) -> Reservoir:
        """Create an empty reservoir (version 0) at ``path`` and return it; ``ValueError`` when
        ``path`` already is a reservoir or a non-empty folder."""
        res = cls(path, shard_rows=shard_rows)
        with RunLock(res.path):
            if res.manifest_path.exists():
                raise ValueError(f"{path} already is a reservoir; open it with Reservoir({str(path)!r})")
            (res.path / SHARDS_DIR).mkdir(exist_ok=True)
            atomic_write_text(res.manifest_path, json.dumps(empty_manifest(__version__), indent=2) + "\n")
        return res

    def _refuse_foreign(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path}: is a file; a reservoir is a folder")
        if self.path.is_dir() and not self.manifest_path.exists():
            held = [n for n in os.listdir(self.path) if not n.startswith(".") and n != SHARDS_DIR]
            shards = self.path / SHARDS_DIR
            if held or (shards.is_dir() and any(not n.startswith(".") for n in os.listdir(shards))):
                raise ValueError(f"{self.path}: holds files but no {MANIFEST_NAME}: not a reservoir (or its manifest "
                                 f"was removed: see `synthfilter reservoir verify`); choose an empty or new folder")

    @property
    def manifest_path(self) -> Path:
        """``path/manifest.json``."""
        return self.path / MANIFEST_NAME

    def exists(self) -> bool:
        """True when the folder holds a manifest (something was created or added)."""
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        """A copy of the current manifest (see :mod:`synthfilter.reservoir.manifest` for its keys)."""
        return copy.deepcopy(self._manifest())

    def _manifest(self) -> dict[str, Any]:
        """The manifest as on disk now (cached while the file is unchanged); an empty one before the first add."""
        try:
            st = os.stat(self.manifest_path)
        except FileNotFoundError:
            self._refuse_foreign()
            self._cache = None
            return empty_manifest(__version__)
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, read_manifest(self.manifest_path))
        return self._cache[1]

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return self._manifest()["rows"]

    def __contains__(self, text: object) -> bool:
        """``text in reservoir``: whether this exact text is stored."""
        if not isinstance(text, str):
            return False
        h = text_sha256(text)
        return any(h in shard["row_sha256"] for shard in self._manifest()["shards"])

    def __repr__(self) -> str:
        m = self._manifest()
        return f"Reservoir({str(self.path)!r}, version={m['version']}, rows={m['rows']})"

    @property
    def version(self) -> int:
        """The current version: the number of adds that stored new rows (0 when empty)."""
        return self._manifest()["version"]

    @property
    def fingerprint(self) -> str:
        """Hex SHA-256 over the sorted row hashes: identifies the content whatever its order or versions."""
        return self._manifest()["fingerprint"]

    def versions(self) -> list[dict[str, Any]]:
        """One dict per version: ``version``, ``created`` (UTC), ``rows_added``, ``rows_skipped_existing``,
        ``rows_skipped_repeated``, ``source``, ``licence``, ``collected``, ``note``, ``input``,
        ``fingerprint`` (of the content as of that version) and ``shards``."""
        return copy.deepcopy(self._manifest()["versions"])

    def sources(self, version: int | None = None) -> dict[str, int]:
        """Rows per source, as of ``version`` (default: the current one)."""
        return self._count("source", version)

    def licences(self, version: int | None = None) -> dict[str, int]:
        """Rows per licence, as of ``version`` (default: the current one)."""
        return self._count("licence", version)

    def _count(self, key: str, version: int | None) -> dict[str, int]:
        m = self._manifest()
        upto = self._check_version(version, m)
        counts: Counter[str] = Counter()
        for entry in m["versions"]:
            if entry["version"] <= upto:
                counts[entry[key]] += entry["rows_added"]
        return dict(sorted(counts.items()))

    def info(self) -> dict[str, Any]:
        """``path``, ``version``, ``rows``, ``fingerprint``, rows per ``sources`` and ``licences``, and
        ``versions`` (each without its shard list): what ``synthfilter reservoir list`` prints."""
        m = self._manifest()
        return {"path": str(self.path), "version": m["version"], "rows": m["rows"], "fingerprint": m["fingerprint"],
                "sources": self.sources(), "licences": self.licences(),
                "versions": [{k: v for k, v in entry.items() if k != "shards"} for entry in m["versions"]]}

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _check_version(version: int | None, m: dict[str, Any]) -> int:
        if version is None:
            return m["version"]
        if not is_int(version) or not 0 <= version <= m["version"]:
            raise ValueError(f"version must be an integer from 0 to {m['version']} (the current version), "
                             f"got {version!r}")
        return int(version)

    def _shards(self, version: int | None, source: str | None) -> list[dict[str, Any]]:
        """The manifest's shards as of ``version``, of ``source`` only when given, in reservoir order."""
        m = self._manifest()
        upto = self._check_version(version, m)
        sources = {entry["version"]: entry["source"] for entry in m["versions"]}
        if source is not None:
            known = sorted({s for v, s in sources.items() if v <= upto})
            if source not in known:
                raise ValueError(f"source {source!r} is not in the reservoir{'' if version is None else f' as of version {upto}'}; "
                                 f"its sources are {known}")
        return [shard for shard in m["shards"]
                if shard["version"] <= upto and (source is None or sources.get(shard["version"]) == source)]

    def _read_shard(self, shard: dict[str, Any]) -> pa.Table:
        """One shard's rows, after checking its bytes against the manifest's SHA-256."""
        path = self.path / shard["file"]
        hint = f"run `synthfilter reservoir verify {self.path}`"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"reservoir shard {path} is missing; {hint}") from None
        if hashlib.sha256(data).hexdigest() != shard["sha256"]:
            raise ValueError(f"reservoir shard {path} changed since it was written (its SHA-256 differs from the "
                             f"manifest's); {hint}")
        return pq.read_table(pa.BufferReader(data)).select(SCHEMA.names).cast(SCHEMA)

    @staticmethod
    def _to_dataset(table: pa.Table) -> datasets.Dataset:
        return datasets.Dataset(table.cast(pa.schema([f.with_nullable(True) for f in SCHEMA])))

    def dataset(self, version: int | None = None, *, source: str | None = None) -> datasets.Dataset:
        """The rows as a ``datasets.Dataset`` with columns ``text``, ``sha256``, ``source``, ``licence``,
        ``collected``, ``version``, in reservoir order (the order they were added).

        Parameters
        ----------
        version:
            Read the reservoir as it was at this version (0 .. current; default ``None``: current).
        source:
            Only rows of this source (default ``None``: all).
        """
        tables = [self._read_shard(shard) for shard in self._shards(version, source)]
        return self._to_dataset(pa.concat_tables(tables) if tables else _empty_table())

    def texts(self, version: int | None = None, *, source: str | None = None) -> list[str]:
        """The texts, in reservoir order; ``version`` and ``source`` as in :meth:`dataset`. This is
        what to pass as a reference sample or to ``detector.calibrate``."""
        texts: list[str] = []
        for shard in self._shards(version, source):
            texts.extend(self._read_shard(shard).column("text").to_pylist())
        return texts

    def sample(self, n: int, *, seed: int = 0, source: str | None = None,
               version: int | None = None) -> datasets.Dataset:
        """``n`` rows chosen deterministically, returned in reservoir order (columns as in :meth:`dataset`).

        The rows are the ``n`` whose ``hash64(seed, sha256 of the text)`` is smallest (ties,
        practically impossible, by the SHA-256). So the choice depends only on the content
        and ``seed``, not on order, shards or versions, and the sample of ``n`` rows is
        contained in the sample of ``n + k`` for the same seed.

        Parameters
        ----------
        n:
            Rows to return, 0 .. available rows (``ValueError`` naming both when larger).
        seed:
            Integer seed of the hash (default 0).
        source:
            Sample only rows of this source (default ``None``: all).
        version:
            Sample the reservoir as it was at this version (default ``None``: current).
        """
        if not is_int(n) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        if not is_int(seed):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        shards = self._shards(version, source)
        hashes = [h for shard in shards for h in shard["row_sha256"]]
        if n > len(hashes):
            scope = "".join([f" of source {source!r}" if source is not None else "",
                             f" as of version {version}" if version is not None else ""])
            raise ValueError(f"n={n} is more than the {len(hashes)} rows available in the reservoir{scope}")
        if n == 0:
            return self._to_dataset(_empty_table())
        keys = hash_keys(hashes, int(seed))
        chosen = np.sort(np.lexsort((np.array(hashes), keys))[:n])
        parts = []
        start = 0
        for shard in shards:
            stop = start + shard["rows"]
            lo, hi = np.searchsorted(chosen, [start, stop])
            if hi > lo:
                parts.append(self._read_shard(shard).take(pa.array(chosen[lo:hi] - start)))
            start = stop
        return self._to_dataset(pa.concat_tables(parts))

    # ------------------------------------------------------------------ writing
    def add(self, data: Data, *, source: str, licence: str, collected: date | datetime | str | None = None,
            text_column: str = "text", note: str | None = None, return_report: bool = False):
        """Store the texts of ``data`` as a new version; returns that version number.

        Parameters
        ----------
        data:
            A ``datasets.Dataset``, a list of strings, or a path :func:`synthfilter.io.read_dataset`
            reads (a JSON lines, CSV, Parquet or Arrow file, a folder of them, a saved dataset).
            Only the text is stored; other columns are not.
        source:
            Where the texts come from (non-empty string, e.g. ``"wikitext-2-raw-v1"``).
        licence:
            Their licence (non-empty string, e.g. ``"CC BY-SA 3.0"``).
        collected:
            When they were collected or first seen (published): a ``date``, ``datetime`` or ISO
            8601 string; stored as ``YYYY-MM-DD`` (a time zone-aware datetime in UTC). Default
            ``None``: today's date in UTC.
        text_column:
            The column holding the text, for a dataset or a path (default ``"text"``).
        note:
            Optional free text recorded with the version (default ``None``).
        return_report:
            Return ``(version, ReservoirAddReport)`` instead of the version alone (default False).

        Texts are stored exactly as given (no normalisation) and identified by the SHA-256 of
        their UTF-8 bytes. A text already in the reservoir, or repeated within ``data``
        (after its first occurrence), is skipped and counted. When nothing new is left, nothing
        is written and the current version is returned. Null, empty, blank or non-string texts
        raise ``ValueError`` naming the column and the count (nothing is stored): a reservoir
        should not silently drop part of what you meant to store.

        The folder's lock (``.synthfilter.lock``) is held while writing, so a second writer
        fails with :class:`~synthfilter.io.LockedError` instead of corrupting the manifest;
        shards and then the manifest are written atomically.
        """
        source = checked_label(source, "source")
        licence = checked_label(licence, "licence")
        collected_on = collected_date(collected)
        if note is not None and not isinstance(note, str):
            raise ValueError(f"note must be a string or None, got {type(note).__name__}")
        if not isinstance(text_column, str) or not text_column:
            raise ValueError(f"text_column must be a non-empty string, got {text_column!r}")
        texts, what, described = input_texts(data, text_column)
        hashes = text_hashes(texts, what)
        with RunLock(self.path):
            self._refuse_foreign()
            manifest = read_manifest(self.manifest_path) if self.manifest_path.exists() else empty_manifest(__version__)
            existing = {h for shard in manifest["shards"] for h in shard["row_sha256"]}
            seen: set[str] = set()
            keep: list[int] = []
            skipped_existing = 0
            for i, h in enumerate(hashes):
                if h in existing:
                    skipped_existing += 1
                elif h not in seen:
                    seen.add(h)
                    keep.append(i)
            report = ReservoirAddReport(path=str(self.path), version=manifest["version"], rows_in=len(texts),
                                        rows_added=len(keep), rows_skipped_existing=skipped_existing,
                                        rows_skipped_repeated=len(texts) - len(keep) - skipped_existing,
                                        rows_total=manifest["rows"], fingerprint=manifest["fingerprint"])
            if keep:
                self._write_version(manifest, report, [texts[i] for i in keep], [hashes[i] for i in keep],
                                    source=source, licence=licence, collected=collected_on, note=note,
                                    described=described)
        self._cache = None
        return (report.version, report) if return_report else report.version

    def _write_version(self, manifest: dict[str, Any], report: ReservoirAddReport, texts: list[str],
                       hashes: list[str], *, source: str, licence: str, collected: str, note: str | None,
                       described: str) -> None:
        """Write the new rows as shards of a new version, then the manifest (caller holds the lock)."""
        version = manifest["version"] + 1
        shard_dir = self.path / SHARDS_DIR
        shard_dir.mkdir(parents=True, exist_ok=True)
        prefix = Path(shard_name(version, 0)).name.rsplit("-", 1)[0] + "-"
        for leftover in shard_dir.glob(prefix + "*.parquet"):  # of an add of this version that crashed
            leftover.unlink()
        names = []
        for index, start in enumerate(range(0, len(texts), self.shard_rows)):
            chunk_texts, chunk_hashes = texts[start:start + self.shard_rows], hashes[start:start + self.shard_rows]
            rows = len(chunk_texts)
            table = pa.table({"text": chunk_texts, "sha256": chunk_hashes, "source": [source] * rows,
                              "licence": [licence] * rows, "collected": [collected] * rows,
                              "version": [version] * rows}, schema=SCHEMA)
            name = shard_name(version, index)
            with atomic_path(self.path / name) as tmp:
                pq.write_table(table, tmp, compression="zstd")
            data = (self.path / name).read_bytes()
            manifest["shards"].append({"file": name, "version": version, "rows": rows, "bytes": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest(), "row_sha256": chunk_hashes})
            names.append(name)
        all_hashes = [h for shard in manifest["shards"] for h in shard["row_sha256"]]
        fingerprint = content_fingerprint(all_hashes)
        manifest["versions"].append({
            "version": version, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rows_added": len(texts), "rows_skipped_existing": report.rows_skipped_existing,
            "rows_skipped_repeated": report.rows_skipped_repeated, "source": source, "licence": licence,
            "collected": collected, "note": note, "input": described, "fingerprint": fingerprint, "shards": names})
        manifest.update(synthfilter_version=__version__, version=version, rows=len(all_hashes), fingerprint=fingerprint)
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        report.version, report.rows_total, report.fingerprint, report.shards = version, len(all_hashes), fingerprint, names

    # ------------------------------------------------------------------ checking
    def verify(self, *, fingerprint: str | None = None) -> ReservoirVerifyReport:
        """Check every file and every row against the manifest; see
        :func:`~synthfilter.reservoir.verify.verify_reservoir` (``fingerprint``: an expected
        content fingerprint to compare, default ``None``)."""
        return verify_reservoir(self.path, fingerprint=fingerprint)


def open_reservoir(path: str | os.PathLike, *, shard_rows: int = DEFAULT_SHARD_ROWS) -> Reservoir:
    """The existing reservoir at ``path``: ``FileNotFoundError`` when there is none (unlike
    ``Reservoir(path)``, which starts an empty one), ``ValueError`` when its manifest is unreadable."""
    manifest = Path(path) / MANIFEST_NAME
    if not manifest.is_file():
        raise FileNotFoundError(f"no reservoir at {path} (no {MANIFEST_NAME}); create one with "
                                f"`synthfilter reservoir add {path} INPUT --source S --licence L`")
    read_manifest(manifest)
    return Reservoir(path, shard_rows=shard_rows)
