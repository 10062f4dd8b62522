"""One output guard for every command and every file it writes, symlinks resolved (issue 30)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthfilter import io as sio
from synthfilter.cli import main
from tests.conftest import make_texts


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rows(n: int = 40) -> list[dict]:
    return [{"id": i, "text": t, "sf_label": "synthetic" if i % 3 == 0 else "human"}
            for i, t in enumerate(make_texts(n, "human"))]


def test_a_file_symlinked_into_the_input_folder_is_the_input(tmp_path, capsys):
    ext = _jsonl(tmp_path / "ext.jsonl", _rows())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ext.jsonl").symlink_to("../ext.jsonl")
    before = ext.read_bytes()
    with pytest.raises(ValueError, match=r"is the input file .*ext\.jsonl"):
        sio.check_output(tmp_path / "in", ext)
    assert main(["tag", str(tmp_path / "in"), str(ext)]) == 2
    assert "is the input" in capsys.readouterr().err and ext.read_bytes() == before


def test_an_output_under_a_folder_the_input_reaches_by_symlink_is_refused(tmp_path):
    _jsonl(tmp_path / "data" / "a.jsonl", _rows())
    (tmp_path / "in").mkdir()
    _jsonl(tmp_path / "in" / "b.jsonl", _rows())
    (tmp_path / "in" / "sub").symlink_to(tmp_path / "data")
    with pytest.raises(ValueError, match=r"inside the input folder .*in \(it reads .*data, through a symlink\)"):
        sio.check_output(tmp_path / "in", tmp_path / "data" / "out")


def test_an_output_folder_holding_a_file_the_input_links_to_is_refused(tmp_path):
    _jsonl(tmp_path / "elsewhere" / "x.jsonl", _rows())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.jsonl").symlink_to(tmp_path / "elsewhere" / "x.jsonl")
    with pytest.raises(ValueError, match="contains the input"):
        sio.check_output(tmp_path / "in", tmp_path / "elsewhere")


@pytest.mark.parametrize("command", ["quota", "resample"])
def test_a_report_name_that_is_the_input_is_refused(tmp_path, capsys, command):
    # the report goes to OUT.<command>.json: here that is the input itself
    src = _jsonl(tmp_path / f"out.jsonl.{command}.json", _rows())
    before = src.read_bytes()
    args = (["--max-synthetic", "0.1"] if command == "quota" else ["--size", "10", "--embedder", "hashing"])
    assert main([command, str(src), str(tmp_path / "out.jsonl"), *args]) == 2
    assert "is the input" in capsys.readouterr().err
    assert src.read_bytes() == before and not (tmp_path / "out.jsonl").exists()


def test_estimate_json_may_not_overwrite_the_reference(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", _rows())
    ref = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in make_texts(30, "human", seed=4)])
    before = ref.read_bytes()
    assert main(["estimate", str(src), "--reference", str(ref), "--json", str(ref)]) == 2
    assert "is the input" in capsys.readouterr().err and ref.read_bytes() == before


def test_clean_may_not_write_inside_a_folder_the_input_reaches_by_symlink(tmp_path, capsys):
    _jsonl(tmp_path / "data" / "a.jsonl", _rows(60))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "sub").symlink_to(tmp_path / "data")
    assert main(["clean", str(tmp_path / "in"), str(tmp_path / "data" / "out"), "--max-synthetic", "0.1",
                 "--resample", "10", "--embedder", "hashing", "--basis", "labels"]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["a.jsonl"]


def test_outputs_beside_the_input_are_still_allowed(tmp_path):
    src = _jsonl(tmp_path / "data" / "in.jsonl", _rows())
    sio.check_output(src, tmp_path / "data" / "out.jsonl", tmp_path / "data" / "out.jsonl.quota.json")
    sio.check_output([src, None], tmp_path / "out")
