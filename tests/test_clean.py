"""synthfilter clean: steps, report, manifest, resume, bad input."""

import json

import pytest

from synthfilter.cli import main
from synthfilter.pipeline import STEPS, CleanConfig, clean
from tests.conftest import make_texts


def _write_input(path, n=600):
    rows = []
    for i in range(n):
        if i % 2:
            text = f"Furthermore, it is important to note that solution {i % 150} fosters seamless collaboration."
        else:
            text = f"honestly the bus was late again, stop {i % 200}, and my coffee went cold lol"
        rows.append({"id": i, "text": text, "domain": "a" if i % 3 else "b"})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _cfg(**kw):
    return CleanConfig(**{"max_synthetic": 0.1, "resample": 150, "detector": "fast", "embedder": "hashing",
                          "batch_size": 100, "basis": "labels", **kw})


def test_clean_writes_output_report_and_manifest(tmp_path):
    src = _write_input(tmp_path / "in.jsonl")
    report = clean(src, tmp_path / "out", _cfg(), progress=False)
    out_rows = [json.loads(line) for line in (tmp_path / "out" / "output.jsonl").read_text().splitlines()]
    assert len(out_rows) == report["rows_out"] == 150
    assert list(report["steps"]) == [s.name for s in STEPS]
    quota = report["steps"]["quota"]
    assert quota["realised_share"] <= 0.1 and quota["rows_after"] == report["steps"]["quota"]["rows_out"]
    assert report["steps"]["dedup"]["dropped"] >= 0 and "clusters_kept" in report["steps"]["resample"]
    assert report["realised_synthetic_share"] <= 0.1 + 1e-9
    assert "sf_embedding" not in out_rows[0] and {"sf_score", "sf_label", "sf_cluster"} <= set(out_rows[0])
    ids = [r["id"] for r in out_rows]
    assert ids == sorted(ids), "row order must be kept"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["config"]["max_synthetic"] == 0.1 and manifest["seed"] == 0
    assert manifest["input_fingerprints"][0]["sha256"] and "datasets" in manifest["versions"]


def test_interrupted_run_resumes_from_the_last_completed_step(tmp_path, monkeypatch):
    src = _write_input(tmp_path / "in.jsonl")
    clean(src, tmp_path / "full", _cfg(), progress=False)
    import synthfilter.pipeline.run as pipeline

    real = pipeline._run_step

    def crash_at_dedup(step, *args, **kwargs):
        if step.name == "dedup":
            raise KeyboardInterrupt("killed")
        return real(step, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_step", crash_at_dedup)
    with pytest.raises(KeyboardInterrupt):
        clean(src, tmp_path / "resumed", _cfg(), progress=False)
    assert not (tmp_path / "resumed" / "output.jsonl").exists()
    ran = []

    def record(step, *args, **kwargs):
        ran.append(step.name)
        return real(step, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_step", record)
    report = clean(src, tmp_path / "resumed", _cfg(), progress=False)
    assert ran == ["dedup", "resample"]
    assert report["steps"]["tag"]["resumed"] and report["steps"]["embed"]["resumed"]
    assert (tmp_path / "resumed" / "output.jsonl").read_text() == (tmp_path / "full" / "output.jsonl").read_text()


def test_a_changed_configuration_reuses_only_the_steps_it_does_not_change(tmp_path, monkeypatch):
    src = _write_input(tmp_path / "in.jsonl", n=200)
    clean(src, tmp_path / "out", _cfg(resample=50), progress=False)
    import synthfilter.pipeline.run as pipeline

    ran, real = [], pipeline._run_step

    def record(step, *args, **kwargs):
        ran.append(step.name)
        return real(step, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_step", record)
    report = clean(src, tmp_path / "out", _cfg(resample=60), progress=False)
    assert ran == ["resample"] and report["rows_out"] == 60
    ran.clear()
    clean(src, tmp_path / "out", _cfg(resample=60, max_synthetic=0.05), progress=False)
    assert ran == ["quota", "embed", "dedup", "resample"]


def test_cli_clean_and_its_errors(tmp_path, capsys):
    src = _write_input(tmp_path / "in.jsonl", n=200)
    assert main(["clean", str(src), str(tmp_path / "o"), "--max-synthetic", "0.2", "--resample", "80",
                 "--detector", "fast", "--embedder", "hashing", "--by", "domain", "--basis", "labels"]) == 0
    captured = capsys.readouterr()
    assert "labelled synthetic share" in captured.out
    assert "warning: labels understate the synthetic share" in captured.err, "a labels quota says what it is worth"
    assert "--first-seen-column COL --human-before 2022-11-30" in captured.err
    assert main(["clean", str(src), str(tmp_path / "o2"), "--max-synthetic", "1.5", "--resample", "80"]) == 2
    assert "--max-synthetic must be" in capsys.readouterr().err
    # without known-human text the true share cannot be held: refused before any work, saying how to give it
    assert main(["clean", str(src), str(tmp_path / "o4"), "--max-synthetic", "0.1", "--resample", "80"]) == 2
    err = capsys.readouterr().err
    assert "--max-synthetic holds the true synthetic share" in err and "--reference FILE" in err
    assert "--basis labels" in err and not (tmp_path / "o4").exists()
    assert main(["clean", str(tmp_path / "missing.jsonl"), str(tmp_path / "o3"), "--max-synthetic", "0.1",
                 "--resample", "5"]) == 2


def _write_dated_input(path, n=600):
    """A third of the rows dated 2019 (human: the corpus's own reference), the rest from 2024, half of them AI."""
    human, ai = make_texts(n, "human", seed=11), make_texts(n, "ai", seed=11)
    human[5::10] = human[4::10][:len(human[5::10])]  # some exact duplicates, for near-duplicate removal to find
    rows = [{"id": i, "text": human[i] if i % 3 == 0 or i % 2 else ai[i], "truth": int(i % 3 != 0 and i % 2 == 0),
             "date": "2019-06-01" if i % 3 == 0 else "2024-03-01", "domain": "a" if i % 4 else "b"}
            for i in range(n)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _labels(path):
    return [json.loads(line)["sf_label"] for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def toy_detector(tmp_path_factory):
    """A detector fitted on the two generated styles, so the quota has synthetic rows to drop."""
    from synthfilter.detect import FastDetector

    human, ai = make_texts(200, "human", seed=1), make_texts(200, "ai", seed=1)
    path = tmp_path_factory.mktemp("det") / "toy.npz"
    FastDetector().fit(human + ai, ["human"] * 200 + ["ai"] * 200).save(path)
    return str(path)


def test_output_meets_the_quota_and_size_even_when_dedup_drops_human_rows(tmp_path, toy_detector):
    texts = [make_texts(1, "human", seed=9)[0]] * 150 + make_texts(150, "human", seed=2) + make_texts(120, "ai", seed=3)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)) + "\n")
    cfg = _cfg(resample=120, dedup_threshold=0.99, detector=toy_detector)
    report = clean(src, tmp_path / "out", cfg, progress=False)
    labels = _labels(tmp_path / "out" / "output.jsonl")
    assert len(labels) == 120
    assert labels.count("synthetic") <= 0.1 * len(labels)
    for step in ("quota", "dedup", "resample"):
        assert report["steps"][step]["synthetic_share"] <= 0.1, step
    assert report["steps"]["dedup"]["quota_again"]["dropped"].get("surplus-synthetic", 0) > 0
    assert report["synthetic_share_after"]["tag"] > 0.2


def test_impossible_resample_fails_before_embedding_in_command_line_terms(tmp_path, capsys, toy_detector):
    src = tmp_path / "in.jsonl"
    texts = make_texts(100, "human", seed=4) + make_texts(100, "ai", seed=4)
    src.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)) + "\n")
    with pytest.raises(ValueError, match=r"--resample 150 but only \d+ rows remain after --max-synthetic 0.1;") as err:
        clean(src, tmp_path / "out", _cfg(resample=150, detector=toy_detector), progress=False)
    quota = json.loads((tmp_path / "out" / "steps" / "3-quota" / "report.json").read_text())
    assert f"only {quota['rows_out']} rows remain" in str(err.value) and 100 <= quota["rows_out"] < 150
    steps = sorted(p.name for p in (tmp_path / "out" / "steps").iterdir())
    assert steps == ["1-tag", "2-calibrate", "3-quota"], "nothing expensive after the quota"
    assert main(["clean", str(src), str(tmp_path / "o2"), "--max-synthetic", "0.1", "--resample", "500",
                 "--embedder", "hashing", "--basis", "labels"]) == 2
    assert "--resample 500 but the input has only 200 rows" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists(), "refused before any work"


