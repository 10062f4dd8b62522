"""The engine interface and the pipeline's steps: one quota, whatever runs it."""

import datasets
import numpy as np
import pytest

import synthfilter as sf
from synthfilter.engines import LocalEngine, make_engine
from synthfilter.pipeline import STEPS, CleanConfig
from synthfilter.pipeline.run import _step_fingerprints
from synthfilter.quota.engine import enforce_quota_on


def _labelled(n=2500, seed=0):
    rng = np.random.default_rng(seed)
    return datasets.Dataset.from_dict({
        "i": list(range(n)), "text": [f"doc {i % (n // 2)}" for i in range(n)],
        "sf_label": rng.choice(["human", "synthetic", "unknown"], n, p=[0.55, 0.4, 0.05]).tolist(),
        "g": rng.choice(["a", "b", None], n).tolist(),
    })


@pytest.mark.parametrize("options", [{}, {"by": "g", "unknown": "drop"}, {"mode": "exact", "by": "g", "unknown": "synthetic"}])
def test_the_quota_through_any_batching_of_the_engine_keeps_the_rows_of_enforce_quota(options):
    ds = _labelled()
    cfg = sf.QuotaConfig(0.1, **options)
    expected, expected_report = sf.enforce_quota(ds, config=cfg, return_report=True)
    engine = LocalEngine()
    engine.reduce_batch_size = 333  # many batches, cut across strata
    kept, report = enforce_quota_on(engine, ds, cfg)
    assert kept["i"] == expected["i"] and report.to_dict() == expected_report.to_dict()


def test_local_map_batches_keeps_rows_order_and_types_for_any_worker_count():
    ds = datasets.Dataset.from_dict({"text": ["We went to the lake on Saturday and the kids swam all day."] * 50
                                     + [None] * 50})
    from synthfilter.batches import TagColumns

    one = LocalEngine(workers=1, batch_size=7).map_batches(ds, TagColumns(sf.Tagger()), desc="t")
    two = LocalEngine(workers=2, batch_size=10).map_batches(ds, TagColumns(sf.Tagger()), desc="t")
    assert one["sf_label"] == two["sf_label"] and one.num_rows == 100
    assert one.features["sf_score"] == datasets.Value("float32")
    assert one["sf_reason"][50:] == ["not_text"] * 50


def test_steps_declare_what_they_depend_on_and_fingerprints_change_only_downstream():
    names = [s.name for s in STEPS]
    assert names == ["tag", "calibrate", "quota", "embed", "dedup", "resample"]
    fields = [f for s in STEPS for f in s.fields]
    assert len(fields) == len(set(fields)), "each option belongs to one step"
    inputs = [{"sha256": "x", "bytes": 1}]
    base = _step_fingerprints(CleanConfig(max_synthetic=0.1, resample=10, basis="labels"), inputs)
    changed = _step_fingerprints(CleanConfig(max_synthetic=0.1, resample=10, basis="labels", embedder="hashing"), inputs)
    assert [s for s in names if base[s] != changed[s]] == ["embed", "dedup", "resample"]
    dated = _step_fingerprints(CleanConfig(max_synthetic=0.1, resample=10, first_seen_column="d",
                                           human_before="2022-11-30"), inputs)
    assert all(dated[s] != base[s] for s in names), "provenance rules change the tags and everything after them"
    assert [s.name for s in STEPS if s.on_driver] == ["dedup", "resample"]


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="engine must be 'local' or 'ray'"):
        make_engine("spark")
