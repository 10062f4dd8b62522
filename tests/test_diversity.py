import math
import pickle

import datasets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthfilter as sf
from synthfilter.models import is_loaded
from synthfilter import metrics
from synthfilter.diversity import water_fill


def planted(n=4000, rare_share=0.01, seed=0, dim=8):
    rng = np.random.default_rng(seed)
    rare = np.zeros(n, dtype=bool)
    rare[rng.choice(n, int(n * rare_share), replace=False)] = True
    X = np.where(rare[:, None], rng.normal(10, 0.3, (n, dim)), rng.normal(0, 1, (n, dim))).astype(np.float32)
    return datasets.Dataset.from_dict({"id": np.arange(n), "sf_embedding": X.tolist(), "rare": rare.tolist()})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=20), st.integers(0, 400))
def test_water_fill_properties(capacity, budget):
    cap = np.array(capacity)
    a = water_fill(cap, budget)
    assert (a >= 0).all() and (a <= cap).all()
    assert a.sum() == min(budget, cap.sum())
    # water-filling: a group below capacity holds at least as much as any other group, minus rounding
    below = a < cap
    if below.any():
        assert a.max() - a[below].min() <= 1


def test_water_fill_keeps_small_groups_whole_and_caps_large():
    assert water_fill(np.array([5, 100, 3, 50]), 40).tolist() == [5, 16, 3, 16]
    assert water_fill(np.array([5, 100, 3, 50]), 40, np.array([1, 2, 1, 0])).tolist() == [5, 32, 3, 0]


def test_planted_rare_component_is_recovered():
    ds = planted()
    out = sf.resample_tails(ds, 800, id_column="id", seed=1)
    assert out.num_rows == 800
    assert np.mean(out["rare"]) >= 4.5 * np.mean(ds["rare"])  # at most 5x is possible without replacement
    assert out["id"] == sorted(out["id"]), "original order kept"
    assert "sf_cluster" in out.column_names


def test_reference_mode_matches_reference_proportions_instead_of_flattening():
    ds = planted(rare_share=0.05)
    reference = planted(n=2000, rare_share=0.01, seed=5)
    out = sf.resample_tails(ds, 1000, id_column="id", reference=reference)
    flat = sf.resample_tails(ds, 1000, id_column="id")
    assert abs(np.mean(out["rare"]) - 0.01) < 0.01
    assert np.mean(flat["rare"]) > 0.04


def test_deterministic_across_order_and_num_proc_of_embedding(tmp_path):
    ds = planted(2000)
    a = sf.resample_tails(ds, 300, id_column="id", seed=3)["id"]
    shuffled = ds.shuffle(seed=9)
    b = sorted(sf.resample_tails(shuffled, 300, id_column="id", seed=3)["id"])
    assert a == b
    assert sf.resample_tails(ds, 300, id_column="id", seed=4)["id"] != a
    # without an id or text column the vector itself is the key
    c = sf.resample_tails(ds.remove_columns("id").add_column("i", list(range(2000))), 300, text_column=None, seed=3)["i"]
    d = sorted(sf.resample_tails(shuffled.remove_columns("id").add_column("i", shuffled["id"]), 300, text_column=None, seed=3)["i"])
    assert c == d


def test_by_label_rebalances_categories():
    labels = ["yellow"] * 900 + ["blue"] * 100
    ds = datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(1000)], "colour": labels})
    out = sf.resample_tails(ds, 200, by="colour")
    assert out["colour"].count("blue") == 100 and out["colour"].count("yellow") == 100
    tempered = sf.resample_tails(ds, 200, by="colour", alpha=0.5)  # 30:10 -> 150:50
    assert tempered["colour"].count("blue") == 50
    target = sf.resample_tails(ds, 100, by="colour", target={"yellow": 0.7, "blue": 0.3})
    assert target["colour"].count("blue") == 30


def test_upsampling_with_replacement_caps_repeats():
    labels = ["a"] * 90 + ["b"] * 10
    ds = datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(100)], "g": labels})
    with pytest.raises(ValueError, match="replace=True"):
        sf.resample_tails(ds, 150, by="g")
    out = sf.resample_tails(ds, 100, by="g", replace=True, max_repeats=3)
    counts = {}
    for t in out["text"]:
        counts[t] = counts.get(t, 0) + 1
    assert out["g"].count("b") == 30 and max(counts.values()) == 3


def test_bad_inputs():
    ds = planted(200)
    with pytest.raises(KeyError, match="synthfilter.Embedder"):
        sf.resample_tails(ds.remove_columns("sf_embedding"), 10)
    with pytest.raises(ValueError, match="size=500"):
        sf.resample_tails(ds, 500, id_column="id")
    with pytest.raises(ValueError, match="n_clusters"):
        sf.resample_tails(ds.select(range(5)), 3, id_column="id", n_clusters=10)
    emb = list(ds["sf_embedding"])
    emb[3] = None
    emb[4] = [float("nan")] * 8
    emb[5] = [1.0, 2.0]
    broken = ds.remove_columns("sf_embedding").add_column("sf_embedding", emb)
    with pytest.raises(ValueError, match="3 rows have a null, NaN or wrong-length"):
        sf.resample_tails(broken, 50, id_column="id")
    out, report = sf.resample_tails(broken, 50, id_column="id", invalid="drop", return_report=True)
    assert report.invalid_dropped == 3 and not {3, 4, 5} & set(out["id"])


