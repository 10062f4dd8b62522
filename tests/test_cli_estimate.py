"""Command line of share estimation: estimate, quota --basis estimated, clean --reference, provenance flags."""

import json

import pytest

from synthfilter.cli import main
from synthfilter.pipeline import CleanConfig, clean


def _human(i: int) -> str:
    return f"honestly the bus was late again, stop {i}, and my coffee went cold lol, whatever"


def _ai(i: int) -> str:
    return (f"Furthermore, it is important to note that solution {i} fosters seamless collaboration "
            "and delves into a rich tapestry of innovative synergies.")


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture()
def corpus(tmp_path):
    """300 rows, 30% AI-style; a separate 150-row human reference."""
    rows = [{"id": i, "text": _ai(i) if i % 10 < 3 else _human(i), "truth": int(i % 10 < 3),
             "source": "forum" if i % 10 == 9 else "crawl"} for i in range(300)]
    src = _write(tmp_path / "corpus.jsonl", rows)
    ref = _write(tmp_path / "ref.jsonl", [{"text": _human(1000 + i)} for i in range(150)])
    return src, ref


def test_estimate_command_tags_untagged_input_and_reports_both_shares(corpus, tmp_path, capsys):
    src, ref = corpus
    out_json = tmp_path / "est.json"
    assert main(["estimate", str(src), "--reference", str(ref), "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "labels say" in printed and "estimated true share" in printed
    est = json.loads(out_json.read_text())
    assert est["rows"] == 300 and est["reference_rows"] == 150 and est["method"] == "bbe"
    assert abs(est["share"] - 0.3) < 0.08 and est["low"] <= 0.3 <= est["high"]


def test_estimate_command_needs_known_human_text_and_takes_the_corpus_own(corpus, tmp_path, capsys):
    src, _ = corpus
    assert main(["estimate", str(src)]) == 2
    err = capsys.readouterr().err
    assert "no known-human text of the same kind" in err and "--reference FILE" in err
    assert "--first-seen-column COL --human-before 2022-11-30" in err
    # rows from a source known to be human are scored and are the corpus's own reference
    rows = [{"id": i, "text": _ai(i) if i % 10 < 3 else _human(i), "source": "archive" if i % 10 >= 6 else "crawl"}
            for i in range(600)]
    own = _write(tmp_path / "own.jsonl", rows)
    out_json = tmp_path / "own.json"
    assert main(["estimate", str(own), "--provenance-column", "source", "--human-values", "archive",
                 "--json", str(out_json)]) == 0
    est = json.loads(out_json.read_text())
    assert est["reference_source"] == "own" and est["reference_rows"] == 240 and est["known_human"] == 240
    assert est["rows"] == 360  # the rest: 180 AI of 360, so half, and a quarter... of all 600 rows
    assert est["low"] <= 0.3 <= est["high"] and abs(est["share"] - 0.3) < 0.08


def test_quota_on_the_estimated_basis_drops_the_likely_synthetic_rows(corpus, tmp_path, capsys):
    src, ref = corpus
    tagged = tmp_path / "tagged.jsonl"
    assert main(["tag", str(src), str(tagged)]) == 0
    assert main(["quota", str(tagged), str(tmp_path / "q.jsonl"), "--max-synthetic", "0.1", "--basis", "estimated",
                 "--reference", str(ref)]) == 0
    printed = capsys.readouterr().out
    assert "estimated true share" in printed and "likely-synthetic" in printed
    kept = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    report = json.loads((tmp_path / "q.jsonl.quota.json").read_text())
    assert report["basis"] == "estimated"
    assert report["estimated_share_after"]["high"] <= 0.1 + 1e-9
    assert sum(r["truth"] for r in kept) / len(kept) <= 0.12
    assert [r["id"] for r in kept] == sorted(r["id"] for r in kept)  # order kept
    # the labels basis on the same data keeps what the labels allow and still shows the estimate beside them
    assert main(["quota", str(tagged), str(tmp_path / "l.jsonl"), "--max-synthetic", "0.1", "--reference", str(ref),
                 "--basis", "labels"]) == 0
    labels = json.loads((tmp_path / "l.jsonl.quota.json").read_text())
    assert labels["basis"] == "labels" and labels["estimated_share_before"]["share"] > 0.2


def test_quota_without_known_human_text_is_refused_in_command_line_terms_unless_labels_are_asked_for(
        corpus, tmp_path, capsys):
    src, _ = corpus
    tagged = tmp_path / "tagged.jsonl"
    assert main(["tag", str(src), str(tagged)]) == 0
    capsys.readouterr()
    for extra in ([], ["--basis", "estimated"]):
        assert main(["quota", str(tagged), str(tmp_path / "q.jsonl"), "--max-synthetic", "0.1", *extra]) == 2
        err = capsys.readouterr().err
        assert "--max-synthetic holds the true synthetic share" in err or "needs known-human text" in err, err
        assert "--reference FILE" in err or "reference=" in err
    assert not (tmp_path / "q.jsonl").exists()
    # asked for, the labels quota runs and says loudly what its share is worth
    assert main(["quota", str(tagged), str(tmp_path / "q.jsonl"), "--max-synthetic", "0.1", "--basis", "labels"]) == 0
    out = capsys.readouterr().out
    assert "labels understate the synthetic share" in out and "--first-seen-column COL" in out
    report = json.loads((tmp_path / "q.jsonl.quota.json").read_text())
    assert report["basis"] == "labels" and "labels understate" in report["notes"][0]


def test_tag_provenance_flags_decide_rows_and_still_score_them(corpus, tmp_path, capsys):
    src, _ = corpus
    dst = tmp_path / "t.jsonl"
    assert main(["tag", str(src), str(dst), "--provenance-column", "source", "--human-values", "forum"]) == 0
    printed = capsys.readouterr().out
    assert "decided by provenance (labelled by the rule, still scored): source=forum=30" in printed
    assert "sf_label not calibrated: 30 rows" in printed  # too few known-human rows for a 1% false-positive rate
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    forum = [r for r in rows if r["source"] == "forum"]
    assert len(forum) == 30
    for r in forum:
        assert r["sf_label"] == "human" and r["sf_reason"] == "provenance:source=forum"
        assert 0.0 <= r["sf_score"] <= 1.0  # scored like every row
    assert main(["tag", str(src), str(tmp_path / "x.jsonl"), "--human-values", "forum"]) == 2
    assert "--provenance-column" in capsys.readouterr().err


def test_clean_on_the_estimated_basis_reports_estimates_and_refingerprints_a_changed_reference(corpus, tmp_path):
    src, ref = corpus
    cfg = CleanConfig(max_synthetic=0.1, resample=100, embedder="hashing", batch_size=100, basis="estimated",
                      dedup_threshold=None,  # the templated rows would collapse into a few near-duplicates
                      reference=str(ref))
    report = clean(src, tmp_path / "out", cfg, progress=False)
    quota = report["steps"]["quota"]
    assert quota["basis"] == "estimated" and quota["estimated_share_after"]["high"] <= 0.1 + 1e-9
    est = report["estimated_synthetic_share"]
    assert est["before"]["share"] > 0.2 and "estimated true share" in est["before_text"]
    kept = [json.loads(line) for line in (tmp_path / "out" / "output.jsonl").read_text().splitlines()]
    assert len(kept) == 100 and sum(r["truth"] for r in kept) / len(kept) <= 0.12
    first = json.loads((tmp_path / "out" / "manifest.json").read_text())["step_fingerprints"]
    _write(ref, [{"text": _human(1000 + 2 * i)} for i in range(120)])
    with pytest.warns(UserWarning, match="2-calibrate made with another configuration"):
        clean(src, tmp_path / "out", cfg, progress=False)
    second = json.loads((tmp_path / "out" / "manifest.json").read_text())["step_fingerprints"]
    assert first["tag"] == second["tag"] and first["quota"] != second["quota"]


def test_clean_config_checks_the_estimated_basis(tmp_path):
    for basis in ("auto", "estimated"):
        with pytest.raises(ValueError, match="known-human text of the same kind.*basis=labels"):
            CleanConfig(max_synthetic=0.1, resample=10, basis=basis)
    assert CleanConfig(max_synthetic=0.1, resample=10, basis="labels").basis == "labels"
    assert CleanConfig(max_synthetic=0.1, resample=10, first_seen_column="date", human_before="2022-11-30").provenance
    with pytest.raises(ValueError, match="human_before"):
        CleanConfig(max_synthetic=0.1, resample=10, first_seen_column="date", human_before="30/11/2022")
    with pytest.raises(FileNotFoundError, match="reference"):
        CleanConfig(max_synthetic=0.1, resample=10, reference=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="basis"):
        CleanConfig(max_synthetic=0.1, resample=10, basis="guess")
