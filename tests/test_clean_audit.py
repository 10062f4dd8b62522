"""clean's audit trail: every input row is in the output or in OUT/dropped/ with a reason; sharded output."""

import json
from pathlib import Path

import datasets
import pytest

from synthfilter.io import sha256_file
from synthfilter.pipeline import CleanConfig, clean
from tests.conftest import make_texts
from tests.test_clean import _write_input, toy_detector  # noqa: F401  (toy_detector is a fixture)


def _cfg(**kw):
    return CleanConfig(**{"max_synthetic": 0.1, "resample": 150, "detector": "fast", "embedder": "hashing",
                          "batch_size": 100, "basis": "labels", **kw})


def _rows(path: Path) -> list[dict]:
    return datasets.load_dataset(path.suffix.lstrip(".").replace("jsonl", "json"), data_files=str(path),
                                 split="train").to_list()


def _dropped(out: Path) -> list[dict]:
    return [r for f in sorted((out / "dropped").glob("*.jsonl")) for r in _rows(f)]


def _mixed_input(path: Path) -> Path:
    """300 varied human-style rows, 40 copies of one of them, 260 AI-style rows: every kind of drop happens."""
    texts = make_texts(300, "human", seed=2) + [make_texts(1, "human", seed=9)[0]] * 40 + make_texts(260, "ai", seed=3)
    path.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)) + "\n")
    return path


def test_kept_plus_dropped_is_the_input_with_a_reason_for_every_drop(tmp_path, toy_detector):
    src = _mixed_input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    report = clean(src, out, _cfg(detector=toy_detector, dedup_threshold=0.99), progress=False)
    kept = _rows(out / "output.jsonl")
    dropped = _dropped(out)
    kept_rows = {r["sf_row"] for r in kept}
    dropped_rows = [r["sf_row"] for r in dropped]
    assert len(dropped_rows) == len(set(dropped_rows)), "a row is dropped once"
    assert kept_rows.isdisjoint(dropped_rows)
    assert kept_rows | set(dropped_rows) == set(range(600))
    assert [r["id"] for r in kept] == [r["sf_row"] for r in kept], "sf_row is the input position"
    reasons = {r["sf_drop_reason"].split(":")[0] for r in dropped}
    assert reasons <= {"quota", "unknown", "near_duplicate_of", "resample_cap"} and "quota" in reasons
    assert all(r["sf_copies"] == 1 for r in kept)
    # a near-duplicate names a row that near-duplicate removal kept
    dup_rows = {r["sf_row"] for r in dropped if r["sf_drop_reason"].startswith("near_duplicate_of:")}
    for r in dropped:
        if r["sf_drop_reason"].startswith("near_duplicate_of:"):
            assert int(r["sf_drop_reason"].split(":")[1]) not in dup_rows
    per_step = report["dropped"]
    assert sum(s["rows"] for s in per_step.values()) == len(dropped)
    assert per_step["quota"]["reasons"].get("quota", 0) > 0 and "resample" in per_step
    assert json.loads((out / "manifest.json").read_text())["output"]["dropped"] == per_step


def test_unknown_rows_dropped_by_policy_are_marked_unknown(tmp_path):
    src = _write_input(tmp_path / "in.jsonl", n=300)
    rows = [json.loads(line) for line in src.read_text().splitlines()]
    for r in rows[:20]:
        r["text"] = "?!"  # unscorable: sf_label unknown
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    clean(src, out, _cfg(resample=60, unknown="drop", dedup_threshold=None), progress=False)
    unknown = [r for r in _dropped(out) if r["sf_drop_reason"] == "unknown"]
    assert sorted(r["sf_row"] for r in unknown) == list(range(20))


def test_sharded_output_is_listed_in_the_manifest_with_checksums(tmp_path):
    src = _write_input(tmp_path / "in.jsonl", n=600)
    out = tmp_path / "out"
    report = clean(src, out, _cfg(shard_size=40), progress=False)
    shards = sorted(out.glob("output-*-of-*.jsonl"))
    assert [p.name for p in shards] == [f"output-{i:05d}-of-00004.jsonl" for i in range(4)]
    assert not (out / "output.jsonl").exists()
    listed = json.loads((out / "manifest.json").read_text())["output"]
    assert listed["rows"] == 150 == sum(f["rows"] for f in listed["files"])
    for entry in listed["files"]:
        assert sha256_file(entry["path"]) == entry["sha256"] and len(_rows(Path(entry["path"]))) == entry["rows"]
    assert [r["sf_row"] for p in shards for r in _rows(p)] == [r["sf_row"] for r in _rows_of_unsharded(tmp_path, src)]
    assert report["output"] == str(out)


