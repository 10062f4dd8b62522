"""Reservoir: a versioned, verifiable store of known-human text (synthfilter.reservoir)."""

import argparse
import hashlib
import json
import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthfilter.hashing import hash64
from synthfilter.io import LockedError, RunLock, read_dataset
from synthfilter.reservoir import (Reservoir, ReservoirVerifyReport, RowChange, RowRef, content_fingerprint,
                                   is_reservoir, open_reservoir, verify_reservoir)
from synthfilter.reservoir.cli import add_parser
from synthfilter.reservoir.manifest import SCHEMA

from .conftest import make_texts


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def texts(n: int, prefix: str = "t") -> list[str]:
    return [f"{prefix}{i}: " + t for i, t in enumerate(make_texts(n, "human", seed=len(prefix)))]


def filled(tmp_path, shard_rows: int = 4) -> Reservoir:
    """A reservoir with two versions: 10 texts of source 'a' (3 shards), then 5 of source 'b' (2 shards)."""
    res = Reservoir(tmp_path / "res", shard_rows=shard_rows)
    res.add(texts(10, "a"), source="a", licence="CC0", collected="2016-09-26")
    res.add(texts(5, "b"), source="b", licence="CC BY-SA 3.0", collected="2019-01-02")
    return res


def shard_path(res: Reservoir, index: int):
    return res.path / res.manifest()["shards"][index]["file"]


def rewrite(path, change) -> None:
    """Rewrite a shard with ``change(columns)`` applied to its columns (a dict of lists)."""
    columns = pq.read_table(path).to_pydict()
    change(columns)
    pq.write_table(pa.table(columns, schema=SCHEMA), path)


# --------------------------------------------------------------------------- add
def test_add_versions_and_dedupe(tmp_path):
    res = Reservoir(tmp_path / "res", shard_rows=4)
    assert (len(res), res.version, res.exists()) == (0, 0, False)
    first = texts(10, "a")
    version, report = res.add(first + [first[0], first[3]], source="a", licence="CC0", return_report=True)
    assert version == 1 and res.version == 1 and len(res) == 10
    assert (report.rows_in, report.rows_added, report.rows_skipped_repeated, report.rows_skipped_existing) == (12, 10, 2, 0)
    assert [s["rows"] for s in res.manifest()["shards"]] == [4, 4, 2]

    second = texts(3, "b")
    version, report = res.add(second + first[:5], source="b", licence="MIT", return_report=True)
    assert version == 2 and len(res) == 13
    assert (report.rows_added, report.rows_skipped_existing, report.rows_skipped_repeated) == (3, 5, 0)
    entry = res.versions()[-1]
    assert (entry["version"], entry["rows_added"], entry["rows_skipped_existing"], entry["source"],
            entry["licence"]) == (2, 3, 5, "b", "MIT")
    assert res.texts() == first + second
    assert first[2] in res and "never stored" not in res

    before = res.manifest_path.read_bytes()
    version, report = res.add(first[:2] + second, source="c", licence="CC0", return_report=True)
    assert version == 2 and report.rows_added == 0 and report.rows_skipped_existing == 5
    assert res.manifest_path.read_bytes() == before  # nothing new: nothing written
    assert "nothing new" in str(report)
    assert res.sources() == {"a": 10, "b": 3} and res.licences() == {"CC0": 10, "MIT": 3}


def test_add_from_dataset_and_path(tmp_path):
    ds = datasets.Dataset.from_dict({"body": ["one text", "two text"], "other": [1, 2]})
    res = Reservoir(tmp_path / "res")
    assert res.add(ds, source="s", licence="CC0", text_column="body") == 1
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in ["two text", "three text"]) + "\n")
    assert res.add(path, source="s", licence="CC0") == 2
    assert res.texts() == ["one text", "two text", "three text"]
    assert res.versions()[1]["input"] == str(path)
    assert res.dataset().column_names == ["text", "sha256", "source", "licence", "collected", "version"]


def test_collected_forms(tmp_path):
    res = Reservoir(tmp_path / "res")
    res.add(["a1"], source="s", licence="l", collected=date(2016, 9, 26))
    res.add(["a2"], source="s", licence="l", collected=datetime(2020, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))))
    res.add(["a3"], source="s", licence="l", collected="2021-03-04T10:00:00Z")
    res.add(["a4"], source="s", licence="l")
    assert res.dataset()["collected"][:3] == ["2016-09-26", "2020-01-02", "2021-03-04"]
    assert res.dataset()["collected"][3] == datetime.now(timezone.utc).date().isoformat()


