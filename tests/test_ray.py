"""Ray Data path against the datasets path: identical tags, kept rows, clusters and clean output."""

import json

import datasets
import numpy as np
import pytest

import synthfilter as sf

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'synthfilter[ray]'")
sfr = pytest.importorskip("synthfilter.integrations.ray")
ordered = pytest.importorskip("synthfilter.engines.ray").ordered


@pytest.fixture(scope="module")
def ray_session():
    sfr.start_local(num_cpus=2)
    yield
    ray.shutdown()


def _labelled(n: int = 3000, seed: int = 0) -> datasets.Dataset:
    rng = np.random.default_rng(seed)
    texts = [f"document {i % (n // 2)} about topic {rng.integers(0, 50)}" for i in range(n)]  # duplicate keys too
    return datasets.Dataset.from_dict({
        "i": list(range(n)), "text": texts,
        "sf_label": rng.choice(["human", "synthetic", "unknown"], n, p=[0.55, 0.4, 0.05]).tolist(),
        "domain": rng.choice(["news", "code", "chat"], n).tolist(),
    })


def _to_ray(ds: datasets.Dataset, blocks: int):
    return ray.data.from_arrow(ds.data.table).repartition(blocks)


@pytest.mark.parametrize("mode,by,unknown,blocks", [("cap", None, "human", 1), ("cap", "domain", "drop", 5),
                                                    ("exact", "domain", "synthetic", 3)])
def test_quota_keeps_exactly_the_rows_of_the_single_machine_path(ray_session, mode, by, unknown, blocks):
    ds = _labelled()
    local, local_report = sf.enforce_quota(ds, 0.2, mode=mode, by=by, unknown=unknown, seed=3, return_report=True)
    out, report = sfr.enforce_quota(_to_ray(ds, blocks), 0.2, mode=mode, by=by, unknown=unknown, seed=3,
                                    return_report=True)
    assert [r["i"] for r in out.iter_rows()] == local["i"]
    assert report.to_dict() == local_report.to_dict()
    assert "_sf_row" not in out.columns()


def test_estimated_quota_keeps_exactly_the_rows_of_the_single_machine_path(ray_session):
    ds = _labelled(2000, seed=1)
    rng = np.random.default_rng(1)
    synthetic = np.array(ds["sf_label"]) == "synthetic"
    scores = np.where(synthetic, rng.beta(5, 2, ds.num_rows), rng.beta(2, 5, ds.num_rows))
    scores[np.array(ds["sf_label"]) == "unknown"] = np.nan
    ds = ds.add_column("sf_score", scores.tolist())
    reference = rng.beta(2, 5, 600)
    local, local_report = sf.enforce_quota(ds, 0.1, basis="estimated", reference=reference, by="domain",
                                           return_report=True)
    out, report = sfr.enforce_quota(_to_ray(ds, 4), 0.1, basis="estimated", reference=reference, by="domain",
                                    return_report=True)
    assert [r["i"] for r in out.iter_rows()] == local["i"]
    assert report.to_dict() == local_report.to_dict()
    assert local.num_rows < ds.num_rows and report.estimate_after.high <= 0.1 + 1e-9


def test_quota_names_a_missing_key_column(ray_session):
    ds = ray.data.from_items([{"body": "x", "sf_label": "human"}])
    with pytest.raises(KeyError, match="text"):
        sfr.enforce_quota(ds, 0.1)


def test_tagging_on_ray_equals_datasets_map(ray_session):
    texts = ["The council approved the new budget after a long debate on Tuesday.", None, "",
             "Furthermore, it is important to note that innovation fosters collaboration.", "短い"] * 20
    ds = datasets.Dataset.from_dict({"text": texts})
    tagger = sf.Tagger(detector="fast")
    local = ds.map(tagger, batched=True, batch_size=17)
    with ordered():
        rows = sfr.tag(_to_ray(ds, 4), detector="fast", batch_size=13).take_all()
    assert [r["sf_label"] for r in rows] == local["sf_label"]
    np.testing.assert_array_equal(np.array([r["sf_score"] for r in rows], dtype=np.float32),
                                  np.array(local["sf_score"], dtype=np.float32))
    assert {r["sf_detector"] for r in rows} == set(local["sf_detector"])


def test_embedding_and_cluster_assignment_on_ray_equal_the_local_ones(ray_session):
    ds = datasets.Dataset.from_dict({"text": [f"row {i} talks about {['cats', 'tax law', 'rust'][i % 3]}" for i in range(300)]})
    local = ds.map(sf.Embedder(model="hashing"), batched=True)
    with ordered():
        embedded = sfr.embed(_to_ray(ds, 3), model="hashing", batch_size=50).materialize()
        remote = np.array([r["sf_embedding"] for r in embedded.iter_rows()], dtype=np.float32)
        np.testing.assert_allclose(remote, np.array(local["sf_embedding"], dtype=np.float32), atol=1e-6)
        centroids = sfr.fit_centroids(embedded, 3, sample_size=200, seed=0)
        clusters = [r["sf_cluster"] for r in sfr.assign_clusters(embedded, centroids).iter_rows()]
    expected, _ = sf.diversity.assign_clusters(remote, centroids)
    assert clusters == expected.tolist()
    assert len(set(clusters)) == 3


def test_clean_gives_identical_output_on_both_engines(ray_session, tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for i in range(1200):  # a third dated before the cut (human: the corpus's own reference), the rest half AI
        early = i % 3 == 0
        if early or rng.random() < 0.5:
            text = f"honestly the bus was late again, stop {i % 400}, and my coffee went cold lol"
        else:
            text = f"Furthermore, it is important to note that solution {i % 300} fosters seamless collaboration."
        rows.append({"id": i, "text": text, "date": "2019-05-01" if early else "2024-02-01"})
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    from synthfilter.pipeline import CleanConfig, clean

    outputs = {}
    for engine in ("local", "ray"):
        cfg = CleanConfig(max_synthetic=0.1, resample=300, engine=engine, detector="fast", embedder="hashing",
                          batch_size=200, first_seen_column="date", human_before="2022-11-30")
        report = clean(src, tmp_path / engine, cfg, progress=False)
        assert report["quota_basis"] == "estimated" and report["steps"]["calibrate"]["reference_source"] == "own"
        dropped = sorted((tmp_path / engine / "dropped").glob("*.jsonl"))
        outputs[engine] = ((tmp_path / engine / "output.jsonl").read_text(),
                           {p.name: p.read_text() for p in dropped}, report["dropped"])
        assert report["rows_out"] == 300 and dropped
    assert outputs["local"] == outputs["ray"]


def test_ray_engine_reads_a_step_folder_of_several_parquet_files_in_order(ray_session, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthfilter.engines.ray import RayEngine, ordered
    from synthfilter.io import write_checksums

    for part in range(3):
        pq.write_table(pa.table({"i": list(range(part * 10, part * 10 + 10))}), tmp_path / f"part-{part:05d}.parquet")
    pq.write_table(pa.table({"i": [-1]}), tmp_path / ".stray.parquet")  # not in the checksum list: never read
    write_checksums(tmp_path, [f"part-{part:05d}.parquet" for part in range(3)])
    engine = RayEngine(workers=2)
    with ordered():
        assert [r["i"] for r in engine.read(tmp_path).iter_rows()] == list(range(30))