def _rows_of_unsharded(tmp_path, src):
    out = tmp_path / "one"
    clean(src, out, _cfg(), progress=False)
    return _rows(out / "output.jsonl")


def test_an_input_with_an_sf_row_column_is_refused(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "hello there, a perfectly normal sentence here", "sf_row": 3}) + "\n")
    with pytest.raises(ValueError, match="sf_row"):
        clean(src, tmp_path / "out", _cfg(resample=1), progress=False)
    with pytest.raises(ValueError, match="shard_size"):
        _cfg(shard_size=0)


def test_resampling_options_reach_the_step_from_the_config_and_the_command_line(tmp_path, toy_detector):
    from synthfilter.cli import build_parser

    args = build_parser().parse_args(["clean", "in.jsonl", "out", "--max-synthetic", "0.1", "--resample", "10",
                                      "--max-copies", "3", "--no-junk-rule", "--min-words", "2",
                                      "--boilerplate-min-repeats", "0"])
    assert (args.max_copies, args.junk, args.min_words, args.boilerplate_min_repeats) == (3, False, 2, 0)
    defaults = build_parser().parse_args(["clean", "in.jsonl", "out", "--max-synthetic", "0.1", "--resample", "10"])
    assert (defaults.max_copies, defaults.junk, defaults.min_words, defaults.boilerplate_min_repeats) == (1, True, 5, 3)
    rc = _cfg(max_copies=3, junk=False, min_words=2, boilerplate_min_repeats=0).resample_config()
    assert (rc.copies, rc.junk_rule, rc.min_words, rc.boilerplate_min_repeats, rc.invalid) == (3, False, 2, 0, "drop")
    with pytest.raises(ValueError, match="max_copies"):
        _cfg(max_copies=0)
    with pytest.raises(ValueError, match="boilerplate_min_repeats"):
        _cfg(boilerplate_min_repeats=1)
    # in a run: the resample step's report records the cap and the junk rule the config asked for
    src = _mixed_input(tmp_path / "in.jsonl")
    report = clean(src, tmp_path / "out", _cfg(detector=toy_detector, dedup_threshold=None, max_copies=2,
                                                junk=False), progress=False)
    step = report["steps"]["resample"]
    assert step["max_copies"] == 2 and step["junk_rule"] is False and step["max_copies_used"] <= 2


def test_changing_a_resampling_option_recomputes_only_the_resample_step(tmp_path, toy_detector):
    src = _mixed_input(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    clean(src, out, _cfg(detector=toy_detector, dedup_threshold=None), progress=False)
    with pytest.warns(UserWarning, match="6-resample made with another configuration"):
        again = clean(src, out, _cfg(detector=toy_detector, dedup_threshold=None, min_words=0), progress=False)
    resumed = {name for name, step in again["steps"].items() if step.get("resumed")}
    assert resumed == set(again["steps"]) - {"resample"}


def test_dedup_leaves_texts_outside_the_embedders_languages_uncompared(tmp_path, toy_detector, monkeypatch):
    """With an English embedding model, Arabic texts embed close together whatever they say: clean
    must not drop them as near-duplicates of each other."""
    from synthfilter.diversity import Embedder

    monkeypatch.setattr(Embedder, "languages", property(lambda self: ("en",)))
    arabic = "هذا نص عربي طويل بما يكفي ليتم التعرف على لغته بشكل صحيح في هذا الاختبار رقم"
    texts = make_texts(200, "human", seed=2) + [arabic] * 30 + make_texts(100, "ai", seed=3)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)) + "\n")
    report = clean(src, tmp_path / "out", _cfg(detector=toy_detector, dedup_threshold=0.99, resample=100),
                   progress=False)
    dedup = report["steps"]["dedup"]
    assert dedup["not_compared"] == 30
    dropped_dups = [r for r in _dropped(tmp_path / "out") if r["sf_drop_reason"].startswith("near_duplicate_of")]
    assert not [r for r in dropped_dups if r["text"] == arabic]
    # the same run without the language guard would have dropped 29 of them: the guard is what keeps them
    monkeypatch.setattr(Embedder, "languages", property(lambda self: None))
    report = clean(src, tmp_path / "out2", _cfg(detector=toy_detector, dedup_threshold=0.99, resample=100),
                   progress=False)
    assert report["steps"]["dedup"]["not_compared"] == 0
    assert sum(r["text"] == arabic for r in _dropped(tmp_path / "out2")) >= 29
