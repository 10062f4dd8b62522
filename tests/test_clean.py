"""synthfilter clean: steps, report, manifest, resume, bad input."""

import json

import pytest

from synthfilter.cli import main
from synthfilter.pipeline import STEPS, CleanConfig, clean


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
                          "batch_size": 100, **kw})


def test_clean_writes_output_report_and_manifest(tmp_path):
    src = _write_input(tmp_path / "in.jsonl")
    report = clean(src, tmp_path / "out", _cfg(), progress=False)
    out_rows = [json.loads(line) for line in (tmp_path / "out" / "output.jsonl").read_text().splitlines()]
    assert len(out_rows) == report["rows_out"] == 150
    assert list(report["steps"]) == list(STEPS)
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
    full = clean(src, tmp_path / "full", _cfg(), progress=False)
    import synthfilter.pipeline as pipeline

    real = pipeline._run_step

    def crash_at_dedup(step, *args, **kwargs):
        if step == "dedup":
            raise KeyboardInterrupt("killed")
        return real(step, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_step", crash_at_dedup)
    with pytest.raises(KeyboardInterrupt):
        clean(src, tmp_path / "resumed", _cfg(), progress=False)
    assert not (tmp_path / "resumed" / "output.jsonl").exists()
    ran = []

    def record(step, *args, **kwargs):
        ran.append(step)
        return real(step, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_step", record)
    report = clean(src, tmp_path / "resumed", _cfg(), progress=False)
    assert ran == ["dedup", "resample"]
    assert report["steps"]["tag"]["resumed"] and report["steps"]["embed"]["resumed"]
    assert (tmp_path / "resumed" / "output.jsonl").read_text() == (tmp_path / "full" / "output.jsonl").read_text()


def test_a_changed_configuration_reuses_only_the_steps_it_does_not_change(tmp_path, monkeypatch):
    src = _write_input(tmp_path / "in.jsonl", n=200)
    clean(src, tmp_path / "out", _cfg(resample=50), progress=False)
    import synthfilter.pipeline as pipeline

    ran, real = [], pipeline._run_step

    def record(step, *args, **kwargs):
        ran.append(step)
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
                 "--detector", "fast", "--embedder", "hashing", "--by", "domain"]) == 0
    assert "realised synthetic share" in capsys.readouterr().out
    assert main(["clean", str(src), str(tmp_path / "o2"), "--max-synthetic", "1.5", "--resample", "80"]) == 2
    assert "--max-synthetic must be" in capsys.readouterr().err
    assert main(["clean", str(tmp_path / "missing.jsonl"), str(tmp_path / "o3"), "--max-synthetic", "0.1",
                 "--resample", "5"]) == 2
