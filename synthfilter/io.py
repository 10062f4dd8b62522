"""Reading and writing datasets for the command line and the pipeline.

Reading (:func:`read_dataset`, :func:`input_files`, :func:`input_fingerprints`)
-------------------------------------------------------------------------------
Every file is read through ``datasets``' own loaders (``load_dataset("json" | "csv" |
"parquet" | "arrow")``, ``load_from_disk`` for a ``save_to_disk`` folder). Recognised
data files, by name, in any letter case (``.JSONL``, ``.Parquet``, ``.JSON.GZ``):

* JSON: ``.jsonl``, ``.ndjson``, ``.json`` (JSON lines, or one JSON array of objects);
* CSV: ``.csv``;
* Parquet: ``.parquet``;
* Arrow: ``.arrow`` (stream files as ``datasets`` writes them; IPC files too);
* JSON and CSV compressed as ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` (e.g. ``x.jsonl.gz``).
  ``datasets`` decompresses them (by their magic number); ``.zst`` needs the
  ``zstandard`` package.

A folder is read recursively; files come in order of their relative path (compared
folder by folder: ``a.jsonl`` < ``sub/b.jsonl`` < ``sub/deeper/c.parquet``), rows in
file order. Names starting with ``.`` or ``_`` (``.DS_Store``, ``_SUCCESS``,
``_CHECKSUMS.json``, ``.synthfilter.lock``, temporary files of an unfinished write)
are skipped, folders so named too. Every other file must be a recognised data file:
anything else fails the call with a ``ValueError`` naming it; nothing is skipped
silently. A folder that holds ``state.json`` and ``dataset_info.json`` is a saved
``datasets`` folder and is read with ``load_from_disk`` (at the top or nested); a
saved ``DatasetDict`` is refused (point at one split's folder).

Files of different formats in one folder are read one by one and concatenated. Their
columns must agree: a file with other columns fails the call with a ``ValueError``
naming both files and the differing columns; so does a type conflict (``id`` int in
one file, string in another). Compatible types are widened: a column that is all
null in one file, ``string``/``large_string``, integers of different widths, integers
with floats, and nested structs whose fields differ (missing fields become null).
A file that is not readable data (corrupt Parquet, an invalid JSON line, binary junk)
fails with a ``ValueError`` naming the file (and the line, for JSON).

Empty files: a text file (JSON/CSV, compressed or not) with no bytes, only white space
or a CSV header alone holds zero rows, and so does a Parquet/Arrow file without rows;
such files are skipped (their columns are not compared with the others'). A 0-byte
Parquet or Arrow file is corrupt (``ValueError``). An input whose files hold no rows at
all is refused with a ``ValueError`` ("the input holds no rows").

Writing
-------
:func:`write_dataset` writes to a hidden temporary name in the output's folder
(``.NAME.tmp-<pid>-<random>``) and renames it over ``NAME`` only when complete, so a
crash never leaves a half-written file under the final name (a leftover temporary
file is hidden, hence skipped by the reader). :func:`check_output` refuses an output
that is, is inside, or contains the input. :class:`RunLock` keeps two runs from
writing into one folder; :func:`write_checksums`/:func:`verify_checksums` detect a
changed, truncated, added or removed file in a finished folder.
"""

from __future__ import annotations

import bz2
import contextlib
import glob
import gzip
import hashlib
import json
import lzma
import os
import re
import secrets
import shutil
import socket
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

import datasets
import pyarrow as pa

__all__ = [
    "read_dataset",
    "write_dataset",
    "sample_path",
    "input_files",
    "input_fingerprints",
    "data_format",
    "check_output",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_bytes",
    "RunLock",
    "LockedError",
    "StaleLockWarning",
    "sha256_file",
    "write_checksums",
    "verify_checksums",
    "CHECKSUMS_NAME",
    "LOCK_NAME",
]

FORMATS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet",
           ".arrow": "arrow"}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
_TEXT_FORMATS = {"json", "csv"}
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
    if fmt is None or (compression is not None and fmt not in _TEXT_FORMATS):
        raise ValueError(f"{path}: not a recognised data file; expected {_EXPECTED}")
    return fmt, compression


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _is_saved_folder(path: Path) -> bool:
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