def test_feature_columns_instead_of_embeddings():
    rng = np.random.default_rng(0)
    ds = datasets.Dataset.from_dict({"x": rng.normal(size=500).tolist(), "y": rng.normal(size=500).tolist(),
                                     "id": list(range(500))})
    out = sf.resample_tails(ds, 100, feature_columns=["x", "y"], id_column="id")
    assert out.num_rows == 100 and len(set(out["id"])) == 100


def test_dedup_semantic_drops_near_duplicates_within_clusters():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 16))
    dups = base[:20] + rng.normal(scale=1e-3, size=(20, 16))
    X = np.vstack([base, dups]).astype(np.float32)
    ds = datasets.Dataset.from_dict({"id": list(range(70)), "sf_embedding": X.tolist()})
    out, report = sf.dedup_semantic(ds, threshold=0.99, n_clusters=3, return_report=True)
    assert out["id"] == list(range(50))
    assert report.rows_before - report.rows_after == 20 == sum(report.to_dict()["dropped_per_cluster"].values())
    assert sf.dedup_semantic(ds, threshold=1.0, n_clusters=3).num_rows == 70
    with pytest.raises(ValueError, match="threshold"):
        sf.dedup_semantic(ds, threshold=0)


def test_dedup_semantic_compares_only_the_rows_asked_and_counts_the_others():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 16))
    X = np.vstack([base, base[:10]]).astype(np.float32)  # rows 30..39 repeat rows 0..9 exactly
    ds = datasets.Dataset.from_dict({"id": list(range(40)), "sf_embedding": X.tolist()})
    compare = np.ones(40, dtype=bool)
    compare[35:] = False  # the last five copies are not compared: kept
    out, report = sf.dedup_semantic(ds, threshold=0.99, n_clusters=2, compare=compare, return_report=True)
    assert out["id"] == list(range(30)) + [35, 36, 37, 38, 39]
    assert report.not_compared == 5 and report.to_dict()["not_compared"] == 5
    assert (report.duplicate_of[35:] == -1).all() and list(report.duplicate_of[30:35]) == [0, 1, 2, 3, 4]
    assert "5 rows kept uncompared" in report.summary_lines()[0]
    with pytest.raises(ValueError, match="compare must hold one boolean per row"):
        sf.dedup_semantic(ds, threshold=0.99, compare=[True] * 3)


def test_embedders_declare_the_languages_they_place_meaningfully():
    assert sf.Embedder(model="minilm").languages == ("en",) == sf.Embedder(model="static").languages
    assert sf.Embedder(model="hashing").languages is None


def test_metrics():
    assert metrics.coverage_entropy([10, 10, 10, 10]) == pytest.approx(1.0)
    assert metrics.coverage_entropy([40, 0, 0, 0]) == 0.0
    ref = [0] * 90 + [1] * 10
    assert metrics.rare_mass_retained(ref, [0] * 100, rare_share=0.2) == 0.0
    assert metrics.rare_mass_retained(ref, ref) == pytest.approx(1.0)
    assert metrics.vendi_score(np.ones((10, 3))) == pytest.approx(1.0)
    assert metrics.vendi_score(np.eye(5)) == pytest.approx(5.0)
    assert metrics.distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert metrics.type_token_ratio(["a a b"]) == pytest.approx(2 / 3)


def test_embedder_hashing_transform_pickles_and_marks_bad_rows():
    ds = datasets.Dataset.from_dict({"text": ["the cat sat", "the cat sat down", None, "  "]})
    emb = sf.Embedder(model="hashing")
    out = ds.map(emb, batched=True)
    vecs = out["sf_embedding"]
    assert vecs[2] is None and vecs[3] is None
    assert len(vecs[0]) == 384 and math.isclose(np.linalg.norm(vecs[0]), 1.0, rel_tol=1e-5)
    clone = pickle.loads(pickle.dumps(emb))
    assert not is_loaded(clone, "loaded_model")
    np.testing.assert_allclose(clone.encode(["the cat sat"])[0], vecs[0], rtol=1e-6)
    two = ds.map(sf.Embedder(model="hashing"), batched=True, batch_size=1, num_proc=2)
    assert two["sf_embedding"] == vecs
    with pytest.raises(KeyError, match="'body' not found"):
        ds.map(sf.Embedder(text_column="body"), batched=True)


def test_embedder_minilm_loads_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    ds = datasets.Dataset.from_dict({"text": ["A dog runs in the park.", "A puppy is running in a park.",
                                              "Stock markets fell sharply today."]})
    ds.save_to_disk(str(tmp_path / "ds"))
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    out = ds.map(sf.Embedder(model="minilm"), batched=True)
    v = np.array(out["sf_embedding"])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    fresh = sf.Embedder(model="minilm")
    again = ds.map(fresh, batched=True)
    assert again._fingerprint == out._fingerprint and not is_loaded(fresh, "loaded_model"), "second map served from cache"
