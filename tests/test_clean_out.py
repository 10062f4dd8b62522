"""``clean``'s output folder: whose files it touches, what a killed run leaves, stale steps (issue 30)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthfilter.cli import main
from synthfilter.pipeline import CleanConfig, clean, step_folder
from synthfilter.pipeline.outdir import owned, remove_leftovers
from tests.conftest import make_texts


def _input(path: Path, n: int = 300) -> Path:
    texts = make_texts(n // 2, "human", seed=11) + make_texts(n - n // 2, "ai", seed=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


def _cfg(**kw) -> CleanConfig:
    return CleanConfig(**{"max_synthetic": 0.1, "resample": 60, "embedder": "hashing", "batch_size": 100,
                          "basis": "labels", **kw})


def test_a_folder_clean_did_not_write_is_refused_and_left_as_it_was(tmp_path, capsys):
    src = _input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("output.jsonl", "report.json", "manifest.json", "notes.txt"):
        (out / name).write_text("mine\n")
    (out / "steps").mkdir()
    (out / "steps" / "keep.txt").write_text("mine\n")
    assert main(["clean", str(src), str(out), "--max-synthetic", "0.1", "--resample", "60",
                 "--embedder", "hashing", "--basis", "labels"]) == 2
    err = capsys.readouterr().err
    assert "an earlier clean run did not write" in err and "notes.txt" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "manifest.json", "notes.txt", "output.jsonl", "report.json", "steps", "steps/keep.txt"]
    assert all(p.read_text() == "mine\n" for p in out.rglob("*") if p.is_file())


def test_an_output_that_is_a_file_is_refused_clearly(tmp_path):
    src = _input(tmp_path / "in.jsonl")
    (tmp_path / "out").write_text("a file")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        clean(src, tmp_path / "out", _cfg(), progress=False)


def test_a_rerun_touches_only_its_own_files(tmp_path):
    src = _input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    clean(src, out, _cfg(), progress=False)
    mine = {"notes.txt": "user\n", "output.notes": "user\n", "dropped/readme.md": "user\n",
            "steps/readme.md": "user\n"}
    for name, text in mine.items():
        (out / name).write_text(text)
    clean(src, out, _cfg(resample=50), progress=False)
    assert {name: (out / name).read_text() for name in mine} == mine
    assert len((out / "output.jsonl").read_text().splitlines()) == 50


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path):
    src = _input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    clean(src, out, _cfg(), progress=False)
    left = [out / ".output.jsonl.tmp-4242-a1b2c3", out / ".report.json.tmp-4242-000fff",
            out / "dropped" / f".{step_folder('quota')}.jsonl.tmp-4242-abcdef"]
    for path in left:
        path.write_text("half")
    (out / "steps" / f".tmp-{step_folder('embed')}").mkdir()
    (out / ".hidden-by-user").write_text("keep")
    clean(src, out, _cfg(), progress=False)
    assert not any(p.exists() for p in left) and not (out / "steps" / f".tmp-{step_folder('embed')}").exists()
    assert (out / ".hidden-by-user").read_text() == "keep"


def test_owned_names():
    assert owned("output.jsonl") and owned("output-00001-of-00003.parquet") and owned("report.html")
    assert not owned("output.jsonl.bak") and not owned("notes.txt") and not owned("output.csv")
    assert owned(step_folder("embed"), "steps") and not owned("readme", "steps")
    assert owned(step_folder("quota") + ".jsonl", "dropped") and not owned("readme.md", "dropped")


def test_remove_leftovers_reports_what_it_removed(tmp_path):
    (tmp_path / ".x.jsonl.tmp-1-ab").write_text("")
    (tmp_path / ".x.jsonl").write_text("")
    assert remove_leftovers(tmp_path) == [".x.jsonl.tmp-1-ab"] and (tmp_path / ".x.jsonl").exists()


def test_a_hidden_parquet_in_a_finished_step_folder_is_never_read(tmp_path):
    src = _input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    first = clean(src, out, _cfg(), progress=False)
    step = out / "steps" / step_folder("resample")
    rows = pq.read_table(next(step.glob("part-*.parquet")))
    pq.write_table(rows, step / ".stray.parquet")  # hidden: not in the checksums, not counted as added
    again = clean(src, out, _cfg(), progress=False)
    assert again["steps"]["resample"]["resumed"] and again["rows_out"] == first["rows_out"] == 60
    assert len((out / "output.jsonl").read_text().splitlines()) == 60


def test_a_detector_replaced_at_the_same_path_reruns_tagging(tmp_path):
    from synthfilter.detect import FastDetector

    src = _input(tmp_path / "in.jsonl")
    human, ai = make_texts(200, "human", seed=1), make_texts(200, "ai", seed=1)
    det = FastDetector().fit(human + ai, ["human"] * 200 + ["ai"] * 200)
    det.save(tmp_path / "d.npz")
    out = tmp_path / "out"
    first = clean(src, out, _cfg(detector=str(tmp_path / "d.npz")), progress=False)
    det.threshold_ = 0.999999  # almost nothing synthetic now
    det.save(tmp_path / "d.npz")
    with pytest.warns(UserWarning, match=step_folder("tag") + " made with another configuration or input"):
        again = clean(src, out, _cfg(detector=str(tmp_path / "d.npz")), progress=False)
    assert not again["steps"]["tag"].get("resumed")
    assert again["steps"]["tag"]["labels"] != first["steps"]["tag"]["labels"]
    assert again["steps"]["tag"]["labels"].get("synthetic", 0) <= 3


def test_steps_are_read_from_their_checksum_list(tmp_path):
    from synthfilter.engines import LocalEngine
    from synthfilter.io import write_checksums

    pq.write_table(pa.table({"i": [1, 2]}), tmp_path / "part-00000.parquet")
    write_checksums(tmp_path)
    pq.write_table(pa.table({"i": [3]}), tmp_path / "part-00001.parquet")  # added afterwards
    pq.write_table(pa.table({"i": [4]}), tmp_path / ".hidden.parquet")
    assert LocalEngine().read(tmp_path)["i"] == [1, 2]
    os.remove(tmp_path / "_CHECKSUMS.json")
    with pytest.raises(ValueError, match="no readable list of the folder's files"):
        LocalEngine().read(tmp_path)
