"""Reading an input through ``datasets``' own loaders: every file checked, schemas compared, errors named."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import datasets
import pyarrow as pa

from .files import TEXT_FORMATS, InputUnit, need_zstandard, open_decompressed, input_units



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


def _bad_json_line(path: Path) -> str | None:
    """Where a JSON file goes wrong ("line N: ..."), or None when every line parses."""
    try:
        with open_decompressed(path) as raw:
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
    with open_decompressed(path) as raw:
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

    with open_decompressed(path) as raw:
        return datasets.Features.from_arrow_schema(paj.read_json(raw).schema)


def _exact_big_ints(unit: InputUnit, ds: datasets.Dataset) -> datasets.Dataset:
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