@dataclass(frozen=True)
class _Unit:
    """One thing loaded by one ``datasets`` call: a data file or a saved dataset folder."""

    path: Path
    kind: str  # "json" | "csv" | "parquet" | "arrow" | "saved"
    compression: str | None
    files: tuple[Path, ...]


def _units(path: str | os.PathLike) -> list[_Unit]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if not path.is_dir():
        if not path.is_file():
            raise ValueError(f"{path}: not a regular file or folder")
        fmt, compression = data_format(path)
        return [_Unit(path, fmt, compression, (path,))]
    _refuse_dataset_dict(path)
    if _is_saved_folder(path):
        return [_Unit(path, "saved", None, tuple(_saved_data_files(path)))]
    units: list[_Unit] = []
    unknown: list[Path] = []
    _walk(path, units, unknown, {os.path.realpath(path)})
    if unknown:
        shown = ", ".join(str(p) for p in unknown[:10]) + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else "")
        raise ValueError(f"{path}: holds files that are not recognised data files: {shown}; expected {_EXPECTED} "
                         f"(names starting with '.' or '_' are skipped); move or rename them")
    if not units:
        raise ValueError(f"{path}: folder holds no data files; expected {_EXPECTED}")
    return units


def _walk(folder: Path, units: list[_Unit], unknown: list[Path], seen: set[str]) -> None:
    """Depth first, names sorted: the order of relative paths compared folder by folder."""
    for name in sorted(os.listdir(folder)):
        if _hidden(name):
            continue
        entry = folder / name
        if entry.is_dir():
            real = os.path.realpath(entry)
            if real in seen:  # a symlink loop, or a folder reached twice
                continue
            seen.add(real)
            _refuse_dataset_dict(entry)
            if _is_saved_folder(entry):
                units.append(_Unit(entry, "saved", None, tuple(_saved_data_files(entry))))
            else:
                _walk(entry, units, unknown, seen)
        elif entry.is_file():
            try:
                fmt, compression = data_format(entry)
            except ValueError:
                unknown.append(entry)
                continue
            units.append(_Unit(entry, fmt, compression, (entry,)))
        else:  # broken symlink, socket, fifo
            unknown.append(entry)


def input_files(path: str | os.PathLike) -> list[Path]:
    """The data files ``path`` names, in read order: the file itself, every data file
    under a folder (recursively, sorted by relative path), or a saved dataset's
    ``.arrow`` files. Raises like :func:`read_dataset` for unknown files."""
    return [file for unit in _units(path) for file in unit.files]


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


def _need_zstandard(path: Path) -> Any:
    try:
        import zstandard
    except ImportError:
        raise ValueError(f"{path}: reading or writing .zst files needs the 'zstandard' package "
                         "(pip install zstandard)") from None
    return zstandard


def _open_decompressed(path: Path) -> BinaryIO:
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
        zstandard = _need_zstandard(path)
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def _text_is_empty(unit: _Unit) -> bool:
    """True when a JSON/CSV file holds nothing but white space (after decompression)."""
    if unit.path.stat().st_size == 0:
        return True
    try:
        with _open_decompressed(unit.path) as handle:
            first = True
            while True:
                chunk = handle.read(1 << 16)
                if not chunk:
                    return True
                if first and chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
                first = False
                if chunk.strip():
                    return False
    except ValueError:
        raise
    except Exception as exc:  # corrupt gzip/bz2/xz/zstd stream
        raise ValueError(f"{unit.path}: not readable: {type(exc).__name__}: {exc}") from exc


def _bad_json_line(path: Path) -> str | None:
    """Where a JSON file goes wrong ("line N: ..."), or None when every line parses."""
    try:
        with _open_decompressed(path) as raw:
            data = raw.read()
    except Exception:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip().startswith(b"["):
        try:
            value = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            return f"line {line}: not UTF-8 text"
        except json.JSONDecodeError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        if not isinstance(value, list):
            return "not a JSON array"
        return _LONE_SURROGATE if _has_lone_surrogate(value) else None
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            value = json.loads(raw_line.decode("utf-8"))
        except UnicodeDecodeError:
            return f"line {number}: not UTF-8 text"
        except json.JSONDecodeError as exc:
            return f"line {number}: {exc.msg} (column {exc.colno})"
        if not isinstance(value, dict):
            return f"line {number}: expected a JSON object, got {type(value).__name__}"
        if _has_lone_surrogate(value):
            return f"line {number}: {_LONE_SURROGATE}"
    return None


