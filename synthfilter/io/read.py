"""Reading an input through ``datasets``' own loaders: every file checked, schemas compared, errors named."""

from __future__ import annotations

import contextlib
import glob
import os
import re
from typing import Any, Iterable, Iterator

import datasets
import pyarrow as pa

from ..arrow_json import is_json
from .diagnose import bad_json_line, bad_utf8_line
from .exact_json import as_json_columns, exact_big_ints, exact_json_values, json_features
from .files import _MAGIC, TEXT_FORMATS, InputUnit, input_units, need_zstandard, open_decompressed



def _text_is_empty(unit: InputUnit) -> bool:
    """True when a JSON/CSV file holds nothing but white space (after decompression)."""
    if unit.path.stat().st_size == 0:
        return True
    try:
        with open_decompressed(unit.path) as handle:
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


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _describe(unit: InputUnit) -> str:
    return unit.kind + (f", {unit.compression}" if unit.compression else "")


def _load_unit(unit: InputUnit) -> datasets.Dataset | None:
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
        need_zstandard(unit.path)
    if unit.kind in TEXT_FORMATS and _text_is_empty(unit):
        return None
    if unit.kind in ("parquet", "arrow") and unit.path.stat().st_size == 0:
        raise ValueError(f"{unit.path}: not readable as {unit.kind}: the file is empty (0 bytes)")
    if unit.kind in ("parquet", "arrow") and _binary_rows(unit) == 0:
        return None  # a Parquet/Arrow file without rows: skipped, as an empty text file is
    if unit.compression is not None:
        _check_compression(unit)
    files = [glob.escape(str(unit.path.absolute()))]
    try:
        try:
            ds = datasets.load_dataset(unit.kind, data_files=files, split="train")
        except Exception as exc:
            # datasets types JSON columns by the first 10 MB of a file: a column null all through them is typed
            # null and its later values fail to cast ("cast array of type bool to null"): type them by all of it
            if unit.kind != "json" or not re.search(r"cast array of type .* to null", str(_root_cause(exc))):
                raise
            ds = datasets.load_dataset("json", data_files=files, features=json_features(unit.path), split="train")
    except Exception as exc:
        if "corresponds to no data" in str(exc):
            return None  # zero rows: a CSV header alone, a Parquet/Arrow file without rows
        where = bad_json_line(unit.path) if unit.kind == "json" else \
            bad_utf8_line(unit.path) if unit.kind == "csv" else None
        cause = _root_cause(exc)
        detail = where or f"{type(cause).__name__}: {cause}"
        raise ValueError(f"{unit.path}: not readable as {_describe(unit)}: {detail}") from exc
    if unit.kind != "json":
        return ds
    try:  # pyarrow's JSON reader takes bytes that are not UTF-8 into string columns
        ds.data.table.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{unit.path}: not readable as {_describe(unit)}: {bad_utf8_line(unit.path) or exc}") from exc
    return exact_json_values(unit, exact_big_ints(unit, ds))


def _binary_rows(unit: InputUnit) -> int | None:
    """Rows of a Parquet or Arrow file from its metadata (``None`` when it cannot be read: the loader says why)."""
    import pyarrow.parquet as pq

    try:
        if unit.kind == "parquet":
            return pq.ParquetFile(unit.path).metadata.num_rows
        with pa.memory_map(str(unit.path)) as source:
            try:
                return pa.ipc.open_file(source).read_all().num_rows
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_stream(source).read_all().num_rows
    except Exception:
        return None


def _check_compression(unit: InputUnit) -> None:
    """A file named as compressed (``.gz``, ...) whose bytes are not: refused, saying so (``datasets`` would
    report a decompression error)."""
    with open(unit.path, "rb") as handle:
        head = handle.read(6)
    if not head or any(head.startswith(magic) and kind == unit.compression for magic, kind in _MAGIC):
        return
    raise ValueError(f"{unit.path}: its name says {unit.compression}-compressed but its bytes are not "
                     f"{unit.compression}-compressed (it starts with {head!r}); rename it")


@contextlib.contextmanager
def datasets_progress(enabled: bool) -> Iterator[None]:
    """``datasets``' own progress bars on (as they were) or off (``enabled=False``) for the duration; restored after."""
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
    if is_json(a) or is_json(b):  # values of several JSON types in one file: the other file's join them
        other = b if is_json(a) else a
        return a if is_json(a) else b if not (pa.types.is_struct(other) or _is_list(other)) or is_json(other) \
            else None
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


def _combine(parts: list[tuple[InputUnit, datasets.Dataset]]) -> datasets.Dataset:
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
        ds = as_json_columns(ds, [c for c in ref_cols if isinstance(features[c], datasets.Json)
                                   and not isinstance(ds.features[c], datasets.Json)])
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
    units = input_units(path)
    parts: list[tuple[InputUnit, datasets.Dataset]] = []
    empty = 0
    with datasets_progress(len(units) == 1):
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
