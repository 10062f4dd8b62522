import json
import os

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


def test_quota_command_on_jsonl_writes_output_and_report(tmp_path, capsys):
    src = tmp_path / "tagged.jsonl"
    rows = [{"id": i, "text": f"t{i}", "sf_label": "synthetic" if i % 2 else "human", "domain": "ab"[i % 3 == 0]}
            for i in range(200)]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dst = tmp_path / "clean.jsonl"
    assert main(["quota", str(src), str(dst), "--max-synthetic", "0.1", "--by", "domain", "--id-column", "id"]) == 0
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    for domain in "ab":
        labels = [r["sf_label"] for r in out if r["domain"] == domain]
        assert labels.count("synthetic") / len(labels) <= 0.1
    report = json.loads((tmp_path / "clean.jsonl.quota.json").read_text())
    assert report["rows_after"] == len(out) and report["by"] == "domain"
    assert "realised share" in capsys.readouterr().out


def test_quota_command_rejects_bad_target(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "x", "sf_label": "human"}) + "\n")
    assert main(["quota", str(src), str(tmp_path / "o.jsonl"), "--max-synthetic", "1.2"]) == 2
    assert "--max-synthetic must be a share in [0, 1), got 1.2" in capsys.readouterr().err


def test_resample_command_on_jsonl(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = [{"text": f"common topic about weather number {i}", "colour": "yellow"} for i in range(90)]
    rows += [{"text": f"rare topic: quantum chromodynamics lecture {i}", "colour": "blue"} for i in range(10)]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dst = tmp_path / "out.jsonl"
    assert main(["resample", str(src), str(dst), "--size", "20", "--by", "colour"]) == 0
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["colour"] for r in out].count("blue") == 10
    dst2 = tmp_path / "out2.jsonl"
    assert main(["resample", str(src), str(dst2), "--size", "20", "--embedder", "hashing"]) == 0
    out2 = [json.loads(line) for line in dst2.read_text().splitlines()]
    assert len(out2) == 20 and "sf_cluster" in out2[0] and "sf_embedding" not in out2[0]
    report = json.loads((tmp_path / "out2.jsonl.resample.json").read_text())
    assert report["rows_after"] == 20
    assert main(["resample", str(src), str(tmp_path / "x.jsonl"), "--size", "500", "--by", "colour"]) == 2
    assert "(or --replace)" in capsys.readouterr().err  # in command-line terms


def test_tag_refuses_to_overwrite_its_input(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "We went to the lake on Saturday and the kids swam."}) + "\n")
    before = src.read_bytes()
    assert main(["tag", str(src), str(src)]) == 2
    assert "is the input" in capsys.readouterr().err
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(before)
    assert main(["tag", str(folder), str(folder / "out.jsonl")]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert src.read_bytes() == before and not (folder / "out.jsonl").exists()


def test_tag_summary_counts_unknown_rows_by_reason(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = [{"text": "Москва — столица России, крупнейший по численности населения город страны."},
            {"text": "hi"}, {"text": None},
            {"text": "We drove up to the lake on Saturday and the water was freezing cold."}]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    assert main(["tag", str(src), str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["sf_reason"] for r in out] == ["unsupported_language:ru", "too_short", "not_text", ""]
    assert [r["sf_lang"] for r in out] == ["ru", "en", "", "en"]
    printed = capsys.readouterr().out
    assert "unknown, by reason:" in printed and "unsupported_language:ru=1" in printed


def test_the_command_line_stays_offline_unless_a_hub_model_is_named(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub

    from synthfilter.cli import _hub_models, build_parser

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    assert main(["demo"]) == 0
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert hub.HF_HUB_OFFLINE is True
    args = build_parser().parse_args(["resample", "a.jsonl", "b.jsonl", "--size", "3", "--embedder", "org/model"])
    assert _hub_models(args) == ["org/model"]
    args = build_parser().parse_args(["resample", "a.jsonl", "b.jsonl", "--size", "3", "--embedder", "hashing"])
    assert _hub_models(args) == []


def test_tag_languages_option_scores_the_languages_named(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "Москва — столица России, крупнейший по численности населения город страны."},
                              ensure_ascii=False) + "\n")
    assert main(["tag", str(src), str(tmp_path / "a.jsonl"), "--languages", "en,ru"]) == 0
    row = json.loads((tmp_path / "a.jsonl").read_text())
    assert row["sf_reason"] == "" and row["sf_label"] in ("human", "synthetic")
    assert main(["tag", str(src), str(tmp_path / "b.jsonl"), "--min-letters", "500"]) == 0
    assert json.loads((tmp_path / "b.jsonl").read_text())["sf_reason"] == "too_short"