_LONE_SURROGATE = "a string holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is not Unicode text"


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_records(path: Path) -> Iterator[Any]:
    """The records of a JSON-lines file (or the items of one JSON array), parsed by Python (exact integers)."""
    with _open_decompressed(path) as raw:
        data = raw.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip().startswith(b"["):
        yield from json.loads(data)
        return
    for line in data.split(b"\n"):
        if line.strip():
            yield json.loads(line)


def _json_features(path: Path) -> datasets.Features:
    """Column types of a JSON-lines file inferred from all of it (pyarrow's reader; holds the whole file)."""
    import pyarrow.json as paj

    with _open_decompressed(path) as raw:
        return datasets.Features.from_arrow_schema(paj.read_json(raw).schema)


def _exact_big_ints(unit: _Unit, ds: datasets.Dataset) -> datasets.Dataset:
    """pyarrow's JSON reader reads integers beyond the signed 64-bit range as float64, rounded (2**63 + 5 comes
    back as 2**63): read such a column again exactly, as uint64, or refuse it when no type holds it exactly."""
    import pyarrow.compute as pc

    table = ds.data.table
    suspects = [name for name in table.column_names if pa.types.is_floating(table.schema.field(name).type)
                and pc.any(pc.greater_equal(pc.abs(table.column(name)), 2.0**63)).as_py()]
    if not suspects:
        return ds
    values: dict[str, list[Any]] = {name: [] for name in suspects}
    for record in _json_records(unit.path):
        for name in suspects:
            values[name].append(record.get(name) if isinstance(record, dict) else None)
    for name, column in values.items():
        numbers = [v for v in column if v is not None]
        if not any(type(v) is int and not -(2**63) <= v < 2**63 for v in numbers):
            continue  # floats written as floats (1e19): the reader rounded nothing
        if len(column) != ds.num_rows or not all(type(v) is int and 0 <= v < 2**64 for v in numbers):
            raise ValueError(f"{unit.path}: column {name!r} holds integers beyond the signed 64-bit range together "
                             f"with negative or fractional numbers; no column type holds them exactly (they would be "
                             f"rounded as floats): write them as strings")
        ds = ds.remove_columns(name).add_column(name, pa.array(column, pa.uint64()))
    return ds.select_columns(table.column_names)


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _describe(unit: _Unit) -> str:
    return unit.kind + (f", {unit.compression}" if unit.compression else "")


