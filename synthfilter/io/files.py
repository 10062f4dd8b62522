"""Which files an input path names, their format and compression, and their fingerprints."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
import re
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO




FORMATS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet",
           ".arrow": "arrow"}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
TEXT_FORMATS = {"json", "csv"}
_EXPECTED = ("a .jsonl/.ndjson/.json, .csv, .parquet or .arrow file (JSON and CSV may be compressed: "
             ".gz, .bz2, .xz, .zst), or a folder of them")
CHECKSUMS_NAME = "_CHECKSUMS.json"
LOCK_NAME = ".synthfilter.lock"
_SAVED_MARKERS = ("state.json", "dataset_info.json")


def sample_path() -> Path:
    """Path of the small sample shipped with the package (hand-written illustrations)."""
    return Path(str(resources.files("synthfilter") / "data" / "sample.jsonl"))


# --------------------------------------------------------------------------- formats
def data_format(path: str | os.PathLike) -> tuple[str, str | None]:
    """``(format, compression)`` of a data file by its name, in any letter case.

    ``format`` is ``"json"``, ``"csv"``, ``"parquet"`` or ``"arrow"``; ``compression`` is
    ``None``, ``"gzip"``, ``"bz2"``, ``"xz"`` or ``"zstd"``. Raises ``ValueError`` for any
    other name (only JSON and CSV may be compressed).
    """
    name = Path(path).name.lower()
    stem, ext = os.path.splitext(name)
    compression = COMPRESSIONS.get(ext)
    if compression is not None:
        stem, ext = os.path.splitext(stem)
    fmt = FORMATS.get(ext)
    if fmt is None or (compression is not None and fmt not in TEXT_FORMATS):
        raise ValueError(f"{path}: not a recognised data file; expected {_EXPECTED}")
    return fmt, compression


def is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def is_saved_folder(path: Path) -> bool:
    return all((path / name).is_file() for name in _SAVED_MARKERS)


def _saved_data_files(folder: Path) -> list[Path]:
    try:
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        return [folder / entry["filename"] for entry in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder}: not a readable saved dataset folder (state.json: {exc})") from exc


def _refuse_dataset_dict(folder: Path) -> None:
    marker = folder / "dataset_dict.json"
    if marker.is_file():
        try:
            splits = json.loads(marker.read_text(encoding="utf-8")).get("splits", [])
        except (OSError, ValueError, AttributeError):
            splits = []
        example = f" e.g. {folder / splits[0]}" if splits else ""
        raise ValueError(f"{folder}: is a saved DatasetDict (splits: {', '.join(map(str, splits)) or '?'}); "
                         f"pass one split's folder,{example}")


_RESERVOIR_FORMAT = "synthfilter-reservoir"
_RESERVOIR_SHARD = re.compile(r"v\d{6}-\d{5}\.parquet")


def _refuse_reservoir(folder: Path) -> None:
    """A reservoir is read through its manifest, every shard checked against it (``synthfilter.Reservoir``);
    read as plain Parquet its shards would go unverified, so a folder that is (or was) one is refused here."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            fmt = None
        if fmt == _RESERVOIR_FORMAT:
            raise ValueError(f"{folder}: is a synthfilter reservoir; it is read through its manifest (every shard "
                             f"checked): pass it where known-human text is expected (--reference, "
                             f"calibrate), or take rows out with `synthfilter reservoir sample {folder} OUT -n N`")
    shards = folder / "shards"
    if shards.is_dir() and any(_RESERVOIR_SHARD.fullmatch(n) for n in _listdir(shards)):
        state = "unreadable" if manifest.is_file() else "missing"
        raise ValueError(f"{folder}: holds reservoir shards (shards/v000001-00000.parquet, ...) but its "
                         f"manifest.json is {state}, so the shards cannot be verified and are not read; run "
                         f"`synthfilter reservoir verify {folder}`, or restore manifest.json")


@dataclass(frozen=True)
class InputUnit:
    """One thing loaded by one ``datasets`` call: a data file or a saved dataset folder."""

    path: Path
    kind: str  # "json" | "csv" | "parquet" | "arrow" | "saved"
    compression: str | None
    files: tuple[Path, ...]


@dataclass
class _Walk:
    """What a walk over an input folder found."""

    units: list[InputUnit] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)  # real path -> the path it was reached by
    files: dict[tuple[int, int], Path] = field(default_factory=dict)  # (device, inode) -> first path


def input_units(path: str | os.PathLike) -> list[InputUnit]:
    return _input_walk(path).units