def test_dataset_as_of_version(tmp_path):
    res = filled(tmp_path)
    v1 = res.dataset(1)
    assert v1["text"] == texts(10, "a") and set(v1["version"]) == {1} and set(v1["source"]) == {"a"}
    assert set(v1["licence"]) == {"CC0"} and set(v1["collected"]) == {"2016-09-26"}
    assert v1["sha256"] == [sha(t) for t in v1["text"]]
    assert res.dataset(0).num_rows == 0 and res.dataset(0).column_names == v1.column_names
    assert res.dataset().num_rows == 15 and res.dataset(2)["text"] == res.texts()
    assert res.dataset(source="b")["text"] == texts(5, "b")
    assert res.texts(1, source="a") == texts(10, "a")
    assert res.sources(1) == {"a": 10}
    assert [v["fingerprint"] for v in res.versions()] == [content_fingerprint(sha(t) for t in res.texts(v))
                                                         for v in (1, 2)]


def test_fingerprint_stable_and_order_independent(tmp_path):
    data = texts(12, "f")
    one = Reservoir(tmp_path / "one", shard_rows=5)
    one.add(data, source="s", licence="l")
    two = Reservoir(tmp_path / "two", shard_rows=3)
    two.add(list(reversed(data[6:])), source="x", licence="y")
    two.add(data[:6][::-1] + data[:2], source="z", licence="w")
    assert one.fingerprint == two.fingerprint
    expected = hashlib.sha256("".join(h + "\n" for h in sorted(sha(t) for t in data)).encode()).hexdigest()
    assert one.fingerprint == expected
    assert Reservoir(one.path).fingerprint == expected  # read back from disk
    three = Reservoir(tmp_path / "three")
    three.add(data[:-1], source="s", licence="l")
    assert three.fingerprint != one.fingerprint
    assert Reservoir(tmp_path / "empty").fingerprint == hashlib.sha256(b"").hexdigest()


# --------------------------------------------------------------------------- sample
def test_sample_is_the_smallest_hashes_in_reservoir_order(tmp_path):
    res = filled(tmp_path)
    all_texts = res.texts()
    for seed in (0, 7):
        got = res.sample(6, seed=seed)
        smallest = sorted(all_texts, key=lambda t: hash64(seed, sha(t)))[:6]
        assert set(got["text"]) == set(smallest)
        assert got["text"] == [t for t in all_texts if t in set(smallest)]  # reservoir order
    assert res.sample(6, seed=0)["text"] == res.sample(6, seed=0)["text"]
    assert Reservoir(res.path).sample(6, seed=0)["text"] == res.sample(6, seed=0)["text"]
    assert res.sample(6, seed=0)["text"] != res.sample(6, seed=1)["text"]
    assert res.sample(0).num_rows == 0 and res.sample(15).num_rows == 15


def test_sample_subset_stable_and_filters(tmp_path):
    res = filled(tmp_path)
    for n in range(1, 15):
        assert set(res.sample(n, seed=3)["text"]) <= set(res.sample(n + 1, seed=3)["text"])
    assert set(res.sample(4, source="b", seed=3)["source"]) == {"b"}
    assert set(res.sample(10, version=1)["version"]) == {1}
    with pytest.raises(ValueError, match=r"n=16 is more than the 15 rows available"):
        res.sample(16)
    with pytest.raises(ValueError, match=r"n=6 is more than the 5 rows available .*source 'b'"):
        res.sample(6, source="b")
    with pytest.raises(ValueError, match=r"n=11 .* 10 rows .* as of version 1"):
        res.sample(11, version=1)
    with pytest.raises(ValueError, match=r"source 'zzz' is not in the reservoir; its sources are \['a', 'b'\]"):
        res.sample(1, source="zzz")
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="n must be an integer >= 0"):
            res.sample(bad)
    with pytest.raises(ValueError, match="seed must be an integer"):
        res.sample(1, seed="x")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=25, unique=True),
       st.integers(0, 2**32), st.data())
