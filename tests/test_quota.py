import json
from fractions import Fraction

import datasets
import numpy as np
import pyarrow as pa
import pytest
from datasets.table import InMemoryTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthfilter as sf
from synthfilter.quota import enforce_quota, mix, quota_report


def make(n=600, seed=0, p=(0.55, 0.4, 0.05)):
    rng = np.random.default_rng(seed)
    return datasets.Dataset.from_dict({
        "id": list(range(n)),
        "text": [f"document {i}" for i in range(n)],
        "sf_label": rng.choice(["human", "synthetic", "unknown"], n, p=list(p)).tolist(),
        "domain": rng.choice(["news", "code", "chat"], n, p=[0.5, 0.3, 0.2]).tolist(),
    })


def share(ds, unknown_as="human"):
    labels = ds["sf_label"]
    syn = sum(1 for x in labels if x == "synthetic" or (x == "unknown" and unknown_as == "synthetic"))
    return Fraction(syn, len(labels))


def test_cap_keeps_all_human_and_hits_floor_of_target():
    ds = make()
    out = enforce_quota(ds, 0.1, id_column="id")
    labels = np.array(ds["sf_label"])
    n_h = int((labels != "synthetic").sum())
    assert sum(1 for x in out["sf_label"] if x != "synthetic") == n_h
    assert out["sf_label"].count("synthetic") == (n_h * 1) // 9  # floor(0.1 * n_h / 0.9)
    assert share(out) <= Fraction(1, 10)
    assert out["id"] == sorted(out["id"]), "original order kept"


def test_exact_mode_drops_humans_when_synthetic_is_scarce():
    ds = make(p=(0.95, 0.05, 0.0))
    out = enforce_quota(ds, 0.2, mode="exact", id_column="id")
    n = out.num_rows
    assert out["sf_label"].count("synthetic") == int(Fraction(1, 5) * n)
    assert out["sf_label"].count("synthetic") == ds["sf_label"].count("synthetic")
    with pytest.raises(ValueError, match="min_rows"):
        enforce_quota(ds, 0.2, mode="exact", id_column="id", min_rows=10_000)


def test_per_group_quota_holds_in_every_group():
    ds = make(2000)
    out, report = enforce_quota(ds, 0.15, by="domain", id_column="id", return_report=True)
    for domain in ("news", "code", "chat"):
        part = out.filter(lambda r: r["domain"] == domain)
        before = ds.filter(lambda r: r["domain"] == domain)
        n_h = sum(1 for x in before["sf_label"] if x != "synthetic")
        assert part["sf_label"].count("synthetic") == (n_h * 15) // 85
        assert report.to_dict()["groups"][domain]["share_after"] <= 0.15


def test_unknown_policies():
    ds = make()
    n_unknown = ds["sf_label"].count("unknown")
    dropped, rep = enforce_quota(ds, 0.1, unknown="drop", id_column="id", return_report=True)
    assert "unknown" not in dropped["sf_label"] and rep.dropped["unknown"] == n_unknown
    as_syn = enforce_quota(ds, 0.1, unknown="synthetic", id_column="id")
    assert share(as_syn, unknown_as="synthetic") <= Fraction(1, 10)


def test_synthetic_column_and_score_threshold_sources():
    ds = make().map(lambda r: {"is_synthetic": r["id"] % 3 == 0, "sf_score": (r["id"] % 10) / 10})
    out = enforce_quota(ds, 0.1, synthetic_column="is_synthetic", id_column="id")
    flags = out["is_synthetic"]
    assert Fraction(sum(flags), len(flags)) <= Fraction(1, 10) and sum(flags) > 0
    out = enforce_quota(ds, 0.1, score_threshold=0.75, id_column="id")
    scores = np.array(out["sf_score"])
    assert (scores >= 0.75).mean() <= 0.1 + 1e-12


