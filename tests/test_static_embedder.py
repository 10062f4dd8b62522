"""Embedder(model="static") where the shipped model is missing: distilled once into the cache, reused,
deterministic; formatted datasets. (The shipped model itself: tests/test_resample_isolation.py.)

Distillation runs through the real model2vec code path, but from a 1-layer, 32-wide random
BERT with 3,000 of MiniLM's tokens (seconds, not the minutes of the real MiniLM). The real
model is checked only where it is already built in this machine's cache.
"""

import json
import multiprocessing
import pickle
import shutil
from importlib.util import find_spec
from pathlib import Path

import datasets
import numpy as np
import pytest

import synthfilter as sf
from synthfilter.diversity import encoders, static_model
from synthfilter.models import is_loaded

needs_distill = pytest.mark.skipif(find_spec("model2vec") is None or find_spec("skeletoken") is None,
                                   reason="distillation needs model2vec and skeletoken (pip install model2vec skeletoken)")

TEXTS = ["A dog runs in the park.", "A puppy is running in a park.", "Stock markets fell sharply today.",
         "The court dismissed the appeal on procedural grounds.", None, "   ", "12345"]
REAL_STATIC = encoders.static_model_path()  # this machine's cache, resolved before any test redirects it


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory):
    """A tiny random BERT with 3,000 of MiniLM's WordPiece tokens: distils in seconds through the same code."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny-bert")
    src = Path(encoders.minilm_path())
    tok = json.loads((src / "tokenizer.json").read_text())
    kept = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [w for w, i in sorted(tok["model"]["vocab"].items(),
                                                                                   key=lambda kv: kv[1]) if 999 <= i < 4000]
    ids = {w: i for i, w in enumerate(kept)}
    tok["model"]["vocab"] = ids
    for added in tok["added_tokens"]:
        added["id"] = ids[added["content"]]
    for special in tok["post_processor"]["special_tokens"].values():
        special["ids"] = [ids[t] for t in special["tokens"]]
    tok["padding"] = tok["truncation"] = None
    (out / "tokenizer.json").write_text(json.dumps(tok))
    (out / "vocab.txt").write_text("\n".join(kept) + "\n")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, out / name)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(kept), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(out))
    return str(out)


@pytest.fixture
def cache(monkeypatch, tmp_path, tiny_source):
    """A fresh cache folder, the tiny source, no shipped model (so the cache path is taken), and a
    count of distillations."""
    monkeypatch.setenv("SYNTHFILTER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(static_model, "is_shipped", lambda folder=None: False)
    monkeypatch.setattr(encoders, "_static_source", lambda: tiny_source)
    monkeypatch.setattr(encoders, "STATIC_PCA_DIMS", 16)
    calls = []
    real = encoders._distill

    def counting(source, folder):
        calls.append(folder)
        real(source, folder)

    monkeypatch.setattr(encoders, "_distill", counting)
    return tmp_path / "cache", calls


@needs_distill
def test_static_builds_into_the_cache_once_and_is_deterministic(cache):
    root, calls = cache
    emb = sf.Embedder(model="static")
    vecs = emb.encode(TEXTS)
    path = root / f"static-minilm-{encoders.STATIC_VERSION}"
    assert len(calls) == 1 and (path / "synthfilter-static.json").is_file()
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == [], "no temporary folder left"
    meta = json.loads((path / "synthfilter-static.json").read_text())
    assert meta["recipe"] == encoders.STATIC_VERSION and meta["pca_dims"] == 16
    modes = {f.stat().st_mode & 0o777 for f in path.iterdir()}
    assert len(modes) == 1, "every file readable as the umask allows (a cache may be shared)"
    assert vecs[4] is None and vecs[5] is None and vecs[6] is None
    good = np.stack(vecs[:4])
    assert good.dtype == np.float32 and good.shape == (4, 16)
    np.testing.assert_allclose(np.linalg.norm(good, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np.stack(emb.encode(TEXTS[:4])), good)  # same vectors every call
    # a new transform (or process) loads the cached folder: no second distillation, folder untouched
    stamp = (path / "synthfilter-static.json").stat().st_mtime_ns
    fresh = sf.Embedder(model="static")
    np.testing.assert_array_equal(np.stack(fresh.encode(TEXTS[:4])), good)
    assert len(calls) == 1 and (path / "synthfilter-static.json").stat().st_mtime_ns == stamp
    # pickles without the model, which loads again (from the cache) where unpickled
    assert is_loaded(emb, "loaded_model")
    clone = pickle.loads(pickle.dumps(emb))
    assert not is_loaded(clone, "loaded_model") and len(pickle.dumps(emb)) < 2000
    np.testing.assert_array_equal(np.stack(clone.encode(TEXTS[:4])), good)
    assert len(calls) == 1
    # building again elsewhere gives the same model, bit for bit
    other = encoders.build_static_model(root / "again")
    assert len(calls) == 2
    from safetensors.numpy import load_file
    a, b = load_file(str(path / "model.safetensors")), load_file(str(other / "model.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@needs_distill
def test_static_in_dataset_map_with_workers(cache):
    root, calls = cache
    ds = datasets.Dataset.from_dict({"text": TEXTS * 4})
    emb = sf.Embedder(model="static")
    one = ds.map(emb, batched=True, batch_size=5, features=emb.output_features(ds.features))
    two = ds.map(sf.Embedder(model="static"), batched=True, batch_size=5, num_proc=2, load_from_cache_file=False)
    assert one["sf_embedding"] == two["sf_embedding"]
    assert len(calls) == 1, "built once by the first map; the workers loaded it"


def _race(args):
    """Worker of the race test: a slow fake distillation that records each run."""
    cache_dir, log = args
    import os
    import time

    os.environ["SYNTHFILTER_CACHE"] = cache_dir

    def slow(source, folder):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        (folder / "model.safetensors").write_bytes(b"x" * 1000)

    encoders._distill = slow
    encoders._static_source = lambda: "tiny"
    return str(encoders.build_static_model())


def test_racing_builds_distil_once_and_leave_a_complete_folder(tmp_path):
    log = tmp_path / "builds.log"
    with multiprocessing.get_context("fork").Pool(3) as pool:
        paths = pool.map(_race, [(str(tmp_path / "cache"), str(log))] * 3)
    assert len(set(paths)) == 1
    assert len(log.read_text().split()) == 1, "one process distilled, the others waited for it"
    built = Path(paths[0])
    assert (built / "model.safetensors").stat().st_size == 1000 and (built / "synthfilter-static.json").is_file()
    assert sorted(p.name for p in built.parent.iterdir()) == [built.name, built.name + ".lock"]


def test_failed_build_leaves_no_folder_and_a_foreign_folder_is_not_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHFILTER_CACHE", str(tmp_path))
    monkeypatch.setattr(encoders, "_static_source", lambda: "tiny")

    def broken(source, folder):
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr(encoders, "_distill", broken)
    with pytest.raises(RuntimeError, match="mid-build"):
        encoders.build_static_model()
    assert [p.name for p in tmp_path.iterdir()] == [encoders.static_model_path().name + ".lock"]
    monkeypatch.setattr(encoders, "_distill", lambda source, folder: (folder / "m.bin").write_bytes(b"x"))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not a built static model"):
        encoders.build_static_model(foreign)
    assert (foreign / "keep.txt").read_text() == "user data"


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
def test_formatted_datasets_embed_like_plain_ones(fmt):
    ds = datasets.Dataset.from_dict({"text": TEXTS, "n": list(range(len(TEXTS)))})
    emb = sf.Embedder(model="hashing", dim=32)
    plain = ds.map(emb, batched=True, batch_size=3, features=emb.output_features(ds.features))["sf_embedding"]
    formatted = ds.with_format(fmt)
    out = formatted.map(sf.Embedder(model="hashing", dim=32), batched=True, batch_size=3,
                        features=emb.output_features(ds.features), load_from_cache_file=False)
    assert out.with_format(None)["sf_embedding"] == plain
    rows = formatted.map(sf.Embedder(model="hashing", dim=32), features=emb.output_features(ds.features),
                         load_from_cache_file=False)  # one row at a time
    assert rows.with_format(None)["sf_embedding"] == plain


def test_numpy_values_direct_call():
    emb = sf.Embedder(model="hashing", dim=16)
    batch = {"text": np.array(["a cat", None, "a dog"], dtype=object)}
    out = emb(batch)["sf_embedding"]
    assert len(out) == 3 and out[1] is None
    assert len(emb({"text": np.array(["a cat", "a dog"])})["sf_embedding"]) == 2  # unicode array
    assert len(emb({"text": np.str_("a cat")})["sf_embedding"]) == 16  # one row
    assert len(emb({"text": np.array("a cat")})["sf_embedding"]) == 16  # 0-d array: one row
    import pandas as pd
    import pyarrow as pa
    assert emb({"text": pd.Series(["a cat", None])})["sf_embedding"][1] is None
    table = pa.table({"text": ["a cat", None, "a dog"]})
    out = emb(table)["sf_embedding"]
    assert len(out) == 3 and out[1] is None and np.array_equal(out[0], emb.encode(["a cat"])[0])


@pytest.mark.skipif(not (REAL_STATIC / "synthfilter-static.json").is_file(),
                    reason=f"the real static model is not built in {REAL_STATIC} (build it once with "
                           "synthfilter.diversity.encoders.build_static_model())")
def test_real_static_model_ranks_paraphrases_closer(monkeypatch):
    monkeypatch.setenv("SYNTHFILTER_CACHE", str(REAL_STATIC.parent))
    monkeypatch.setattr(static_model, "is_shipped", lambda folder=None: False)
    v = np.stack(sf.Embedder(model="static").encode(TEXTS[:4]))
    assert v.shape == (4, encoders.STATIC_PCA_DIMS)
    assert v[0] @ v[1] > max(v[0] @ v[2], v[0] @ v[3]) + 0.1


@needs_distill
def test_build_static_command_builds_once_then_reports_it_built(cache, capsys):
    from synthfilter.cli import main

    root, calls = cache
    assert main(["embedder", "build-static"]) == 0
    path = root / f"static-minilm-{encoders.STATIC_VERSION}"
    assert len(calls) == 1 and encoders.is_static_model_built(path)
    assert f"built in {path}" in capsys.readouterr().out
    assert main(["embedder", "build-static"]) == 0
    assert len(calls) == 1 and "already built" in capsys.readouterr().out
    assert main(["embedder", "build-static", "--path", str(root / "elsewhere")]) == 0
    assert len(calls) == 2 and encoders.is_static_model_built(root / "elsewhere")
    assert "SYNTHFILTER_CACHE" in capsys.readouterr().out
