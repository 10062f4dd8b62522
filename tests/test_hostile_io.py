"""Reading hostile input files exactly, or refusing them with the file, line and what was expected (issue 30)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import datasets
import pytest

from synthfilter import io as sio
from synthfilter.cli import main

ENGLISH = ("The committee reviewed the proposal in detail and concluded that the new approach would improve "
           "reliability, reduce maintenance costs and make the service easier to operate.")


def _jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- values read as written
MIXED = [{"id": 0, "text": "null"}, {"id": 1, "text": "42"}, {"id": 2, "text": '"hi"'}, {"id": 3, "text": 5},
         {"id": 4, "text": ENGLISH}, {"id": 5, "text": None}, {"id": 6, "text": "[1, 2]"}, {"id": 7, "text": [1, 2]}]


def test_a_column_mixing_strings_and_numbers_is_read_exactly(tmp_path):
    ds = sio.read_dataset(_jsonl(tmp_path / "in.jsonl", MIXED))
    assert ds["text"] == [r["text"] for r in MIXED]
    assert [type(v) for v in ds["text"]] == [type(r["text"]) for r in MIXED]


def test_a_mixed_column_is_written_back_exactly_by_tag(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", MIXED)
    assert main(["tag", str(src), str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["text"] for r in out] == [r["text"] for r in MIXED]
    reasons = {r["id"]: r["sf_reason"] for r in out}
    assert reasons[3] == reasons[5] == reasons[7] == "not_text"  # numbers, null, lists
    assert reasons[1] == "empty" and reasons[4] == ""  # the string "42" has no letter; English is scored


def test_files_where_one_mixes_types_are_joined_exactly(tmp_path):
    _jsonl(tmp_path / "in" / "a.jsonl", [{"id": 10, "text": "null"}, {"id": 11, "text": "plain"}])
    _jsonl(tmp_path / "in" / "b.jsonl", MIXED)
    ds = sio.read_dataset(tmp_path / "in")
    assert ds["text"] == ["null", "plain"] + [r["text"] for r in MIXED]


def test_group_values_1_and_the_string_1_and_null_and_the_string_null_stay_apart(tmp_path):
    from synthfilter import enforce_quota

    rows = [{"id": i, "sf_label": "synthetic" if i % 10 < 3 else "human", "g": ["1", 1, "<null>", None][i % 4]}
            for i in range(800)]
    ds = sio.read_dataset(_jsonl(tmp_path / "in.jsonl", rows))
    kept, report = enforce_quota(ds, 0.1, by="g", id_column="id", return_report=True)
    groups = report.to_dict()["groups"]
    assert len(groups) == 4 and all(sum(g["before"].values()) == 200 for g in groups.values())
    for value in ("1", 1, "<null>", None):
        mine = [r for r in kept if r["g"] == value and type(r["g"]) is type(value)]
        share = sum(r["sf_label"] == "synthetic" for r in mine) / len(mine)
        assert share <= 0.1 + 1e-9, (value, share)


# --------------------------------------------------------------------------- refused with file and line
def test_invalid_utf8_in_jsonl_names_the_file_and_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": 1, "text": "fine"}\n{"id": 2, "text": "caf\xe9 au lait"}\n')
    with pytest.raises(ValueError, match=r"in\.jsonl.*line 2: not UTF-8 text \(byte 0xe9"):
        sio.read_dataset(path)


def test_invalid_utf8_in_csv_names_the_file_and_line(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,text\n1,fine\n2,caf\xe9\n")
    with pytest.raises(ValueError, match=r"in\.csv.*line 3: not UTF-8 text"):
        sio.read_dataset(path)


def test_utf16_jsonl_is_refused_as_utf16(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes('{"id": 1, "text": "hello"}\n'.encode("utf-16"))
    with pytest.raises(ValueError, match=r"in\.jsonl.*UTF-16 byte-order mark"):
        sio.read_dataset(path)


@pytest.mark.parametrize("lines", [['{"id": 1, "text": "a", "text": "b"}'],
                                   ['{"id": 0, "text": "x"}', '{"id": 1, "text": "a", "text": "b"}']])
def test_duplicate_json_keys_name_the_key_and_line(tmp_path, lines):
    path = _jsonl(tmp_path / "in.jsonl", lines)
    with pytest.raises(ValueError, match=rf"line {len(lines)}: the key 'text' appears twice"):
        sio.read_dataset(path)


def test_ids_beyond_64_bits_name_the_value(tmp_path):
    path = _jsonl(tmp_path / "in.jsonl", [{"id": 2**63 + 1, "text": "a"}, {"id": 2**64, "text": "b"}])
    with pytest.raises(ValueError, match=r"'id'.*18446744073709551616 of row 2 is beyond the unsigned 64-bit range"):
        sio.read_dataset(path)


def test_an_unreadable_subfolder_is_named(tmp_path, monkeypatch):
    _jsonl(tmp_path / "in" / "a.jsonl", [{"text": "a"}])
    (tmp_path / "in" / "locked").mkdir()
    real = os.listdir

    def listdir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "listdir", listdir)
    with pytest.raises(ValueError, match=r"in/locked: cannot list this input folder: Permission denied"):
        sio.read_dataset(tmp_path / "in")


# --------------------------------------------------------------------------- what a folder read takes
def test_a_file_reached_twice_in_a_folder_is_read_once(tmp_path):
    src = _jsonl(tmp_path / "in" / "a.jsonl", [{"id": i, "text": "x"} for i in range(10)])
    (tmp_path / "in" / "b.jsonl").symlink_to(src)
    os.link(src, tmp_path / "in" / "c.jsonl")
    with pytest.warns(UserWarning, match="the same file as"):
        ds = sio.read_dataset(tmp_path / "in")
    assert ds["id"] == list(range(10))


def test_a_symlink_to_a_file_outside_the_folder_is_read(tmp_path):
    outside = _jsonl(tmp_path / "ext.jsonl", [{"id": 1, "text": "x"}])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ext.jsonl").symlink_to(outside)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sio.read_dataset(tmp_path / "in")["id"] == [1]


def test_a_reservoir_is_not_read_as_plain_parquet(tmp_path):
    from synthfilter import Reservoir

    res = Reservoir(tmp_path / "res")
    res.add([ENGLISH + f" {i}" for i in range(5)], source="s", licence="l")
    with pytest.raises(ValueError, match="is a synthfilter reservoir"):
        sio.read_dataset(tmp_path / "res")
    (tmp_path / "res" / "manifest.json").unlink()
    with pytest.raises(ValueError, match="manifest.json is missing, so the shards cannot be verified"):
        sio.read_dataset(tmp_path / "res")
    (tmp_path / "res" / "manifest.json").write_text("{broken")
    with pytest.raises(ValueError, match="manifest.json is unreadable"):
        sio.read_dataset(tmp_path / "res")


def test_a_reservoir_without_manifest_is_refused_as_a_reference(tmp_path, capsys):
    from synthfilter import Reservoir

    res = Reservoir(tmp_path / "res")
    res.add([ENGLISH + f" {i}" for i in range(30)], source="s", licence="l")
    (tmp_path / "res" / "manifest.json").unlink()
    src = _jsonl(tmp_path / "in.jsonl", [{"text": ENGLISH + f" row {i}"} for i in range(30)])
    assert main(["estimate", str(src), "--reference", str(tmp_path / "res")]) == 2
    assert "cannot be verified" in capsys.readouterr().err


# --------------------------------------------------------------------------- write errors name the path
def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    ds = datasets.Dataset.from_dict({"text": ["a", "b"]})

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datasets.Dataset, "to_parquet", full)
    with pytest.raises(OSError, match=r"cannot write .*out\.parquet: No space left on device"):
        sio.write_dataset(ds, tmp_path / "out.parquet")
    assert sorted(os.listdir(tmp_path)) == []  # no temporary file left


def test_a_full_disk_leaves_no_empty_lock(tmp_path, monkeypatch):
    real = os.write

    def full(fd, data):
        if data.startswith(b'{"pid"'):
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match=r"cannot write the run lock .*\.synthfilter\.lock: No space left"):
        sio.RunLock(tmp_path / "out").acquire()
    assert not (tmp_path / "out" / ".synthfilter.lock").exists()
    monkeypatch.setattr(os, "write", real)
    with sio.RunLock(tmp_path / "out"):  # the next run is not blocked
        assert (tmp_path / "out" / ".synthfilter.lock").exists()


def test_a_file_named_gzip_that_is_not_is_named(tmp_path):
    path = tmp_path / "in.jsonl.gz"
    path.write_text('{"id": 1, "text": "a"}\n')
    with pytest.raises(ValueError, match=r"in\.jsonl\.gz: its name says gzip-compressed but its bytes are not"):
        sio.read_dataset(path)


def test_a_parquet_file_without_rows_beside_a_data_file_is_skipped(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _jsonl(tmp_path / "in" / "a.jsonl", [{"id": 1, "text": "a"}])
    pq.write_table(pa.table({"id": pa.array([], pa.int64()), "text": pa.array([], pa.string())}),
                   tmp_path / "in" / "b.parquet")
    assert sio.read_dataset(tmp_path / "in")["id"] == [1]


def test_resample_size_errors_are_in_command_line_terms(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": i, "text": f"{ENGLISH} {i}"} for i in range(20)])
    assert main(["resample", str(src), str(tmp_path / "a.jsonl"), "--size", "0", "--embedder", "hashing"]) == 2
    assert "--size must be at least 1 row" in capsys.readouterr().err and not (tmp_path / "a.jsonl").exists()
    assert main(["resample", str(src), str(tmp_path / "b.jsonl"), "--size", "50", "--embedder", "hashing"]) == 2
    err = capsys.readouterr().err
    assert "--size 50 is larger than the 20 usable rows" in err and "(or --replace)" in err
