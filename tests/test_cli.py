import json

import datasets

from synthfilter.cli import main


def test_demo_prints_a_summary(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "18 rows tagged by fast@" in out
    assert "unknown=2" in out
    assert "human-like" in out and "ai-like" in out


def test_tag_command_writes_tagged_jsonl(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = [{"body": "We went to the lake on Saturday and the kids swam."}, {"body": None}]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dst = tmp_path / "out.jsonl"
    assert main(["tag", str(src), str(dst), "--text-column", "body"]) == 0
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["body"] for r in out] == [r["body"] for r in rows]
    assert out[1]["sf_label"] == "unknown" and out[0]["sf_label"] in ("human", "synthetic")


def test_tag_command_reports_missing_column(tmp_path, capsys):
    src = tmp_path / "in.parquet"
    datasets.Dataset.from_dict({"body": ["x y z"]}).to_parquet(str(src))
    assert main(["tag", str(src), str(tmp_path / "o.jsonl")]) == 2
    assert "'text' not found" in capsys.readouterr().err
