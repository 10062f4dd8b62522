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

from ..arrow_json import is_json
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
            value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            return f"line {line}: {_not_utf8(data, exc)}"
        except _DuplicateKey as exc:
            return f"{exc}"
        except json.JSONDecodeError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        if not isinstance(value, list):
            return "not a JSON array"
        return _LONE_SURROGATE if _has_lone_surrogate(value) else None
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            value = json.loads(raw_line.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except UnicodeDecodeError as exc:
            return f"line {number}: {_not_utf8(raw_line, exc)}"
        except _DuplicateKey as exc:
            return f"line {number}: {exc}"
        except json.JSONDecodeError as exc:
            return f"line {number}: {exc.msg} (column {exc.colno})"
        if not isinstance(value, dict):
            return f"line {number}: expected a JSON object, got {type(value).__name__}"
        if _has_lone_surrogate(value):
            return f"line {number}: {_LONE_SURROGATE}"
    return None


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} appears twice in one JSON object (which value is meant?)")
        out[key] = value
    return out


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """What is wrong with bytes that are not UTF-8, and what to do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "not UTF-8 text (it starts with a UTF-16 byte-order mark); synthfilter reads UTF-8: convert the file"
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return (f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); synthfilter reads UTF-8: convert the "
            f"file (e.g. iconv -f latin1 -t utf-8)")


def _bad_utf8_line(path: Path) -> str | None:
    """Where a text file stops being UTF-8 ("line N: ..."), or None when all of it is. Line by line:
    the byte of a newline never occurs inside a UTF-8 character."""
    try:
        with open_decompressed(path) as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return f"line {number}: {_not_utf8(line, exc)}"
    except Exception:
        return None
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
        if len(column) != ds.num_rows:
            raise ValueError(f"{unit.path}: column {name!r}: {len(column)} records for {ds.num_rows} rows")
        bad = next(((i, v) for i, v in enumerate(column) if v is not None and not (type(v) is int and 0 <= v < 2**64)),
                   None)
        if bad is not None:
            row, value = bad
            why = ("is beyond the unsigned 64-bit range (2**64 - 1 at most)" if type(value) is int and value >= 2**64
                   else "is negative" if type(value) is int else f"is not an integer ({type(value).__name__})")
            raise ValueError(f"{unit.path}: column {name!r} holds integers beyond the signed 64-bit range, and the "
                             f"value {value!r} of row {row + 1} {why}: no column type holds all of them exactly (they "
                             f"would be rounded as floats); write them as strings")
        ds = ds.remove_columns(name).add_column(name, pa.array(column, pa.uint64()))
    return ds.select_columns(table.column_names)


def _holds_json(feature: Any) -> bool:
    if isinstance(feature, datasets.Json):
        return True
    if isinstance(feature, dict):
        return any(_holds_json(f) for f in feature.values())
    inner = getattr(feature, "feature", None)
    return inner is not None and _holds_json(inner)


def _json_text(value: Any, feature: Any) -> Any:
    """``value`` with every part that ``feature`` types as ``Json`` written as its exact JSON text."""
    if value is None:
        return None
    if isinstance(feature, datasets.Json):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(feature, dict) and isinstance(value, dict):
        return {k: _json_text(value.get(k), f) for k, f in feature.items()}
    inner = getattr(feature, "feature", None)
    if inner is not None and isinstance(value, list):
        return [_json_text(v, inner) for v in value]
    return value


def _exact_json_values(unit: InputUnit, ds: datasets.Dataset) -> datasets.Dataset:
    """``datasets`` stores a column whose values are of several JSON types (a number among strings) as ``Json``,
    keeping each string as it is when it parses as JSON: the text ``"null"``, ``"42"`` or ``"\"hi\""`` would come
    back as null, 42 and hi, and the group value ``"1"`` as the integer 1. Such columns are read again from the
    file, every value written as its exact JSON text, so each comes back as it was written."""
    names = [name for name, feature in ds.features.items() if _holds_json(feature)]
    if not names:
        return ds
    values: dict[str, list[Any]] = {name: [] for name in names}
    for record in _json_records(unit.path):
        for name in names:
            values[name].append(_json_text(record.get(name) if isinstance(record, dict) else None, ds.features[name]))
    table = ds.data.table
    for name, column in values.items():
        if len(column) != ds.num_rows:
            raise ValueError(f"{unit.path}: column {name!r}: {len(column)} records for {ds.num_rows} rows")
        target = table.schema.field(name).type
        array = pa.array(column, _storage_type(target)).cast(target)
        table = table.set_column(table.column_names.index(name), name, array)
    return datasets.Dataset(datasets.table.InMemoryTable(table), info=ds.info)


def _as_json_columns(ds: datasets.Dataset, names: list[str]) -> datasets.Dataset:
    """``ds`` with the columns ``names`` turned into ``Json`` columns holding each value's exact JSON text (to join
    a file where that column mixes JSON types)."""
    if not names:
        return ds
    table = ds.data.table
    for name in names:
        values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in table.column(name).to_pylist()]
        table = table.set_column(table.column_names.index(name), name, pa.array(values, pa.string()).cast(pa.json_()))
    return datasets.Dataset(datasets.table.InMemoryTable(table.replace_schema_metadata(None)))


def _storage_type(t: pa.DataType) -> pa.DataType:
    """``t`` with every extension type (``Json``) replaced by its storage type, for ``pa.array`` of plain values."""
    if isinstance(t, pa.BaseExtensionType):
        return _storage_type(t.storage_type)
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_storage_type(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_large_list(t):
        return pa.large_list(_storage_type(t.value_type))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_storage_type(t.value_type), t.list_size)
    if pa.types.is_list(t):
        return pa.list_(_storage_type(t.value_type))
    return t


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
            ds = datasets.load_dataset("json", data_files=files, features=_json_features(unit.path), split="train")
    except Exception as exc:
        if "corresponds to no data" in str(exc):
            return None  # zero rows: a CSV header alone, a Parquet/Arrow file without rows
        where = _bad_json_line(unit.path) if unit.kind == "json" else \
            _bad_utf8_line(unit.path) if unit.kind == "csv" else None
        cause = _root_cause(exc)
        detail = where or f"{type(cause).__name__}: {cause}"
        raise ValueError(f"{unit.path}: not readable as {_describe(unit)}: {detail}") from exc
    if unit.kind != "json":
        return ds
    try:  # pyarrow's JSON reader takes bytes that are not UTF-8 into string columns
        ds.data.table.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{unit.path}: not readable as {_describe(unit)}: {_bad_utf8_line(unit.path) or exc}") from exc
    return _exact_json_values(unit, _exact_big_ints(unit, ds))


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
        ds = _as_json_columns(ds, [c for c in ref_cols if isinstance(features[c], datasets.Json)
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