def test_selection_is_deterministic_across_num_proc_order_and_shards():
    ds = make(800)
    base = enforce_quota(ds, 0.1, by="domain", id_column="id", seed=3)["id"]
    assert enforce_quota(ds, 0.1, by="domain", id_column="id", seed=3, num_proc=2)["id"] == base
    assert enforce_quota(ds, 0.1, by="domain", id_column="id", seed=3, num_shards=5)["id"] == base
    shuffled = ds.shuffle(seed=11)
    resorted = shuffled.sort("id")
    assert enforce_quota(resorted, 0.1, by="domain", id_column="id", seed=3)["id"] == base
    # the same rows survive in the shuffled order too (selection is per row, not per position)
    assert sorted(enforce_quota(shuffled, 0.1, by="domain", id_column="id", seed=3)["id"]) == base
    assert enforce_quota(ds, 0.1, by="domain", id_column="id", seed=4)["id"] != base


def test_text_key_is_the_default_and_num_proc_agrees():
    ds = make(300)
    a = enforce_quota(ds, 0.05)["id"]
    b = enforce_quota(ds, 0.05, num_proc=2)["id"]
    assert a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["human", "synthetic", "unknown"]), min_size=0, max_size=120),
       st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]), st.sampled_from(["cap", "exact"]),
       st.integers(1, 6), st.integers(0, 5))
