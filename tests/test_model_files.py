"""A model file replaced at the same path is noticed: cache keys, fingerprints, reloading (issue 30)."""

from __future__ import annotations

import json
import pickle

import datasets
from datasets.fingerprint import Hasher

from synthfilter import Tagger
from synthfilter.detect import FastDetector
from synthfilter.models import content_digest
from tests.conftest import make_texts


def _detector(path, threshold=None):
    human, ai = make_texts(100, "human", seed=3), make_texts(100, "ai", seed=3)
    det = FastDetector().fit(human + ai, ["human"] * 100 + ["ai"] * 100)
    if threshold is not None:
        det.threshold_ = threshold
    det.save(path)
    return det


def test_the_cache_key_follows_the_file_content_not_its_path(tmp_path):
    path = tmp_path / "d.npz"
    _detector(path, 0.5)
    tagger = Tagger(detector=str(path))
    first = Hasher.hash(tagger)
    assert Hasher.hash(Tagger(detector=str(path))) == first  # same content: same key
    _detector(path, 0.99)
    assert Hasher.hash(tagger) != first
    assert "_model_file_sha256" not in pickle.loads(pickle.dumps(tagger)).__dict__


def test_a_second_map_after_the_file_changed_is_not_served_from_the_cache(tmp_path):
    path = tmp_path / "d.npz"
    texts = make_texts(30, "human", seed=5) + make_texts(30, "ai", seed=5)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    ds = datasets.load_dataset("json", data_files=str(src), split="train", cache_dir=str(tmp_path / "cache"))
    _detector(path, 0.000001)
    everything = ds.map(Tagger(detector=str(path)), batched=True)["sf_label"]
    _detector(path, 0.999999)
    nothing = ds.map(Tagger(detector=str(path)), batched=True)["sf_label"]
    assert set(everything) == {"synthetic"} and "synthetic" not in set(nothing)


def test_a_loaded_detector_is_reloaded_when_its_file_changes(tmp_path):
    path = tmp_path / "d.npz"
    _detector(path, 0.000001)
    tagger = Tagger(detector=str(path))
    text = make_texts(1, "human", seed=9)[0]
    assert tagger.score([text])[1] == ["synthetic"]
    _detector(path, 0.999999)
    assert tagger.score([text])[1] == ["human"]


def test_content_digest_of_files_and_folders(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a").write_text("1")
    first = content_digest(tmp_path / "m")
    (tmp_path / "m" / "a").write_text("2")
    assert content_digest(tmp_path / "m") != first and content_digest(tmp_path / "none") is None