def test_a_changed_or_truncated_step_file_is_recomputed_not_used(tmp_path):
    src = _write_input(tmp_path / "in.jsonl", n=300)
    clean(src, tmp_path / "out", _cfg(), progress=False)
    expected = (tmp_path / "out" / "output.jsonl").read_bytes()
    part = next((tmp_path / "out" / "steps" / "3-quota").glob("*.parquet"))
    part.write_bytes(part.read_bytes()[:-100])
    with pytest.warns(UserWarning, match="3-quota.*changed since it was written"):
        report = clean(src, tmp_path / "out", _cfg(), progress=False)
    assert report["steps"]["tag"].get("resumed") and not report["steps"]["quota"].get("resumed")
    assert (tmp_path / "out" / "output.jsonl").read_bytes() == expected


def test_a_second_run_into_the_same_folder_is_refused_while_one_runs(tmp_path):
    import subprocess
    import sys

    from synthfilter.io import LOCK_NAME, LockedError

    src = _write_input(tmp_path / "in.jsonl", n=100)
    out = tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": __import__("socket").gethostname()}))
        with pytest.raises(LockedError, match=f"pid {sleeper.pid}"):
            clean(src, out, _cfg(resample=20), progress=False)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_output_inside_the_input_folder_is_refused(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write_input(folder / "a.jsonl", n=50)
    with pytest.raises(ValueError, match="inside the input folder"):
        clean(folder, folder / "cleaned", _cfg(resample=10), progress=False)


def test_clean_shows_one_bar_per_step_and_none_of_datasets_own(tmp_path, capfd):
    import datasets

    src = _write_input(tmp_path / "in.jsonl", n=300)
    was_disabled = datasets.are_progress_bars_disabled()  # an earlier test may have switched them off
    datasets.enable_progress_bars()
    try:
        clean(src, tmp_path / "out", _cfg(resample=100), progress=True)
        still_enabled = not datasets.are_progress_bars_disabled()
    finally:
        if was_disabled:
            datasets.disable_progress_bars()
    err = capfd.readouterr().err
    for n, step in enumerate(STEPS, start=1):
        assert f"clean {n}/{len(STEPS)} {step.name}" in err, err
    for inner in ("Map", "Filter", "Creating parquet from Arrow format", "Saving the dataset", "Generating train split",
                  "quota: count", "resample"):
        assert not any(line.lstrip("\r").startswith(inner) for line in err.replace("\r", "\n").splitlines()), inner
    assert still_enabled, "datasets' bars must be restored after clean"