def test_property_exact_counts_order_and_sharding(labels, target, mode, shards, seed):
    ds = datasets.Dataset.from_dict({"id": list(range(len(labels))), "sf_label": labels})
    try:
        out = enforce_quota(ds, target, mode=mode, id_column="id", seed=seed, min_rows=0)
    except ValueError:
        pytest.fail("no error expected with min_rows=0")
    ids = out["id"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    kept = [labels[i] for i in ids]
    syn = kept.count("synthetic")
    n_h_all = len(labels) - labels.count("synthetic")
    f = Fraction(repr(target))
    if len(kept):
        assert Fraction(syn, len(kept)) <= f
    if mode == "cap":
        assert len(kept) - syn == n_h_all
        assert syn == min(labels.count("synthetic"), int(f * n_h_all / (1 - f)))
    else:
        assert syn == int(f * len(kept))
    assert enforce_quota(ds, target, mode=mode, id_column="id", seed=seed, min_rows=0, num_shards=shards)["id"] == ids


def test_streaming_prefix_share_never_exceeds_target():
    ds = make(1000, p=(0.5, 0.5, 0.0))
    stream = enforce_quota(ds.to_iterable_dataset(num_shards=3), 0.2)
    syn = total = 0
    for row in stream:
        total += 1
        syn += row["sf_label"] == "synthetic"
        assert Fraction(syn, total) <= Fraction(1, 5)
    assert total > 0 and syn > 0
    grouped = list(enforce_quota(ds.to_iterable_dataset(), 0.2, by="domain"))
    for domain in ("news", "code", "chat"):
        labels = [r["sf_label"] for r in grouped if r["domain"] == domain]
        running = np.cumsum([x == "synthetic" for x in labels]) / np.arange(1, len(labels) + 1)
        assert (running <= 0.2 + 1e-12).all()


def test_bad_inputs_are_clear_errors():
    ds = make(50)
    for bad in (-0.1, 1.0, 1.5, "0.1", True):
        with pytest.raises(ValueError, match="max_synthetic"):
            enforce_quota(ds, bad, id_column="id")
    with pytest.raises(KeyError, match="run ds.map\\(synthfilter.tag"):
        enforce_quota(ds.remove_columns("sf_label"), 0.1, id_column="id")
    with pytest.raises(KeyError, match="id_column 'nope'"):
        enforce_quota(ds, 0.1, id_column="nope")
    weird = datasets.Dataset.from_dict({"id": [1], "sf_label": ["maybe"]})
    with pytest.raises(ValueError, match="'maybe'"):
        enforce_quota(weird, 0.1, id_column="id")
    with pytest.raises(ValueError, match="mode"):
        enforce_quota(ds, 0.1, mode="strict", id_column="id")


def test_quota_report_matches_enforce_quota_stats_and_serialises():
    ds = make(500)
    out, stats = enforce_quota(ds, 0.1, by="domain", id_column="id", return_report=True)
    report = quota_report(ds, out, 0.1, by="domain", id_column="id")
    assert report.to_dict() == stats.to_dict()
    data = json.loads(report.to_json())
    assert data["rows_after"] == out.num_rows
    assert data["dropped"]["surplus-synthetic"] == ds.num_rows - out.num_rows
    assert "realised share" in str(report) and "news" in str(report)


def test_mix_exact_composition_and_determinism():
    human = datasets.Dataset.from_dict({"text": [f"h{i}" for i in range(100)]})
    synth = datasets.Dataset.from_dict({"text": [f"s{i}" for i in range(30)]})
    m = mix(human=human, synthetic=synth, synthetic_fraction=0.2, size=90, seed=1)
    assert m.num_rows == 90 and m["sf_source"].count("synthetic") == 18
    assert m["text"] == mix(human=human, synthetic=synth, synthetic_fraction=0.2, size=90, seed=1)["text"]
    assert m["text"] != mix(human=human, synthetic=synth, synthetic_fraction=0.2, size=90, seed=2)["text"]
    first = m["sf_source"][:30]
    assert 0 < first.count("synthetic") < 30, "interleaved, not concatenated"
    with pytest.raises(ValueError, match="replace=True"):
        mix(human=human, synthetic=synth, synthetic_fraction=0.5, size=100)
    up = mix(human=human, synthetic=synth, synthetic_fraction=0.5, size=100, replace=True)
    counts = {t: up["text"].count(t) for t in set(up["text"]) if t.startswith("s")}
    assert sum(counts.values()) == 50 and max(counts.values()) - min(counts.values()) <= 1


def test_public_api_exports():
    assert sf.enforce_quota is enforce_quota and sf.mix is mix and sf.quota_report is quota_report


def _grouped(values, n=240, seed=3):
    rng = np.random.default_rng(seed)
    return datasets.Dataset.from_dict({
        "id": list(range(n)), "text": [f"row {i}" for i in range(n)],
        "sf_label": rng.choice(["human", "synthetic"], n, p=[0.6, 0.4]).tolist(),
        "g": [values[i % len(values)] for i in range(n)],
    })


@pytest.mark.parametrize("values", [["a", None, "b"], [1.5, float("nan"), 2.5], [None, None, "x"]])
def test_null_and_nan_groups_form_one_group_with_and_without_num_proc_and_shards(values):
    ds = _grouped(values)
    plain, report = enforce_quota(ds, 0.1, by="g", id_column="id", return_report=True)
    assert "<null>" in report.to_dict()["groups"]
    missing = [i for i, g in zip(ds["id"], ds["g"]) if g is None or g != g]
    kept_missing = [i for i, g in zip(plain["id"], plain["g"]) if g is None or g != g]
    labels = dict(zip(ds["id"], ds["sf_label"]))
    assert sum(labels[i] == "synthetic" for i in kept_missing) <= 0.1 * len(kept_missing)
    assert {i for i in missing if labels[i] == "human"} <= set(kept_missing), "human rows of the null group kept"
    assert enforce_quota(ds, 0.1, by="g", id_column="id", num_proc=2)["id"] == plain["id"]
    assert enforce_quota(ds, 0.1, by="g", id_column="id", num_shards=4)["id"] == plain["id"]
    streamed = [r["id"] for r in enforce_quota(ds.to_iterable_dataset(), 0.1, by="g")]
    assert set(i for i in missing if labels[i] == "human") <= set(streamed)


@pytest.mark.parametrize("column,values", [("is_ai", [True, False]), ("is_ai", [1, 0])])
def test_boolean_or_integer_label_columns_are_read_as_provenance(column, values):
    n = 100
    ds = datasets.Dataset.from_dict({"id": list(range(n)), column: [values[i % 2] for i in range(n)]})
    out = enforce_quota(ds, 0.2, label_column=column, id_column="id")
    kept = out[column]
    assert sum(1 for v in kept if v == values[0]) == 12  # floor(0.2 * 50 / 0.8)
    assert sum(1 for v in kept if v == values[1]) == 50
    assert enforce_quota(ds, 0.2, synthetic_column=column, id_column="id")["id"] == out["id"]


def test_integer_labels_other_than_zero_one_are_a_clear_error():
    ds = datasets.Dataset.from_dict({"id": [0, 1, 2], "lab": [0, 1, 7]})
    with pytest.raises(ValueError, match="label column 'lab' holds \\[7\\]"):
        enforce_quota(ds, 0.2, label_column="lab", id_column="id")


def test_provenance_null_in_its_first_batch():
    n = 3000
    rows = {"id": list(range(n)), "prov": [None] * 1200 + [bool(i % 3 == 0) for i in range(n - 1200)]}
    ds = datasets.Dataset.from_dict(rows)
    out, report = enforce_quota(ds, 0.1, synthetic_column="prov", id_column="id", return_report=True, num_proc=2)
    assert report.to_dict()["groups"]["all"]["before"]["unknown"] == 1200
    assert out["id"] == enforce_quota(ds, 0.1, synthetic_column="prov", id_column="id")["id"]
    null_first = datasets.Dataset.from_dict({"id": [0, 1], "prov": [None, None]})
    assert enforce_quota(null_first, 0.1, synthetic_column="prov", id_column="id").num_rows == 2
    stream = enforce_quota(ds.to_iterable_dataset(), 0.1, synthetic_column="prov")
    assert sum(1 for _ in stream) >= 1200


def test_ids_at_or_above_two_to_the_63_agree_across_num_proc_and_shards():
    n = 400
    ids = [2**63 + 7 * i for i in range(n)]
    rng = np.random.default_rng(0)
    table = pa.table({"id": pa.array(ids, pa.uint64()),
                      "sf_label": pa.array(rng.choice(["human", "synthetic"], n).tolist())})
    ds = datasets.Dataset(InMemoryTable(table))
    plain = enforce_quota(ds, 0.1, id_column="id")["id"]
    assert enforce_quota(ds, 0.1, id_column="id", num_proc=2)["id"] == plain
    assert enforce_quota(ds, 0.1, id_column="id", num_shards=3)["id"] == plain
    assert plain == sorted(plain) and all(i >= 2**63 for i in plain)


@pytest.mark.parametrize("fraction", [0.0, 1.0])
@pytest.mark.parametrize("size", [0, 1, 7])
def test_mix_edge_fractions_and_sizes(fraction, size):
    human = datasets.Dataset.from_dict({"text": [f"h{i}" for i in range(10)]})
    synth = datasets.Dataset.from_dict({"text": [f"s{i}" for i in range(10)]})
    m = mix(human=human, synthetic=synth, synthetic_fraction=fraction, size=size, seed=0)
    assert m.num_rows == size
    assert m["sf_source"].count("synthetic") == int(fraction * size)
    assert m["text"] == mix(human=human, synthetic=synth, synthetic_fraction=fraction, size=size, seed=0)["text"]


def test_mix_from_an_empty_source_only_when_nothing_is_needed_from_it():
    human = datasets.Dataset.from_dict({"text": ["h0", "h1"]})
    empty = human.select([])
    assert mix(human=human, synthetic=empty, synthetic_fraction=0.0, size=2)["text"] != []
    with pytest.raises(ValueError, match="synthetic: empty"):
        mix(human=human, synthetic=empty, synthetic_fraction=0.5, size=2, replace=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["human", "synthetic", "unknown"]), min_size=1, max_size=80),
       st.integers(1, 4), st.integers(1, 50), st.integers(0, 3))
def test_property_quota_is_the_same_for_any_shuffle_shards_and_batching(labels, shards, batch, seed):
    n = len(labels)
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "sf_label": labels,
                                     "g": [("a", "b", None)[i % 3] for i in range(n)]})
    base = enforce_quota(ds, 0.25, by="g", id_column="id", seed=seed)["id"]
    assert base == sorted(base)
    order = np.random.default_rng(seed).permutation(n)
    shuffled = enforce_quota(ds.select(order), 0.25, by="g", id_column="id", seed=seed, num_shards=shards)["id"]
    assert sorted(shuffled) == base
    rebatched = ds.map(lambda b: b, batched=True, batch_size=batch)
    assert enforce_quota(rebatched, 0.25, by="g", id_column="id", seed=seed)["id"] == base
