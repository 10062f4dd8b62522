"""within="isolation" (the default): rare rows absorbed into common clusters are kept first; the
shipped static model loads without distilling; clean's near-duplicate threshold follows the embedder."""

import json

import datasets
import numpy as np
import pytest

import synthfilter as sf
from synthfilter.diversity import encoders, static_model
from synthfilter.diversity.isolation import isolation_scores


def absorbed(n=3000, rare=60, seed=0, dim=16):
    """Three common blobs; the rare rows sit 3 standard deviations off one blob along one axis: too few
    and too close to get a cluster of their own, farther from every centroid than the blob's rows."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (3, dim))
    X = centres[rng.integers(0, 3, n)] + rng.normal(0, 1, (n, dim))
    is_rare = np.zeros(n, dtype=bool)
    is_rare[:rare] = True
    X[:rare] = centres[0] + rng.normal(0, 1, (rare, dim))
    X[:rare, -1] += 3.0
    return datasets.Dataset.from_dict({"id": np.arange(n), "sf_embedding": X.astype(np.float32).tolist(),
                                       "rare": is_rare.tolist()})


def gain(ds, **kw):
    out = sf.resample_tails(ds, ds.num_rows // 5, id_column="id", seed=0, **kw)
    return np.mean(out["rare"]) / np.mean(ds["rare"])


@pytest.mark.parametrize("seed", [0, 1])
def test_isolation_keeps_absorbed_rare_rows_better_than_hash_sampling(seed):
    ds = absorbed(seed=seed)
    assert sf.ResampleConfig().within == "isolation"
    default, hashed = gain(ds), gain(ds, within="hash")
    assert default >= 2.8 and default >= hashed + 0.8, (default, hashed)


def test_isolation_scores_are_ranks_of_usable_rows_and_order_free():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (500, 8)).astype(np.float32)
    rows = np.arange(1, 500)  # row 0 left out
    s = isolation_scores(X, rows, rows, seed=0)
    assert s[0] == 0 and (s[rows] > 0).all() and (s[rows] <= 1).all()
    by_norm = rows[np.argsort(np.linalg.norm(X[rows], axis=1))]
    assert s[by_norm[-50:]].mean() > 0.7 > 0.4 > s[by_norm[:50]].mean(), "the blob's edge is more isolated"
    perm = rng.permutation(500)
    inv = np.argsort(perm)  # row r of X is row inv[r] of X[perm]
    s2 = isolation_scores(X[perm], inv[rows], inv[rows], seed=0)  # the same sample, in the same order
    assert np.allclose(s2[inv], s)


def test_within_is_checked():
    with pytest.raises(ValueError, match="within must be 'isolation', 'hash' or 'centroid'"):
        sf.ResampleConfig(within="far")


# --------------------------------------------------------------------------- the shipped static model
def test_default_embedder_is_the_shipped_static_model_and_never_distils(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHFILTER_CACHE", str(tmp_path / "empty"))

    def no_distill(*args, **kwargs):
        raise AssertionError("the shipped model must not be distilled at run time")

    monkeypatch.setattr(encoders, "_distill", no_distill)
    emb = sf.Embedder()
    assert emb.model == "static" and static_model.is_shipped()
    v = np.array(emb.encode(["A dog runs in the park.", "A puppy is running in a park.",
                             "Stock markets fell sharply today.", None]), dtype=object)
    assert v[3] is None
    a, b, c = (np.asarray(x) for x in v[:3])
    assert a.shape == (256,) and abs(np.linalg.norm(a) - 1) < 1e-5
    assert a @ b > a @ c + 0.1
    assert not (tmp_path / "empty").exists(), "nothing written to the cache"


def test_shipped_files_match_their_recorded_checksums_and_recipe():
    meta = json.loads((static_model.SHIPPED_STATIC / "static.json").read_text())
    for name, digest in meta["sha256"].items():
        assert static_model._sha256(static_model.SHIPPED_STATIC / name) == digest, name
    assert meta["recipe"] == encoders.STATIC_VERSION and meta["pca_dims"] == encoders.STATIC_PCA_DIMS
    assert meta["build"] == "python -m synthfilter.diversity.static_model"


def test_int8_storage_keeps_every_token_vector_within_a_hair_of_float32():
    rng = np.random.default_rng(0)
    V = (rng.normal(0, 1, (300, 64)) * rng.uniform(0.01, 5, (300, 1))).astype(np.float32)
    V[7] = 0.0
    q, scales = static_model._quantise(V)
    back = q.astype(np.float32) * scales[:, None]
    assert q.dtype == np.int8 and np.abs(q).max() <= 127 and not back[7].any()
    rows = np.arange(300) != 7
    cos = (back[rows] * V[rows]).sum(1) / np.linalg.norm(back[rows], axis=1) / np.linalg.norm(V[rows], axis=1)
    assert cos.min() > 0.9999


def test_clean_dedup_threshold_follows_the_embedder_unless_given():
    from synthfilter.pipeline import CleanConfig

    assert CleanConfig(0.1, 10, basis="labels").dedup_threshold == sf.Embedder(model="static").dedup_threshold
    assert CleanConfig(0.1, 10, basis="labels", embedder="minilm").dedup_threshold == encoders.DEDUP_THRESHOLDS["minilm"]
    assert CleanConfig(0.1, 10, basis="labels", embedder="some/model").dedup_threshold == encoders.DEFAULT_DEDUP_THRESHOLD
    assert CleanConfig(0.1, 10, basis="labels", dedup_threshold=0.9).dedup_threshold == 0.9
    assert CleanConfig(0.1, 10, basis="labels", dedup_threshold=None).dedup_threshold is None