def test_sample_depends_only_on_content_and_seed(data, seed, draw):
    """Same texts added in another order, in other versions and shards: the same sample, nested in larger ones."""
    order = draw.draw(st.permutations(data))
    split = draw.draw(st.integers(0, len(data)))
    n = draw.draw(st.integers(0, len(data)))
    with tempfile.TemporaryDirectory() as tmp:
        a = Reservoir(f"{tmp}/a", shard_rows=4)
        a.add(data, source="s", licence="l")
        b = Reservoir(f"{tmp}/b", shard_rows=3)
        for part in (order[:split], order[split:]):
            if part:
                b.add(part, source="s", licence="l")
        sample = set(a.sample(n, seed=seed)["text"])
        assert sample == set(b.sample(n, seed=seed)["text"])
        assert len(sample) == n
        assert sample <= set(a.sample(len(data), seed=seed)["text"]) == set(data)
        if n < len(data):
            assert sample <= set(a.sample(n + 1, seed=seed)["text"])


# --------------------------------------------------------------------------- verify
def test_verify_fresh_reservoir_is_ok(tmp_path):
    res = filled(tmp_path)
    report = res.verify()
    assert isinstance(report, ReservoirVerifyReport) and report.ok, str(report)
    assert (report.version, report.rows, report.fingerprint) == (2, 15, res.fingerprint)
    assert "OK" in str(report) and report.to_dict()["ok"] is True
    assert res.verify(fingerprint=res.fingerprint).ok
    wrong = res.verify(fingerprint="0" * 64)
    assert not wrong.ok and "expected 000" in wrong.manifest_problems[0]


def test_verify_detects_edited_text_even_with_its_sha256_column_updated(tmp_path):
    res = filled(tmp_path)
    path = shard_path(res, 1)
    old = res.manifest()["shards"][1]["row_sha256"][2]

    def edit(cols):
        cols["text"][2] = cols["text"][2] + " (edited)"
        cols["sha256"][2] = sha(cols["text"][2])  # a careful tamperer fixes the shard's own column

    rewrite(path, edit)
    report = res.verify()
    assert not report.ok
    name = res.manifest()["shards"][1]["file"]
    edited = pq.read_table(path).column("text")[2].as_py()
    assert report.changed == [RowChange(name, 2, old, sha(edited))]
    assert report.added == [] and report.removed == [] and report.metadata_mismatches == []
    assert report.checksum_mismatches and name in report.checksum_mismatches[0]
    assert "changed" in "\n".join(report.summary_lines())
    with pytest.raises(ValueError, match="changed since it was written"):
        res.dataset()
    with pytest.raises(ValueError, match="changed since it was written"):
        res.texts()


def test_verify_detects_added_row(tmp_path):
    res = filled(tmp_path)
    path = shard_path(res, 2)  # the last shard of version 1 holds 2 rows

    def append(cols):
        cols["text"].append("slipped in")
        cols["sha256"].append(sha("slipped in"))
        for key in ("source", "licence", "collected", "version"):
            cols[key].append(cols[key][0])

    rewrite(path, append)
    report = res.verify()
    assert not report.ok
    assert report.added == [RowRef(res.manifest()["shards"][2]["file"], 2, sha("slipped in"))]
    assert report.changed == [] and report.removed == []


def test_verify_detects_removed_row(tmp_path):
    res = filled(tmp_path)
    path = shard_path(res, 0)
    gone = res.manifest()["shards"][0]["row_sha256"][1]
    rewrite(path, lambda cols: [values.pop(1) for values in cols.values()])
    report = res.verify()
    assert not report.ok
    assert report.removed == [RowRef(res.manifest()["shards"][0]["file"], 1, gone)]
    assert report.changed == [] and report.added == []


def test_verify_detects_deleted_and_extra_shards(tmp_path):
    res = filled(tmp_path)
    shard = res.manifest()["shards"][3]
    (res.path / shard["file"]).unlink()
    report = res.verify()
    assert report.missing_shards == [shard["file"]]
    assert [r.sha256 for r in report.removed] == shard["row_sha256"]
    with pytest.raises(FileNotFoundError, match="missing"):
        res.dataset()
    assert res.dataset(1).num_rows == 10  # version 1 does not need that shard

    res2 = filled(tmp_path / "second")
    extra = res2.path / "shards" / "v000009-00000.parquet"
    shutil.copy(shard_path(res2, 0), extra)
    (res2.path / "notes.txt").write_text("hello")
    report = res2.verify()
    assert not report.ok and report.missing_shards == []
    assert report.extra_files == ["notes.txt", "shards/v000009-00000.parquet"]
    assert [r.shard for r in report.added] == ["shards/v000009-00000.parquet"] * 4


