"""The reservoir's ``manifest.json``: its layout, fingerprints, and checks on reading it.

Layout (``format_version`` 1)::

    {
      "format": "synthfilter-reservoir",
      "format_version": 1,
      "synthfilter_version": "...",   # the synthfilter that wrote this manifest
      "version": 2,                   # current reservoir version (0: nothing added yet)
      "rows": 1234,                   # rows in all shards
      "fingerprint": "<sha256>",      # identifies the content, see content_fingerprint
      "versions": [                   # one entry per add that stored at least one row
        {"version": 1, "created": "2024-05-01T12:00:00+00:00", "rows_added": 1000,
         "rows_skipped_existing": 0, "rows_skipped_repeated": 3, "source": "wikitext-2",
         "licence": "CC BY-SA 3.0", "collected": "2016-09-26", "note": null,
         "input": "wiki.jsonl", "fingerprint": "<sha256 as of this version>",
         "shards": ["shards/v000001-00000.parquet"]},
        ...
      ],
      "shards": [                     # in reservoir order
        {"file": "shards/v000001-00000.parquet", "version": 1, "rows": 1000, "bytes": 81234,
         "sha256": "<sha256 of the file>", "row_sha256": ["<sha256 of row 0's text>", ...]},
        ...
      ]
    }
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa

__all__ = ["is_reservoir", "FORMAT", "FORMAT_VERSION", "MANIFEST_NAME", "SHARDS_DIR", "SCHEMA", "text_sha256",
           "content_fingerprint", "empty_manifest", "read_manifest", "manifest_problems", "shard_name"]

FORMAT = "synthfilter-reservoir"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARDS_DIR = "shards"

#: Columns of every shard, in this order.
SCHEMA = pa.schema([
    pa.field("text", pa.string(), nullable=False),
    pa.field("sha256", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("licence", pa.string(), nullable=False),
    pa.field("collected", pa.string(), nullable=False),
    pa.field("version", pa.int64(), nullable=False),
])


def text_sha256(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8 (the text exactly as stored: no normalisation)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_fingerprint(row_hashes: Iterable[str]) -> str:
    """Hex SHA-256 over the sorted row hashes, each followed by a newline.

    It depends only on which texts the reservoir holds, not on their order, shards or
    versions; an empty reservoir has the SHA-256 of no bytes.
    """
    digest = hashlib.sha256()
    for h in sorted(row_hashes):
        digest.update(h.encode("ascii") + b"\n")
    return digest.hexdigest()


def shard_name(version: int, index: int) -> str:
    """Relative path of the ``index``-th shard written by ``version``: ``shards/v000001-00000.parquet``."""
    return f"{SHARDS_DIR}/v{version:06d}-{index:05d}.parquet"


def empty_manifest(synthfilter_version: str) -> dict[str, Any]:
    """The manifest of a reservoir nothing was added to yet (version 0)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "synthfilter_version": synthfilter_version,
            "version": 0, "rows": 0, "fingerprint": content_fingerprint([]), "versions": [], "shards": []}


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Parse ``path`` (a ``manifest.json``) and check its structure.

    Raises ``FileNotFoundError`` when it is missing and ``ValueError`` naming the file
    when it is not JSON, not a reservoir manifest, of a newer format, or malformed
    (a key missing or of the wrong type). Consistency (totals, fingerprint) is checked
    by :func:`manifest_problems`, not here.
    """
    path = Path(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable reservoir manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: not a synthfilter reservoir manifest (expected \"format\": \"{FORMAT}\")")
    fmt = manifest.get("format_version")
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise ValueError(f"{path}: reservoir format_version {fmt!r} is not supported by this synthfilter "
                         f"(it reads format_version <= {FORMAT_VERSION}); upgrade synthfilter")
    _check_types(manifest, path)
    return manifest


def _check_types(manifest: dict[str, Any], path: Path) -> None:
    def bad(what: str) -> ValueError:
        return ValueError(f"{path}: malformed reservoir manifest: {what}")

    for key, kind in (("version", int), ("rows", int), ("fingerprint", str), ("versions", list), ("shards", list)):
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise bad(f"{key!r} missing or not {kind.__name__}")
    for i, entry in enumerate(manifest["versions"]):
        if not isinstance(entry, dict):
            raise bad(f"versions[{i}] is not an object")
        for key, kind in (("version", int), ("rows_added", int), ("source", str), ("licence", str),
                          ("collected", str), ("shards", list)):
            if not isinstance(entry.get(key), kind):
                raise bad(f"versions[{i}].{key} missing or not {kind.__name__}")
    for i, shard in enumerate(manifest["shards"]):
        if not isinstance(shard, dict):
            raise bad(f"shards[{i}] is not an object")
        for key, kind in (("file", str), ("version", int), ("rows", int), ("sha256", str), ("row_sha256", list)):
            if not isinstance(shard.get(key), kind):
                raise bad(f"shards[{i}].{key} missing or not {kind.__name__}")
        if not all(isinstance(h, str) for h in shard["row_sha256"]):
            raise bad(f"shards[{i}].row_sha256 holds a value that is not a string")
        name = shard["file"]
        if not name.startswith(SHARDS_DIR + "/") or ".." in Path(name).parts or "\\" in name:
            raise bad(f"shards[{i}].file {name!r} is not a path under {SHARDS_DIR}/")


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Inconsistencies inside a manifest (empty when consistent): totals that do not add up,
    a fingerprint that does not match the row hashes, a text stored twice, a shard listed
    twice or belonging to no version."""
    problems = []
    shards = manifest["shards"]
    all_hashes = [h for shard in shards for h in shard["row_sha256"]]
    for shard in shards:
        if shard["rows"] != len(shard["row_sha256"]):
            problems.append(f"shard {shard['file']}: 'rows' is {shard['rows']} but it lists "
                            f"{len(shard['row_sha256'])} row hashes")
    if manifest["rows"] != len(all_hashes):
        problems.append(f"'rows' is {manifest['rows']} but the shards list {len(all_hashes)} row hashes")
    if manifest["fingerprint"] != content_fingerprint(all_hashes):
        problems.append("'fingerprint' does not match the row hashes the shards list")
    repeated = len(all_hashes) - len(set(all_hashes))
    if repeated:
        problems.append(f"{repeated} row hash(es) are listed more than once (a text stored twice)")
    names = [shard["file"] for shard in shards]
    if len(set(names)) != len(names):
        problems.append("a shard file is listed more than once")
    versions = {entry["version"]: entry for entry in manifest["versions"]}
    if len(versions) != len(manifest["versions"]):
        problems.append("a version is listed more than once")
    latest = max(versions, default=0)
    if manifest["version"] < latest:
        problems.append(f"'version' is {manifest['version']} but version {latest} is listed")
    for shard in shards:
        entry = versions.get(shard["version"])
        if entry is None:
            problems.append(f"shard {shard['file']}: its version {shard['version']} is not listed in 'versions'")
        elif shard["file"] not in entry["shards"]:
            problems.append(f"shard {shard['file']}: not listed among version {shard['version']}'s shards")
    for number, entry in sorted(versions.items()):
        rows = sum(shard["rows"] for shard in shards if shard["version"] == number)
        if rows != entry["rows_added"]:
            problems.append(f"version {number}: 'rows_added' is {entry['rows_added']} but its shards hold {rows} rows")
        missing = [name for name in entry["shards"] if name not in names]
        if missing:
            problems.append(f"version {number}: lists shard(s) not in 'shards': {', '.join(missing)}")
    return problems


def is_reservoir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder holding a readable reservoir ``manifest.json``."""
    try:
        read_manifest(Path(path) / MANIFEST_NAME)
    except (OSError, ValueError):
        return False
    return True
