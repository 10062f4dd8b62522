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


def test_estimate_command_needs_a_reference(corpus):
    src, _ = corpus
    with pytest.raises(SystemExit):
        main(["estimate", str(src)])


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
    assert main(["quota", str(tagged), str(tmp_path / "l.jsonl"), "--max-synthetic", "0.1", "--reference", str(ref)]) == 0
    labels = json.loads((tmp_path / "l.jsonl.quota.json").read_text())
    assert labels["basis"] == "labels" and labels["estimated_share_before"]["share"] > 0.2


def test_quota_estimated_without_reference_is_an_error_in_command_line_terms(corpus, tmp_path, capsys):
    src, _ = corpus
    assert main(["quota", str(src), str(tmp_path / "q.jsonl"), "--max-synthetic", "0.1", "--basis", "estimated"]) == 2
    assert "--basis estimated needs --reference" in capsys.readouterr().err


def test_tag_provenance_flags_decide_rows_without_scoring(corpus, tmp_path, capsys):
    src, _ = corpus
    dst = tmp_path / "t.jsonl"
    assert main(["tag", str(src), str(dst), "--provenance-column", "source", "--human-values", "forum"]) == 0
    assert "decided by provenance (not scored): source=forum=30" in capsys.readouterr().out
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    forum = [r for r in rows if r["source"] == "forum"]
    assert len(forum) == 30
    for r in forum:
        assert r["sf_label"] == "human" and r["sf_reason"] == "provenance:source=forum"
        assert r["sf_score"] is None or r["sf_score"] != r["sf_score"]  # not scored: null or NaN
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
    _write(ref, [{"text": _human(5000 + i)} for i in range(120)])
    with pytest.warns(UserWarning, match="2-quota made with another configuration"):
        clean(src, tmp_path / "out", cfg, progress=False)
    second = json.loads((tmp_path / "out" / "manifest.json").read_text())["step_fingerprints"]
    assert first["tag"] == second["tag"] and first["quota"] != second["quota"]


def test_clean_config_checks_the_estimated_basis(tmp_path):
    with pytest.raises(ValueError, match="needs a reference"):
        CleanConfig(max_synthetic=0.1, resample=10, basis="estimated")
    with pytest.raises(FileNotFoundError, match="reference"):
        CleanConfig(max_synthetic=0.1, resample=10, reference=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="basis"):
        CleanConfig(max_synthetic=0.1, resample=10, basis="guess")