def test_verify_detects_manifest_and_metadata_problems(tmp_path):
    res = filled(tmp_path)
    rewrite(shard_path(res, 4), lambda cols: cols["source"].__setitem__(0, "c"))
    report = res.verify()
    assert report.changed == [] and report.checksum_mismatches
    assert report.metadata_mismatches == [f"{res.manifest()['shards'][4]['file']}: 1 row(s) whose 'source' is not "
                                          f"'b' as the manifest records"]

    manifest = json.loads(res.manifest_path.read_text())
    manifest["shards"][0]["row_sha256"][0] = "0" * 64  # edited manifest: fingerprint no longer matches
    res.manifest_path.write_text(json.dumps(manifest))
    problems = res.verify().manifest_problems
    assert any("fingerprint" in p for p in problems)

    res.manifest_path.write_text("{not json")
    report = verify_reservoir(res.path)
    assert not report.ok and "not a readable reservoir manifest" in report.manifest_problems[0]
    with pytest.raises(ValueError, match="not a readable reservoir manifest"):
        len(res)
    res.manifest_path.unlink()
    assert verify_reservoir(res.path).manifest_problems == ["manifest.json is missing"]
    assert not verify_reservoir(tmp_path / "nowhere").ok


def test_verify_detects_rewritten_shard_with_same_rows(tmp_path):
    res = filled(tmp_path)
    path = shard_path(res, 0)
    pq.write_table(pq.read_table(path), path, compression="none")  # same rows, other bytes
    report = res.verify()
    assert not report.ok and len(report.checksum_mismatches) == 1
    assert report.changed == report.added == report.removed == []


def test_crashed_add_leftover_is_flagged_then_replaced(tmp_path):
    res = filled(tmp_path)
    leftover = res.path / "shards" / "v000003-00000.parquet"
    leftover.write_bytes(b"half a parquet file")
    assert res.verify().extra_files == ["shards/v000003-00000.parquet"]
    assert res.add(["after the crash"], source="a", licence="CC0") == 3
    assert res.verify().ok


# --------------------------------------------------------------------------- errors
def test_bad_arguments(tmp_path):
    res = Reservoir(tmp_path / "res")
    for kwargs, message in [
        ({"source": "", "licence": "l"}, "source must be a non-empty string"),
        ({"source": "s", "licence": None}, "licence must be a non-empty string"),
        ({"source": "s", "licence": "l", "collected": "last year"}, "collected must be a date"),
        ({"source": "s", "licence": "l", "collected": 2016}, "collected must be a date"),
        ({"source": "s", "licence": "l", "note": 3}, "note must be a string"),
    ]:
        with pytest.raises(ValueError, match=message):
            res.add(["fine"], **kwargs)
    with pytest.raises(ValueError, match=r"data: 2 of 4 rows are null, empty, blank or not strings \(first at row 1"):
        res.add(["ok", None, "  ", "ok2"], source="s", licence="l")
    ds = datasets.Dataset.from_dict({"body": ["x", "", "y"]})
    with pytest.raises(ValueError, match=r"column 'body': 1 of 3 rows"):
        res.add(ds, source="s", licence="l", text_column="body")
    with pytest.raises(ValueError, match=r"column 'text' not found .* \['body'\]"):
        res.add(ds, source="s", licence="l")
    with pytest.raises(ValueError, match="lone surrogate"):
        res.add(["bad \ud800"], source="s", licence="l")
    with pytest.raises(ValueError, match="no rows to add"):
        res.add([], source="s", licence="l")
    with pytest.raises(TypeError, match="data must be a datasets.Dataset"):
        res.add(42, source="s", licence="l")
    assert not res.path.exists()  # nothing was written by any failed add
    res.add(["fine"], source="s", licence="l")
    for bad in (2, -1, 1.0, True):
        with pytest.raises(ValueError, match=r"version must be an integer from 0 to 1"):
            res.dataset(bad)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "data.jsonl").write_text("{}\n")
    with pytest.raises(ValueError, match="holds files but no manifest.json"):
        Reservoir(tmp_path / "foreign")
    with pytest.raises(ValueError, match="is a file"):
        Reservoir(tmp_path / "foreign" / "data.jsonl")
    with pytest.raises(ValueError, match="shard_rows"):
        Reservoir(tmp_path / "new", shard_rows=0)