def _input_walk(path: str | os.PathLike) -> _Walk:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    walk = _Walk()
    if not path.is_dir():
        if not path.is_file():
            raise ValueError(f"{path}: not a regular file or folder")
        fmt, compression = data_format(path)
        walk.units.append(InputUnit(path, fmt, compression, (path,)))
        return walk
    walk.folders[os.path.realpath(path)] = path
    _listdir(path)
    _refuse_dataset_dict(path)
    _refuse_reservoir(path)
    if is_saved_folder(path):
        walk.units.append(InputUnit(path, "saved", None, tuple(_saved_data_files(path))))
        return walk
    _walk(path, walk)
    if walk.unknown:
        unknown = walk.unknown
        shown = ", ".join(str(p) for p in unknown[:10]) + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else "")
        raise ValueError(f"{path}: holds files that are not recognised data files: {shown}; expected {_EXPECTED} "
                         f"(names starting with '.' or '_' are skipped); move or rename them")
    if not walk.units:
        raise ValueError(f"{path}: folder holds no data files; expected {_EXPECTED}")
    return walk


def _listdir(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError as exc:
        raise ValueError(f"{folder}: cannot list this input folder: {exc.strerror or exc}") from exc


def _walk(folder: Path, walk: _Walk) -> None:
    """Depth first, names sorted: the order of relative paths compared folder by folder. A folder or a file
    reached twice (through a symlink, or a hard link) is read once, where it comes first, with a warning."""
    for name in _listdir(folder):
        if is_hidden(name):
            continue
        entry = folder / name
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            raise ValueError(f"{entry}: cannot read this input entry: {exc.strerror or exc}") from exc
        if is_dir:
            real = os.path.realpath(entry)
            if real in walk.folders:  # a symlink loop, or a folder reached twice
                warnings.warn(f"{entry}: the same folder as {walk.folders[real]}; read once", stacklevel=4)
                continue
            walk.folders[real] = entry
            _listdir(entry)  # an unreadable folder is named before anything is looked up in it
            _refuse_dataset_dict(entry)
            _refuse_reservoir(entry)
            if is_saved_folder(entry):
                walk.units.append(InputUnit(entry, "saved", None, tuple(_saved_data_files(entry))))
            else:
                _walk(entry, walk)
        elif is_file:
            try:
                fmt, compression = data_format(entry)
            except ValueError:
                walk.unknown.append(entry)
                continue
            st = entry.stat()
            first = walk.files.setdefault((st.st_dev, st.st_ino), entry)
            if first != entry:
                warnings.warn(f"{entry}: the same file as {first} (a symlink or a hard link); read once",
                              stacklevel=4)
                continue
            walk.units.append(InputUnit(entry, fmt, compression, (entry,)))
        else:  # broken symlink, socket, fifo
            walk.unknown.append(entry)


def input_tree(path: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """The real paths (symlinks resolved) of every data file ``path`` names and of every folder its walk
    visits (a folder reached through a symlink included): what an output must neither be, lie in, nor hold.
    A missing ``path`` gives nothing (it is reported where it is read)."""
    if not os.path.lexists(path):
        return [], []
    real = Path(os.path.realpath(path))
    try:
        walk = _input_walk(path)
    except (ValueError, OSError):  # unreadable input: the input path itself still counts
        return ([] if real.is_dir() else [real]), ([real] if real.is_dir() else [])
    files = [Path(os.path.realpath(f)) for unit in walk.units for f in unit.files]
    folders = [Path(r) for r in walk.folders] + [Path(os.path.realpath(u.path)) for u in walk.units
                                                 if u.kind == "saved"]
    return files, folders


def input_files(path: str | os.PathLike) -> list[Path]:
    """The data files ``path`` names, in read order: the file itself, every data file
    under a folder (recursively, sorted by relative path), or a saved dataset's
    ``.arrow`` files. Raises like :func:`read_dataset` for unknown files."""
    return [file for unit in input_units(path) for file in unit.files]


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_fingerprints(path: str | os.PathLike) -> list[dict[str, Any]]:
    """``[{"path", "bytes", "sha256"}]`` of every input file, in read order (for manifests)."""
    return [{"path": str(file), "bytes": file.stat().st_size, "sha256": sha256_file(file)}
            for file in input_files(path)]


# --------------------------------------------------------------------------- reading
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


def need_zstandard(path: Path) -> Any:
    try:
        import zstandard
    except ImportError:
        raise ValueError(f"{path}: reading or writing .zst files needs the 'zstandard' package "
                         "(pip install zstandard)") from None
    return zstandard


def open_decompressed(path: Path) -> BinaryIO:
    """The file's bytes, decompressed the way ``datasets`` does it: by magic number."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), None)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if kind == "zstd":
        zstandard = need_zstandard(path)
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")