def _load_unit(unit: _Unit) -> datasets.Dataset | None:
    """Load one file or saved folder; None for a text file that holds nothing."""
    if unit.kind == "saved":
        try:
            loaded = datasets.load_from_disk(str(unit.path))
        except Exception as exc:
            raise ValueError(f"{unit.path}: not a readable saved dataset folder: {exc}") from exc
        if not isinstance(loaded, datasets.Dataset):
            raise ValueError(f"{unit.path}: holds a {type(loaded).__name__}; pass one split's folder")
        return loaded
    if unit.compression == "zstd":
        _need_zstandard(unit.path)
    if unit.kind in _TEXT_FORMATS and _text_is_empty(unit):
        return None
    if unit.kind in ("parquet", "arrow") and unit.path.stat().st_size == 0:
        raise ValueError(f"{unit.path}: not readable as {unit.kind}: the file is empty (0 bytes)")
    files = [glob.escape(str(unit.path.absolute()))]
    try:
        try:
            ds = datasets.load_dataset(unit.kind, data_files=files, split="train")
        except Exception as exc:
            # datasets types JSON columns by the first 10 MB of a file: a column null all through them is typed
            # null and its later values fail to cast ("cast array of type bool to null"): type them by all of it
            if unit.kind != "json" or not re.search(r"cast array of type .* to null", str(_root_cause(exc))):
                raise
            ds = datasets.load_dataset("json", data_files=files, features=_json_features(unit.path), split="train")
    except Exception as exc:
        if "corresponds to no data" in str(exc):
            return None  # zero rows: a CSV header alone, a Parquet/Arrow file without rows
        where = _bad_json_line(unit.path) if unit.kind == "json" else None
        cause = _root_cause(exc)
        detail = where or f"{type(cause).__name__}: {cause}"
        raise ValueError(f"{unit.path}: not readable as {_describe(unit)}: {detail}") from exc
    return _exact_big_ints(unit, ds) if unit.kind == "json" else ds


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    was_disabled = datasets.are_progress_bars_disabled()
    if not enabled and not was_disabled:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not enabled and not was_disabled:
            datasets.enable_progress_bars()


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _is_binary(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t)


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _merge_type(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The type both ``a`` and ``b`` widen to, or None when they conflict."""
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if _is_string(a) and _is_string(b):
        return pa.string()
    if _is_binary(a) and _is_binary(b):
        return pa.binary()
    if _is_number(a) and _is_number(b):
        try:
            return pa.unify_schemas([pa.schema([("x", a)]), pa.schema([("x", b)])],
                                    promote_options="permissive").field("x").type
        except (pa.ArrowInvalid, pa.ArrowTypeError, NotImplementedError):
            return None
    if _is_list(a) and _is_list(b):
        value = _merge_type(a.value_type, b.value_type)
        if value is None:
            return None
        return pa.large_list(value) if pa.types.is_large_list(a) and pa.types.is_large_list(b) else pa.list_(value)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields_a = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
        fields_b = {b.field(i).name: b.field(i).type for i in range(b.num_fields)}
        merged = []
        for name in list(fields_a) + [n for n in fields_b if n not in fields_a]:
            if name in fields_a and name in fields_b:
                t = _merge_type(fields_a[name], fields_b[name])
                if t is None:
                    return None
            else:
                t = fields_a.get(name, fields_b.get(name))
            merged.append(pa.field(name, t))
        return pa.struct(merged)
    return None


def _columns(names: Iterable[str]) -> str:
    return "[" + ", ".join(names) + "]"


def _combine(parts: list[tuple[_Unit, datasets.Dataset]]) -> datasets.Dataset:
    """Concatenate per-file datasets in order once their columns and types agree."""
    ref_unit, ref = parts[0]
    if len(parts) == 1:
        return ref
    ref_cols = ref.column_names
    problems = []
    for unit, ds in parts[1:]:
        cols = ds.column_names
        if set(cols) != set(ref_cols):
            diff = [f"missing {c!r}" for c in ref_cols if c not in cols] + [f"extra {c!r}" for c in cols
                                                                           if c not in ref_cols]
            problems.append(f"{ref_unit.path} has columns {_columns(ref_cols)}; {unit.path} has "
                            f"{_columns(cols)}: {', '.join(diff)}")
    if problems:
        more = f"\n  (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValueError("input files have different columns:\n  " + "\n  ".join(problems[:5]) + more)

    target: dict[str, Any] = {}
    conflicts = []
    for col in ref_cols:
        features = [ds.features[col] for _, ds in parts]
        if all(f == features[0] for f in features):
            target[col] = features[0]
            continue
        merged = ref.features.arrow_schema.field(col).type
        origin = ref_unit.path
        for unit, ds in parts[1:]:
            own = ds.features.arrow_schema.field(col).type
            both = _merge_type(merged, own)
            if both is None:
                conflicts.append(f"column {col!r} is {merged} in {origin} but {own} in {unit.path}")
                break
            if both != merged:
                merged, origin = both, unit.path
        target[col] = datasets.Features.from_arrow_schema(pa.schema([pa.field(col, merged)]))[col]
    if conflicts:
        raise ValueError("input files have conflicting column types:\n  " + "\n  ".join(conflicts))

    features = datasets.Features(target)
    aligned = []
    for unit, ds in parts:
        if ds.column_names != ref_cols:
            ds = ds.select_columns(ref_cols)
        if ds.features != features:
            try:
                ds = ds.cast(features)
            except Exception as exc:
                raise ValueError(f"{unit.path}: cannot convert its columns to the types of the other input "
                                 f"files ({features}): {exc}") from exc
        aligned.append(ds)
    try:
        return datasets.concatenate_datasets(aligned)
    except Exception as exc:
        names = ", ".join(str(u.path) for u, _ in parts)
        raise ValueError(f"cannot concatenate the input files ({names}): {exc}") from exc


def read_dataset(path: str | os.PathLike) -> datasets.Dataset:
    """Load ``path`` (a data file, a folder of them read recursively, or a saved ``datasets``
    folder) as one ``datasets.Dataset``: files in sorted path order, rows in file order.

    See the module docstring for the recognised files, skipped names, schema rules and
    empty files. Raises ``FileNotFoundError`` for a missing path and ``ValueError`` naming
    the file for an unknown file, unreadable data, disagreeing columns or no rows at all.
    """
    units = _units(path)
    parts: list[tuple[_Unit, datasets.Dataset]] = []
    empty = 0
    with _progress_bars(len(units) == 1):
        for unit in units:
            ds = _load_unit(unit)
            if ds is None:
                empty += 1
            else:
                parts.append((unit, ds))
    if not parts:
        raise ValueError(f"{path}: the input holds no rows: {'its' if len(units) == 1 else f'all {len(units)}'} "
                         f"file{'' if len(units) == 1 else 's'} {'is' if len(units) == 1 else 'are'} empty")
    ds = _combine(parts)
    if ds.num_rows == 0:
        raise ValueError(f"{path}: the input holds no rows ({len(units)} file{'s' if len(units) != 1 else ''}, "
                         f"columns {_columns(ds.column_names)})")
    return ds


# --------------------------------------------------------------------------- output safety
def _real(path: str | os.PathLike) -> Path:
    """Resolve symlinks; a path not there yet is taken by its resolved parent."""
    return Path(os.path.realpath(os.path.abspath(path)))


def check_output(input_path: str | os.PathLike | Iterable[str | os.PathLike], output_path: str | os.PathLike) -> None:
    """Raise ``ValueError`` when writing ``output_path`` could overwrite or mix with the input:
    the output is the input, lies inside an input folder, or is a folder containing the input.

    ``input_path`` may be one path or several (e.g. the input and a reference set).
    Symlinks are resolved; a not-yet-existing output is judged by its resolved parent.
    """
    inputs = [input_path] if isinstance(input_path, (str, os.PathLike)) else list(input_path)
    out = _real(output_path)
    for given in inputs:
        inp = _real(given)
        also = f" (both resolve to {out})" if str(output_path) != str(given) else ""
        same = out == inp
        if not same and os.path.exists(out) and os.path.exists(inp):
            with contextlib.suppress(OSError):
                same = os.path.samefile(out, inp)
        if same:
            raise ValueError(f"output {output_path} is the input{also}; choose another output path")
        if inp.is_dir() and out.is_relative_to(inp):
            raise ValueError(f"output {output_path} is inside the input folder {given}; choose an output "
                             f"outside it")
        if inp.is_relative_to(out):
            raise ValueError(f"output {output_path} contains the input {given}; choose an output that does "
                             f"not hold the input")


# --------------------------------------------------------------------------- atomic writes
def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(path: Path) -> None:
    if path.is_dir():
        for root, _, files in os.walk(path):
            for name in files:
                _fsync(Path(root) / name)
            _fsync(Path(root))
    else:
        _fsync(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    return path.parent / f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (``.NAME.tmp-<pid>-<random>``) to write a file
    to; when the block ends without error the file is synced and renamed over ``path``
    (``os.replace``); on error it is removed and ``path`` is left as it was."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output {path} is a folder; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to the temporary file for {path}")
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "xb") as handle:
            handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename)."""
    return atomic_write_bytes(path, text.encode(encoding))


_SAVED_NAMES = re.compile(r"(state\.json|dataset_info\.json|data-\d+-of-\d+\.arrow|cache-.*\.arrow|\.DS_Store)")


def _replaceable_folder(path: Path) -> bool:
    """An existing output folder may be replaced only when empty or a saved dataset."""
    names = os.listdir(path)
    if not names:
        return True
    return _is_saved_folder(path) and all(_SAVED_NAMES.fullmatch(n) and (path / n).is_file() for n in names)


def _write_folder(ds: datasets.Dataset, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ValueError(f"output {path} exists and is a file; a folder output (save_to_disk) would replace it: "
                         f"remove it or name a .jsonl/.parquet/.csv/.arrow file")
    if path.is_dir() and not _replaceable_folder(path):
        raise ValueError(f"output {path} is a folder that is not a saved dataset; refusing to replace what it "
                         f"holds: choose another output or empty it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        ds.save_to_disk(str(tmp))
        _fsync_tree(tmp)
        if path.exists():
            old = _temp_name(path, "old")
            os.rename(path, old)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
        _fsync(path.parent)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def _compressed(raw: BinaryIO, compression: str | None, name: str) -> Iterator[BinaryIO]:
    if compression is None:
        yield raw
        return
    if compression == "gzip":
        stream: Any = gzip.GzipFile(filename=name, mode="wb", fileobj=raw)
    elif compression == "bz2":
        stream = bz2.BZ2File(raw, "wb")
    elif compression == "xz":
        stream = lzma.LZMAFile(raw, "wb")
    else:
        stream = _need_zstandard(Path(name)).ZstdCompressor().stream_writer(raw, closefd=False)
    with stream:
        yield stream


def _write_arrow(ds: datasets.Dataset, path: Path) -> None:
    from datasets.arrow_writer import ArrowWriter

    with ArrowWriter(path=str(path), features=ds.features) as writer:
        for table in ds.with_format("arrow").iter(batch_size=10_000):
            writer.write_table(table)
        writer.finalize()


def write_dataset(ds: datasets.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` atomically in the format ``path``'s suffix names, in any letter case:
    ``.jsonl``/``.json``/``.ndjson`` (JSON lines), ``.csv``, ``.parquet``, ``.arrow``, JSON
    and CSV compressed as ``.gz``/``.bz2``/``.xz``/``.zst``; any other path is a folder
    (``save_to_disk``), which replaces an existing folder only when that is empty or a
    saved dataset. The data goes to a hidden temporary name first and is renamed into
    place when complete."""
    path = Path(path)
    try:
        fmt, compression = data_format(path)
    except ValueError:
        if path.suffix.lower() in COMPRESSIONS:
            raise ValueError(f"output {path}: only JSON and CSV outputs may be compressed "
                             f"(e.g. out.jsonl.gz)") from None
        _write_folder(ds, path)
        return path
    if compression == "zstd":
        _need_zstandard(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            ds.to_parquet(str(tmp))
        elif fmt == "arrow":
            _write_arrow(ds, tmp)
        else:
            inner = path.name[: -len(path.suffix)] if compression else path.name
            with open(tmp, "xb") as raw, _compressed(raw, compression, inner) as out:
                if fmt == "json":
                    ds.to_json(out, lines=True)
                else:
                    ds.to_csv(out)
    return path


# --------------------------------------------------------------------------- locks
class LockedError(ValueError):
    """Another live synthfilter run holds the folder's lock."""


class StaleLockWarning(UserWarning):
    """A lock left by a process that is gone was taken over."""


def _proc_start(pid: int) -> str | None:
    """Start time of ``pid`` (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields and fields[0] in ("Z", "X"):
        return "dead"
    return fields[19] if len(fields) > 19 else None


def _pid_alive(pid: int, start: str | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    now = _proc_start(pid)
    if now == "dead":
        return False
    if start and now and now != start:
        return False  # the pid now belongs to another process
    return True


class RunLock:
    """``with RunLock(folder):`` -- hold ``folder/.synthfilter.lock`` while writing there.

    The lock file is created with ``O_CREAT|O_EXCL`` and holds the process id, host name
    and start time (JSON). When it exists and its process is alive (on this host, or on
    another host where that cannot be checked), :class:`LockedError` is raised. A lock
    whose process is gone is taken over with a :class:`StaleLockWarning`. The lock is
    removed on exit, also on exceptions (only if it is still ours). The folder is
    created when missing.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._token: str | None = None

    def _content(self) -> bytes:
        self._token = secrets.token_hex(8)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "start": _proc_start(os.getpid()),
                "token": self._token, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        return (json.dumps(info) + "\n").encode()

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, self._content())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _read(self) -> tuple[bytes, dict[str, Any] | None]:
        """The lock's bytes and parsed content; waits briefly for a lock being written."""
        raw = b""
        for attempt in range(20):
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return b"", None
            try:
                info = json.loads(raw)
                if isinstance(info, int):
                    info = {"pid": info}
                if isinstance(info, dict) and isinstance(info.get("pid"), int):
                    return raw, info
            except ValueError:
                text = raw.decode("ascii", "replace").split()
                if text and text[0].isdigit():
                    return raw, {"pid": int(text[0]), "host": text[1] if len(text) > 1 else None}
            time.sleep(0.05)
        return raw, None

    def _locked(self, info: dict[str, Any] | None) -> LockedError:
        pid = info.get("pid", "?") if info else "?"
        host = info.get("host") if info else None
        where = f" on host {host}" if host and host != socket.gethostname() else ""
        return LockedError(f"another synthfilter run (pid {pid}{where}) is writing to {self.folder}; wait for it "
                           f"or remove {self.path} if that process is gone")

    def acquire(self) -> RunLock:
        if self._token is not None:
            raise self._locked({"pid": os.getpid()})
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create():
                return self
            raw, info = self._read()
            if not raw and info is None and not self.path.exists():
                continue  # released meanwhile: try again
            if info is not None:
                host = info.get("host")
                if host and host != socket.gethostname():
                    raise self._locked(info)
                if _pid_alive(info["pid"], info.get("start")):
                    raise self._locked(info)
            elif time.time() - self._mtime() < 5:
                raise self._locked(None)  # unreadable but fresh: someone is writing it
            if self._take_over(raw, info):
                return self
        raise self._locked(self._read()[1])

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def _take_over(self, raw: bytes, info: dict[str, Any] | None) -> bool:
        """Replace the stale lock whose bytes are ``raw``; serialised by ``flock`` on the folder."""
        guard = None
        try:
            import fcntl

            guard = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(guard, fcntl.LOCK_EX)
        except (ImportError, OSError):
            if guard is not None:
                os.close(guard)
            guard = None
        try:
            try:
                if self.path.read_bytes() != raw:
                    return False  # someone else took it over or released it meanwhile
            except FileNotFoundError:
                return self._create()
            self.path.unlink()
            if not self._create():
                return False
            who = f"pid {info.get('pid')}" if info else "unreadable content"
            warnings.warn(f"took over a stale lock {self.path} ({who}: that process is gone)", StaleLockWarning,
                          stacklevel=4)
            return True
        finally:
            if guard is not None:
                os.close(guard)  # closing releases the flock

    def release(self) -> None:
        if self._token is None:
            return
        try:
            _, info = self._read()
            if info is not None and info.get("token") == self._token:
                self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            self._token = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# --------------------------------------------------------------------------- checksums
def _listed_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the non-hidden files under ``folder`` (hidden names skipped)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in sorted(files):
            if not _hidden(name):
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
        base = _real(folder)
        for f in files:
            full = Path(f) if Path(f).is_absolute() else folder / f
            try:
                rel.append(_real(full).relative_to(base).as_posix())
            except ValueError:
                raise ValueError(f"{f}: not inside {folder}") from None
    entries = {}
    for name in sorted(set(rel)):
        full = folder / name
        entries[name] = {"bytes": full.stat().st_size, "sha256": sha256_file(full)}
    target = folder / CHECKSUMS_NAME
    atomic_write_text(target, json.dumps({"algorithm": "sha256", "files": entries}, indent=2, sort_keys=True) + "\n")
    return target


def verify_checksums(folder: str | os.PathLike, *, content: bool = True) -> list[str]:
    """Problems with ``folder`` against its ``_CHECKSUMS.json``: a listed file missing,
    truncated or grown (size), changed (SHA-256; skipped with ``content=False``), or a
    file not listed (added; names starting with '.' or '_' are not counted). An empty
    list means the folder is as recorded."""
    folder = Path(folder)
    record = folder / CHECKSUMS_NAME
    try:
        entries = json.loads(record.read_text(encoding="utf-8"))["files"]
        if not isinstance(entries, dict):
            raise TypeError("'files' is not an object")
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