def test_open_create_and_is_reservoir(tmp_path):
    with pytest.raises(FileNotFoundError, match="no reservoir at"):
        open_reservoir(tmp_path / "res")
    assert not is_reservoir(tmp_path / "res")
    res = Reservoir.create(tmp_path / "res")
    assert is_reservoir(res.path) and res.version == 0 and res.verify().ok
    with pytest.raises(ValueError, match="already is a reservoir"):
        Reservoir.create(tmp_path / "res")
    res.add(["x1"], source="s", licence="l")
    assert len(open_reservoir(tmp_path / "res")) == 1


def test_concurrent_add_is_refused_by_the_lock(tmp_path):
    res = filled(tmp_path)
    before = res.manifest_path.read_bytes()
    with RunLock(res.path):
        with pytest.raises(LockedError):
            Reservoir(res.path).add(["another writer"], source="s", licence="l")
        assert (res.path / ".synthfilter.lock").exists() and res.verify().ok  # readers need no lock
    assert res.manifest_path.read_bytes() == before
    assert res.add(["another writer"], source="s", licence="l") == 3  # lock released
    assert res.verify().ok  # the lock file is not counted as an extra file


# --------------------------------------------------------------------------- command line
def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="synthfilter")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_cli_round_trip(tmp_path, capsys):
    data = tmp_path / "human.jsonl"
    corpus = texts(20, "cli")
    data.write_text("".join(json.dumps({"body": t, "id": i}) + "\n" for i, t in enumerate(corpus)))
    res_dir = str(tmp_path / "res")
    assert run_cli("reservoir", "add", res_dir, str(data), "--source", "wiki", "--license", "CC BY-SA 3.0",
                   "--collected", "2016-09-26", "--text-column", "body", "--note", "test build") == 0
    assert "version 1 adds 20 of 20 rows" in capsys.readouterr().out
    assert run_cli("reservoir", "add", res_dir, str(data), "--source", "wiki", "--licence", "x",
                   "--text-column", "body") == 0
    assert "nothing new" in capsys.readouterr().out

    assert run_cli("reservoir", "list", res_dir) == 0
    out = capsys.readouterr().out
    assert "version 1, 20 rows" in out and "wiki / CC BY-SA 3.0 / test build" in out and "2016-09-26" in out
    assert run_cli("reservoir", "list", res_dir, "--json") == 0
    assert json.loads(capsys.readouterr().out)["sources"] == {"wiki": 20}

    assert run_cli("reservoir", "verify", res_dir) == 0
    assert "OK" in capsys.readouterr().out

    out_file = tmp_path / "sample.jsonl"
    assert run_cli("reservoir", "sample", res_dir, str(out_file), "-n", "7", "--seed", "5") == 0
    assert "wrote 7 rows" in capsys.readouterr().out
    assert read_dataset(out_file)["text"] == Reservoir(res_dir).sample(7, seed=5)["text"]
    with pytest.raises(ValueError, match="n=21 is more than the 20 rows"):
        run_cli("reservoir", "sample", res_dir, str(tmp_path / "big.jsonl"), "-n", "21")
    with pytest.raises(ValueError, match="inside the input folder"):
        run_cli("reservoir", "sample", res_dir, str(tmp_path / "res" / "s.jsonl"), "-n", "1")

    rewrite(shard_path(Reservoir(res_dir), 0), lambda cols: cols["text"].__setitem__(4, "tampered"))
    assert run_cli("reservoir", "verify", res_dir) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "row 4" in out
    assert run_cli("reservoir", "verify", res_dir, "--json") == 1
    assert json.loads(capsys.readouterr().out)["changed"][0]["row"] == 4

    with pytest.raises(FileNotFoundError, match="no reservoir at"):
        run_cli("reservoir", "list", str(tmp_path / "missing"))
    assert run_cli("reservoir", "verify", str(tmp_path / "missing")) == 1
