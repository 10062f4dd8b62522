"""Checksums of a step folder's files, so a changed, truncated, added or removed file is detected."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable


from .files import CHECKSUMS_NAME, is_hidden, sha256_file
from .write import real_path, atomic_write_text



# --------------------------------------------------------------------------- checksums
def _listed_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the non-hidden files under ``folder`` (hidden names skipped)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        for name in sorted(files):
            if not is_hidden(name):
                out.append((Path(root) / name).relative_to(folder).as_posix())
    return out


def write_checksums(folder: str | os.PathLike, files: Iterable[str | os.PathLike] | None = None) -> Path:
    """Record size and SHA-256 of ``files`` (paths inside ``folder``, relative or absolute;
    default: every file under it whose name does not start with '.' or '_') in
    ``folder/_CHECKSUMS.json``, written atomically. Returns that path."""
    folder = Path(folder)
    if files is None:
        rel = _listed_files(folder)
    else:
        rel = []
        base = real_path(folder)
        for f in files:
            full = Path(f) if Path(f).is_absolute() else folder / f
            try:
                rel.append(real_path(full).relative_to(base).as_posix())
            except ValueError:
                raise ValueError(f"{f}: not inside {folder}") from None
    entries = {}
    for name in sorted(set(rel)):
        full = folder / name
        entries[name] = {"bytes": full.stat().st_size, "sha256": sha256_file(full)}
    target = folder / CHECKSUMS_NAME
    atomic_write_text(target, json.dumps({"algorithm": "sha256", "files": entries}, indent=2, sort_keys=True) + "\n")
    return target


def _entries(record: Path) -> dict:
    """The ``files`` object of a ``_CHECKSUMS.json`` (raises what reading or parsing it raises)."""
    entries = json.loads(record.read_text(encoding="utf-8"))["files"]
    if not isinstance(entries, dict):
        raise TypeError("'files' is not an object")
    return entries


def verify_checksums(folder: str | os.PathLike, *, content: bool = True) -> list[str]:
    """Problems with ``folder`` against its ``_CHECKSUMS.json``: a listed file missing,
    truncated or grown (size), changed (SHA-256; skipped with ``content=False``), or a
    file not listed (added; names starting with '.' or '_' are not counted). An empty
    list means the folder is as recorded."""
    folder = Path(folder)
    record = folder / CHECKSUMS_NAME
    try:
        entries = _entries(record)
    except FileNotFoundError:
        return [f"{record}: missing (no checksums recorded)"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{record}: unreadable ({exc})"]
    problems = []
    for name, expected in sorted(entries.items()):
        full = folder / name
        if not full.is_file():
            problems.append(f"{name}: missing")
            continue
        size = full.stat().st_size
        if size != expected.get("bytes"):
            change = "truncated" if size < expected.get("bytes", 0) else "grown"
            problems.append(f"{name}: {change}: {size} bytes, recorded {expected.get('bytes')}")
        elif content and sha256_file(full) != expected.get("sha256"):
            problems.append(f"{name}: changed: sha256 differs from the recorded one")
    for name in _listed_files(folder):
        if name not in entries:
            problems.append(f"{name}: not in {CHECKSUMS_NAME} (added)")
    return problems


def recorded_files(folder: str | os.PathLike, suffix: str | None = None) -> list[Path]:
    """The files ``folder/_CHECKSUMS.json`` lists (with ``suffix`` only, when given), in sorted order:
    what a reader of a finished folder reads, so a file added later, hidden or not, is never read.
    ``ValueError`` naming the folder when the list is missing or unreadable."""
    folder = Path(folder)
    record = folder / CHECKSUMS_NAME
    try:
        entries = _entries(record)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{record}: no readable list of the folder's files ({exc})") from exc
    return [folder / name for name in sorted(entries) if suffix is None or name.endswith(suffix)]
