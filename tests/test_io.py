"""synthfilter.io: reading every format, folder walking, errors, output safety, atomic writes, locks, checksums."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import datasets
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthfilter import io as sio


def make_rows(start: int, stop: int) -> list[dict]:
    return [{"text": f"row {i}, with \"quotes\" and ünïcode", "id": i} for i in range(start, stop)]


def _jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _compress(data: bytes, compression: str | None) -> bytes:
    if compression is None:
        return data
    if compression == "gz":
        return gzip.compress(data)
    if compression == "bz2":
        return bz2.compress(data)
    if compression == "xz":
        return lzma.compress(data)
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


def write_file(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` to ``path`` independently of synthfilter.io, in the format its name says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    compression = next((c for c in ("gz", "bz2", "xz", "zst") if name.endswith("." + c)), None)
    base = name[: -len(compression) - 1] if compression else name
    ds = datasets.Dataset.from_list(rows)
    if base.endswith((".jsonl", ".ndjson", ".json")):
        path.write_bytes(_compress(_jsonl_bytes(rows), compression))
    elif base.endswith(".csv"):
        with tempfile.TemporaryDirectory() as tmp:
            ds.to_csv(os.path.join(tmp, "x.csv"))
            path.write_bytes(_compress(Path(tmp, "x.csv").read_bytes(), compression))
    elif base.endswith(".parquet"):
        ds.to_parquet(str(path))
    elif base.endswith(".arrow"):  # the stream file datasets itself writes
        with tempfile.TemporaryDirectory() as tmp:
            ds.save_to_disk(tmp)
            shutil.copy(Path(tmp, "data-00000-of-00001.arrow"), path)
    else:
        raise AssertionError(name)
    return path


def ids(ds: datasets.Dataset) -> list[int]:
    return list(ds["id"])


def hidden_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.startswith(".")]


# --------------------------------------------------------------------------- formats
FILE_NAMES = ["x.jsonl", "x.json", "x.ndjson", "x.csv", "x.parquet", "x.arrow", "x.jsonl.gz", "x.jsonl.bz2",
              "x.jsonl.xz", "x.jsonl.zst", "x.csv.gz", "x.csv.xz", "x.json.bz2"]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_every_format_reads_the_same_rows(tmp_path, name):
    rows = make_rows(0, 7)
    path = write_file(tmp_path / name, rows)
    ds = sio.read_dataset(path)
    assert isinstance(ds, datasets.Dataset)
    assert ds.to_list() == rows
    assert sio.input_files(path) == [path]


@pytest.mark.parametrize("name", FILE_NAMES + ["folder_out"])
def test_write_then_read_round_trips(tmp_path, name):
    if name.endswith(".zst"):
        pytest.importorskip("zstandard")
    rows = make_rows(0, 5)
    out = sio.write_dataset(datasets.Dataset.from_list(rows), tmp_path / name)
    assert out == tmp_path / name
    assert sio.read_dataset(out).to_list() == rows
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["x.jsonl.gz", "x.csv.bz2", "x.jsonl.xz"])
def test_compressed_output_really_is_compressed(tmp_path, name):
    out = sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 3)), tmp_path / name)
    opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[name.rsplit(".", 1)[1]]
    with opener(out, "rt") as handle:
        assert "row 0" in handle.read()


@pytest.mark.parametrize("name", ["X.JSONL", "x.Parquet", "x.JSON.GZ", "X.CSV", "x.ARROW", "x.NDJSON.XZ"])
def test_extensions_in_any_case(tmp_path, name):
    rows = make_rows(0, 4)
    path = write_file(tmp_path / name, rows)
    assert sio.read_dataset(path).to_list() == rows
    assert sio.data_format(path)[0] in {"json", "csv", "parquet", "arrow"}


@pytest.mark.parametrize("name", ["X.JSONL", "x.Parquet", "x.JSON.GZ", "X.CSV"])
def test_uppercase_output_suffixes_write_files(tmp_path, name):
    out = sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 3)), tmp_path / name)
    assert out.is_file()
    assert sio.read_dataset(out).to_list() == make_rows(0, 3)


def test_data_format():
    assert sio.data_format("a/B.JSONL") == ("json", None)
    assert sio.data_format("c.csv.ZST") == ("csv", "zstd")
    assert sio.data_format("d.parquet") == ("parquet", None)
    for bad in ["x.txt", "x.parquet.gz", "x.gz", "README", "x.arrow.bz2"]:
        with pytest.raises(ValueError, match="not a recognised data file"):
            sio.data_format(bad)


def test_glob_characters_in_names(tmp_path):
    rows = make_rows(0, 3)
    path = write_file(tmp_path / "shard[1]*?.jsonl", rows)
    write_file(tmp_path / "shard1.jsonl", make_rows(100, 101))  # what an unescaped glob would match
    assert sio.read_dataset(path).to_list() == rows


def test_sample_path_reads():
    assert sio.read_dataset(sio.sample_path()).num_rows > 0


def test_write_refuses_compressed_binary_format(tmp_path):
    with pytest.raises(ValueError, match="only JSON and CSV"):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 2)), tmp_path / "x.parquet.gz")


# --------------------------------------------------------------------------- folders
def nested_300(root: Path) -> Path:
    write_file(root / "a.JSONL", make_rows(0, 100))
    write_file(root / "sub" / "b.jsonl.gz", make_rows(100, 200))
    write_file(root / "sub" / "deeper" / "c.parquet", make_rows(200, 300))
    return root


def test_nested_folder_reads_all_rows_in_sorted_path_order(tmp_path):
    root = nested_300(tmp_path / "in")
    # skipped: hidden and underscore names, files and folders
    (root / "_SUCCESS").touch()
    (root / ".DS_Store").write_bytes(b"\x00\x01junk")
    (root / "sub" / ".hidden").mkdir()
    (root / "sub" / ".hidden" / "notes.txt").write_text("not data")
    (root / "_logs").mkdir()
    (root / "_logs" / "run.log").write_text("not data")
    ds = sio.read_dataset(root)
    assert ds.num_rows == 300
    assert ids(ds) == list(range(300))
    assert sio.input_files(root) == [root / "a.JSONL", root / "sub" / "b.jsonl.gz",
                                     root / "sub" / "deeper" / "c.parquet"]


def test_folder_order_compares_folder_by_folder(tmp_path):
    write_file(tmp_path / "a" / "x.jsonl", make_rows(0, 2))
    write_file(tmp_path / "a-b" / "x.jsonl", make_rows(2, 4))
    write_file(tmp_path / "a.jsonl", make_rows(4, 6))  # "a" < "a-b" < "a.jsonl"
    assert ids(sio.read_dataset(tmp_path)) == list(range(6))
    assert [p.relative_to(tmp_path).as_posix() for p in sio.input_files(tmp_path)] == \
        ["a/x.jsonl", "a-b/x.jsonl", "a.jsonl"]


def test_mixed_formats_concatenate_when_schemas_agree(tmp_path):
    write_file(tmp_path / "1.jsonl", make_rows(0, 3))
    write_file(tmp_path / "2.parquet", make_rows(3, 6))
    write_file(tmp_path / "3.csv", make_rows(6, 9))
    write_file(tmp_path / "4.arrow", make_rows(9, 12))
    ds = sio.read_dataset(tmp_path)
    assert ds.to_list() == make_rows(0, 12)


def test_compatible_types_widen(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a", "score": 1, "meta": null, "tags": {"src": "x"}}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "b", "score": 0.5, "meta": "m", "tags": {"src": "y", "lang": "en"}}\n')
    ds = sio.read_dataset(tmp_path)
    assert ds["score"] == [1.0, 0.5]
    assert ds["meta"] == [None, "m"]
    assert ds["tags"] == [{"src": "x", "lang": None}, {"src": "y", "lang": "en"}]


def test_column_order_may_differ_between_files(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a", "id": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"id": 2, "text": "b"}\n')
    ds = sio.read_dataset(tmp_path)
    assert ds.column_names == ["text", "id"]
    assert ds.to_list() == [{"text": "a", "id": 1}, {"text": "b", "id": 2}]


def test_saved_dataset_folder_top_level_and_nested(tmp_path):
    datasets.Dataset.from_list(make_rows(0, 4)).save_to_disk(str(tmp_path / "saved"))
    assert sio.read_dataset(tmp_path / "saved").to_list() == make_rows(0, 4)
    assert [p.suffix for p in sio.input_files(tmp_path / "saved")] == [".arrow"]
    write_file(tmp_path / "z.jsonl", make_rows(4, 6))
    assert ids(sio.read_dataset(tmp_path)) == list(range(6))


def test_dataset_dict_folder_is_refused(tmp_path):
    datasets.DatasetDict({"train": datasets.Dataset.from_list(make_rows(0, 2))}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(ValueError, match="DatasetDict.*train"):
        sio.read_dataset(tmp_path / "dd")


FORMATS_FOR_SPLITS = ["jsonl", "jsonl.gz", "parquet", "JSONL", "csv", "arrow"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 40), data=st.data())
def test_row_order_preserved_over_random_splits(n, data):
    cuts = sorted(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=4, unique=True)))
    bounds = [0] + [c for c in cuts if c < n] + [n]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            fmt = data.draw(st.sampled_from(FORMATS_FOR_SPLITS))
            depth = data.draw(st.integers(0, 2))
            folder = root.joinpath(*[f"{i:02d}d{k}" for k in range(depth)])
            write_file(folder / f"{i:02d}.{fmt}", make_rows(lo, hi))
        assert sio.read_dataset(root).to_list() == make_rows(0, n)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("junk", ["notes.txt", "README", "data.tsv", "x.parquet.gz"])
def test_unknown_file_in_folder_names_it(tmp_path, junk):
    write_file(tmp_path / "a.jsonl", make_rows(0, 2))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / junk).write_text("whatever")
    with pytest.raises(ValueError, match=junk.replace(".", r"\.")):
        sio.read_dataset(tmp_path)
    with pytest.raises(ValueError, match=junk.replace(".", r"\.")):
        sio.input_files(tmp_path)


def test_unknown_single_file_and_missing_path(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match="x.txt"):
        sio.read_dataset(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        sio.read_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no data files"):
        sio.read_dataset(tmp_path / "empty")


def _corrupt_parquet(path: Path) -> None:
    path.write_bytes(os.urandom(400))


def _truncated_parquet(path: Path) -> None:
    write_file(path, make_rows(0, 50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _invalid_json_line(path: Path) -> None:
    path.write_text('{"text": "a", "id": 0}\n{"text": "b", "id": 1}\n{"text": oops}\n{"text": "c", "id": 3}\n')


def _binary_jsonl(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 4)


def _empty_parquet(path: Path) -> None:
    path.write_bytes(b"")


def _bad_gzip(path: Path) -> None:
    path.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate" * 3)


def _scalar_lines(path: Path) -> None:
    path.write_text('{"text": "a", "id": 0}\n42\n')


def _corrupt_arrow(path: Path) -> None:
    path.write_bytes(b"ARROW1\x00\x00" + os.urandom(200))


@pytest.mark.parametrize("name,make,detail", [
    ("bad.parquet", _corrupt_parquet, "parquet"),
    ("bad.parquet", _truncated_parquet, "parquet"),
    ("bad.jsonl", _invalid_json_line, "line 3"),
    ("bad.jsonl", _binary_jsonl, "line 1"),
    ("bad.parquet", _empty_parquet, "empty"),
    ("bad.jsonl.gz", _bad_gzip, "bad.jsonl.gz"),
    ("bad.jsonl", _scalar_lines, "line 2"),
    ("bad.arrow", _corrupt_arrow, "arrow"),
])
def test_corrupt_files_name_the_file(tmp_path, name, make, detail):
    write_file(tmp_path / "a_good.jsonl", make_rows(0, 3))
    make(tmp_path / name)
    with pytest.raises(ValueError) as info:
        sio.read_dataset(tmp_path)
    message = str(info.value)
    assert str(tmp_path / name) in message
    assert detail in message
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        sio.read_dataset(tmp_path / name)


def test_mixed_columns_name_files_and_columns(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x", "id": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "y", "body": "z"}\n')
    with pytest.raises(ValueError) as info:
        sio.read_dataset(tmp_path)
    message = str(info.value)
    assert "a.jsonl has columns [text, id]" in message
    assert "b.jsonl has [text, body]" in message
    assert "missing 'id'" in message and "extra 'body'" in message


def test_mixed_columns_across_formats(tmp_path):
    write_file(tmp_path / "a.parquet", make_rows(0, 2))
    (tmp_path / "b.jsonl").write_text('{"text": "y"}\n')
    with pytest.raises(ValueError, match=r"b\.jsonl has \[text\]: missing 'id'"):
        sio.read_dataset(tmp_path)


def test_type_conflict_names_column_and_files(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x", "id": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "y", "id": "abc"}\n')
    with pytest.raises(ValueError) as info:
        sio.read_dataset(tmp_path)
    message = str(info.value)
    assert "column 'id'" in message and "int64" in message and "string" in message
    assert "a.jsonl" in message and "b.jsonl" in message


def test_numeric_strings_are_not_silently_cast(tmp_path):
    # datasets' json loader alone would cast "2" to 2 and fill a missing column with nulls
    (tmp_path / "a.jsonl").write_text('{"text": "x", "id": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "y", "id": "2"}\n')
    with pytest.raises(ValueError, match="column 'id'"):
        sio.read_dataset(tmp_path)


# --------------------------------------------------------------------------- empty files
def test_zero_byte_and_blank_text_files_hold_zero_rows(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"")
    (tmp_path / "b.jsonl").write_text("\n  \n")
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "d.csv").write_text("text,id\n")
    write_file(tmp_path / "e.jsonl", make_rows(0, 3))
    assert sio.read_dataset(tmp_path).to_list() == make_rows(0, 3)
    assert len(sio.input_files(tmp_path)) == 5


def test_all_empty_input_is_refused(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"")
    (tmp_path / "b.csv").write_bytes(b"")
    with pytest.raises(ValueError, match="no rows.*all 2 files are empty"):
        sio.read_dataset(tmp_path)
    with pytest.raises(ValueError, match="no rows"):
        sio.read_dataset(tmp_path / "a.jsonl")


def test_zero_row_parquet(tmp_path):
    datasets.Dataset.from_list(make_rows(0, 0) or [{"text": "x", "id": 1}]).select([]).to_parquet(
        str(tmp_path / "z.parquet"))
    with pytest.raises(ValueError, match="no rows"):
        sio.read_dataset(tmp_path / "z.parquet")
    write_file(tmp_path / "a.jsonl", make_rows(0, 2))
    assert ids(sio.read_dataset(tmp_path)) == [0, 1]


# --------------------------------------------------------------------------- fingerprints
def test_input_fingerprints(tmp_path):
    root = nested_300(tmp_path / "in")
    prints = sio.input_fingerprints(root)
    assert [p["path"] for p in prints] == [str(f) for f in sio.input_files(root)]
    for p in prints:
        data = Path(p["path"]).read_bytes()
        assert p["bytes"] == len(data)
        assert p["sha256"] == hashlib.sha256(data).hexdigest() == sio.sha256_file(p["path"])


# --------------------------------------------------------------------------- output safety
def test_output_is_the_input(tmp_path):
    src = write_file(tmp_path / "in.jsonl", make_rows(0, 2))
    with pytest.raises(ValueError, match="output .* is the input"):
        sio.check_output(src, src)
    with pytest.raises(ValueError, match="is the input"):
        sio.check_output(src, tmp_path / "sub" / ".." / "in.jsonl")
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    with pytest.raises(ValueError, match="is the input"):
        sio.check_output(src, link)
    hard = tmp_path / "hard.jsonl"
    os.link(src, hard)
    with pytest.raises(ValueError, match="is the input"):
        sio.check_output(src, hard)


def test_output_inside_input_folder(tmp_path):
    root = nested_300(tmp_path / "in")
    with pytest.raises(ValueError, match="is inside the input folder"):
        sio.check_output(root, root / "out.jsonl")
    with pytest.raises(ValueError, match="is inside the input folder"):
        sio.check_output(root, root / "new" / "deeper" / "out")  # not there yet
    linked = tmp_path / "alias"
    linked.symlink_to(root)
    with pytest.raises(ValueError, match="is inside the input folder"):
        sio.check_output(root, linked / "out.parquet")


def test_output_contains_input(tmp_path):
    src = write_file(tmp_path / "data" / "in.jsonl", make_rows(0, 2))
    with pytest.raises(ValueError, match="contains the input"):
        sio.check_output(src, tmp_path / "data")
    with pytest.raises(ValueError, match="contains the input"):
        sio.check_output(src, tmp_path)


def test_output_elsewhere_is_fine(tmp_path):
    src = write_file(tmp_path / "data" / "in.jsonl", make_rows(0, 2))
    sio.check_output(src, tmp_path / "out.jsonl")
    sio.check_output(src, tmp_path / "data" / "out.jsonl")  # beside an input file, not inside a folder
    sio.check_output(tmp_path / "data", tmp_path / "data-out")
    sio.check_output([src, tmp_path / "ref.jsonl"], tmp_path / "out")
    with pytest.raises(ValueError, match="is the input"):
        sio.check_output([tmp_path / "ref.jsonl", src], src)


# --------------------------------------------------------------------------- atomic writes
def test_atomic_write_leaves_no_temp_file(tmp_path):
    ds = datasets.Dataset.from_list(make_rows(0, 3))
    for name in ["a.jsonl", "b.parquet", "c.csv.gz", "d.arrow", "folder"]:
        sio.write_dataset(ds, tmp_path / name)
        sio.write_dataset(ds, tmp_path / name)  # replacing works too
    sio.atomic_write_text(tmp_path / "r.json", '{"a": 1}\n')
    sio.atomic_write_bytes(tmp_path / "r.bin", b"\x00\x01")
    assert hidden_leftovers(tmp_path) == []
    assert (tmp_path / "r.json").read_text() == '{"a": 1}\n'
    assert (tmp_path / "r.bin").read_bytes() == b"\x00\x01"


class Boom(RuntimeError):
    pass


def _half_write(self, path_or_buf, *args, **kwargs):
    """Stand-in for a writer that dies half-way: some bytes out, then an error."""
    if hasattr(path_or_buf, "write"):
        path_or_buf.write(b'{"text": "partial')
    else:
        Path(path_or_buf).write_bytes(b"PAR1partial")
    raise Boom("disk on fire")


@pytest.mark.parametrize("name,method", [("out.jsonl", "to_json"), ("out.jsonl.gz", "to_json"),
                                         ("out.parquet", "to_parquet"), ("out.csv", "to_csv")])
def test_failed_write_keeps_previous_file(tmp_path, monkeypatch, name, method):
    target = tmp_path / name
    sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 3)), target)
    before = target.read_bytes()
    monkeypatch.setattr(datasets.Dataset, method, _half_write)
    with pytest.raises(Boom):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(10, 20)), target)
    assert target.read_bytes() == before
    assert hidden_leftovers(tmp_path) == []
    monkeypatch.undo()
    assert sio.read_dataset(target).to_list() == make_rows(0, 3)


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.Dataset, "to_json", _half_write)
    with pytest.raises(Boom):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 3)), tmp_path / "new.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_failed_folder_write_keeps_previous_folder(tmp_path, monkeypatch):
    target = tmp_path / "saved"
    sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 3)), target)
    real_save = datasets.Dataset.save_to_disk

    def half_save(self, path, *args, **kwargs):
        real_save(self, path, *args, **kwargs)
        raise Boom("died after writing")

    monkeypatch.setattr(datasets.Dataset, "save_to_disk", half_save)
    with pytest.raises(Boom):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(10, 20)), target)
    monkeypatch.undo()
    assert hidden_leftovers(tmp_path) == []
    assert sio.read_dataset(target).to_list() == make_rows(0, 3)
    sio.write_dataset(datasets.Dataset.from_list(make_rows(10, 12)), target)
    assert sio.read_dataset(target).to_list() == make_rows(10, 12)


def test_folder_output_never_replaces_an_unrelated_folder(tmp_path):
    keep = tmp_path / "home"
    keep.mkdir()
    (keep / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not a saved dataset"):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 2)), keep)
    assert (keep / "thesis.tex").read_text() == "precious"
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 2)), tmp_path / "dir.jsonl")


def test_atomic_path_failure_mid_way_keeps_previous(tmp_path):
    target = tmp_path / "report.json"
    sio.atomic_write_text(target, "old\n")
    with pytest.raises(Boom):
        with sio.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise Boom("crash")
    assert target.read_text() == "old\n"
    assert hidden_leftovers(tmp_path) == []


def test_atomic_write_bytes_failure_keeps_previous(tmp_path, monkeypatch):
    target = tmp_path / "manifest.json"
    sio.atomic_write_text(target, "old\n")

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        sio.atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert hidden_leftovers(tmp_path) == []


def test_leftover_temp_file_is_skipped_by_reader(tmp_path):
    write_file(tmp_path / "a.jsonl", make_rows(0, 2))
    (tmp_path / ".b.jsonl.tmp-123-abc").write_text('{"text": "half')
    assert ids(sio.read_dataset(tmp_path)) == [0, 1]


# --------------------------------------------------------------------------- locks
def test_lock_twice_in_one_process(tmp_path):
    with sio.RunLock(tmp_path) as lock:
        info = json.loads((tmp_path / sio.LOCK_NAME).read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        with pytest.raises(sio.LockedError) as err:
            sio.RunLock(tmp_path).acquire()
        assert f"pid {os.getpid()}" in str(err.value)
        assert str(tmp_path / sio.LOCK_NAME) in str(err.value)
        assert isinstance(err.value, ValueError)
        with pytest.raises(sio.LockedError):
            lock.acquire()
    assert not (tmp_path / sio.LOCK_NAME).exists()
    with sio.RunLock(tmp_path):  # free again
        pass


def test_lock_released_on_exception(tmp_path):
    with pytest.raises(Boom):
        with sio.RunLock(tmp_path / "new"):
            assert (tmp_path / "new" / sio.LOCK_NAME).exists()
            raise Boom("step failed")
    assert not (tmp_path / "new" / sio.LOCK_NAME).exists()


def test_lock_held_by_another_live_process(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / sio.LOCK_NAME).write_text(json.dumps({"pid": child.pid, "host": socket.gethostname()}))
        with pytest.raises(sio.LockedError, match=f"pid {child.pid}"):
            sio.RunLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
    assert json.loads((tmp_path / sio.LOCK_NAME).read_text())["pid"] == child.pid  # untouched


def _finished_pid() -> int:
    out = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


@pytest.mark.parametrize("content", ["json", "plain"])
def test_stale_lock_is_taken_over(tmp_path, content):
    pid = _finished_pid()
    lock = tmp_path / sio.LOCK_NAME
    lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname()}) if content == "json" else f"{pid}\n")
    with pytest.warns(sio.StaleLockWarning, match=f"pid {pid}"):
        with sio.RunLock(tmp_path):
            assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_lock_from_another_host_is_not_taken_over(tmp_path):
    (tmp_path / sio.LOCK_NAME).write_text(json.dumps({"pid": _finished_pid(), "host": "some-other-host"}))
    with pytest.raises(sio.LockedError, match="on host some-other-host"):
        sio.RunLock(tmp_path).acquire()


def test_release_does_not_remove_someone_elses_lock(tmp_path):
    lock = sio.RunLock(tmp_path).acquire()
    (tmp_path / sio.LOCK_NAME).write_text(json.dumps({"pid": 1, "host": socket.gethostname(), "token": "other"}))
    lock.release()
    assert (tmp_path / sio.LOCK_NAME).exists()


# --------------------------------------------------------------------------- checksums
def step_folder(root: Path) -> Path:
    sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 20)), root / "part-00000.parquet")
    sio.write_dataset(datasets.Dataset.from_list(make_rows(20, 40)), root / "sub" / "part-00001.parquet")
    sio.atomic_write_text(root / "report.json", '{"rows": 40}\n')
    (root / "_SUCCESS").touch()
    sio.write_checksums(root)
    return root


def test_checksums_clean_folder(tmp_path):
    root = step_folder(tmp_path / "step")
    record = json.loads((root / sio.CHECKSUMS_NAME).read_text())["files"]
    assert sorted(record) == ["part-00000.parquet", "report.json", "sub/part-00001.parquet"]
    assert record["report.json"]["sha256"] == sio.sha256_file(root / "report.json")
    assert sio.verify_checksums(root) == []
    (root / ".synthfilter.lock").write_text("1")  # hidden names are not data
    assert sio.verify_checksums(root) == []


def test_checksums_detect_changed_file(tmp_path):
    root = step_folder(tmp_path / "step")
    path = root / "report.json"
    path.write_text('{"rows": 41}\n')  # same size, other bytes
    problems = sio.verify_checksums(root)
    assert len(problems) == 1 and "report.json: changed" in problems[0]
    assert sio.verify_checksums(root, content=False) == []


def test_checksums_detect_truncated_file(tmp_path):
    root = step_folder(tmp_path / "step")
    path = root / "sub" / "part-00001.parquet"
    path.write_bytes(path.read_bytes()[:100])
    problems = sio.verify_checksums(root)
    assert len(problems) == 1 and "sub/part-00001.parquet: truncated" in problems[0]


def test_checksums_detect_extra_file(tmp_path):
    root = step_folder(tmp_path / "step")
    write_file(root / "part-00002.parquet", make_rows(0, 2))
    problems = sio.verify_checksums(root)
    assert len(problems) == 1 and "part-00002.parquet" in problems[0] and "added" in problems[0]


def test_checksums_detect_missing_file(tmp_path):
    root = step_folder(tmp_path / "step")
    (root / "part-00000.parquet").unlink()
    assert sio.verify_checksums(root) == ["part-00000.parquet: missing"]


def test_checksums_missing_record_and_explicit_files(tmp_path):
    root = tmp_path / "step"
    root.mkdir()
    assert "missing" in sio.verify_checksums(root)[0]
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    sio.write_checksums(root, [root / "a.txt"])
    assert sio.verify_checksums(root) == ["b.txt: not in _CHECKSUMS.json (added)"]
    with pytest.raises(ValueError, match="not inside"):
        sio.write_checksums(root, [tmp_path / "elsewhere.txt"])


def test_zst_without_zstandard_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "x.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard -> ImportError
    with pytest.raises(ValueError, match="x.jsonl.zst.*pip install zstandard"):
        sio.read_dataset(path)
    with pytest.raises(ValueError, match="pip install zstandard"):
        sio.write_dataset(datasets.Dataset.from_list(make_rows(0, 2)), tmp_path / "y.jsonl.zst")
    assert not (tmp_path / "y.jsonl.zst").exists()


def test_json_ids_at_or_above_two_to_the_63_are_read_exactly(tmp_path):
    from synthfilter.io import read_dataset

    ids = [2**63 + 5, 2**64 - 1, 7]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"id": {i}, "text": "t{i}"}}\n' for i in ids))
    assert read_dataset(path)["id"] == ids


def test_a_json_column_null_through_its_first_rows_is_typed_by_the_whole_file(tmp_path):
    from synthfilter.io import read_dataset

    path = tmp_path / "late.jsonl"
    rows = [{"text": "x" * 2000, "prov": None}] * 6000 + [{"text": "y", "prov": True}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = read_dataset(path)
    assert ds.num_rows == 6001 and ds["prov"][-1] is True


def test_a_lone_surrogate_escape_names_the_file_and_line(tmp_path):
    from synthfilter.io import read_dataset

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "broken \\ud800 here"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl.*line 2.*surrogate"):
        read_dataset(path)
