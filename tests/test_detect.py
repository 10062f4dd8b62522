import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import synthfilter as sf
from synthfilter.detect import FastDetector, NotFittedError, coerce_labels
from synthfilter.detect.base import threshold_for_fpr

from .test_text import attack


@pytest.fixture(scope="module")
def fitted(small_corpus):
    human, ai = small_corpus
    return FastDetector(n_features=2**12).fit(human[:100] + ai[:100], ["human"] * 100 + ["ai"] * 100)


def test_fit_separates_the_styles_on_held_out_texts(fitted, small_corpus):
    human, ai = small_corpus
    scores = fitted.predict_proba(human[100:] + ai[100:])
    assert scores.shape == (100, 2)
    assert np.allclose(scores.sum(axis=1), 1.0)
    assert roc_auc_score([0] * 50 + [1] * 50, scores[:, 1]) > 0.95
    assert fitted.predict(ai[100:]).mean() > 0.9


def test_sklearn_estimator_api(fitted):
    params = fitted.get_params()
    assert params["n_features"] == 2**12 and params["max_words"] == 200
    clone = FastDetector().set_params(**params)
    assert clone.get_params() == params
    assert not hasattr(clone, "threshold_")


def test_unfitted_detector_raises_clear_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        FastDetector().predict_proba(["some text"])


def test_fit_rejects_bad_labels_and_one_class():
    with pytest.raises(ValueError, match="labels"):
        FastDetector().fit(["a b", "c d"], ["human", "robot"])
    with pytest.raises(ValueError, match="both classes"):
        FastDetector().fit(["a b", "c d"], ["human", "human"])
    assert coerce_labels(["AI", "human", True, 0, "synthetic", "real"]).tolist() == [1, 0, 1, 0, 1, 0]


def test_calibrate_caps_false_positive_rate(fitted, small_corpus):
    human, _ = small_corpus
    fitted_copy = FastDetector(n_features=2**12)
    fitted_copy.__dict__.update(fitted.__dict__)
    fitted_copy.calibrate(human, target_fpr=0.05)
    assert fitted_copy.predict(human).mean() <= 0.05
    with pytest.raises(ValueError, match="at least 100"):
        fitted_copy.calibrate(human[:20], target_fpr=0.01)
    with pytest.raises(ValueError, match="target_fpr"):
        fitted_copy.calibrate(human, target_fpr=1.5)


def test_threshold_for_fpr_handles_ties():
    scores = np.array([0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    t = threshold_for_fpr(scores, 0.1)
    assert (scores >= t).mean() <= 0.1


def test_save_load_roundtrip(fitted, tmp_path, small_corpus):
    human, ai = small_corpus
    path = fitted.save(tmp_path / "det.npz")
    again = sf.load_detector(path)
    assert isinstance(again, FastDetector)
    assert again.threshold_ == fitted.threshold_
    np.testing.assert_allclose(again.score_texts(ai[:20]), fitted.score_texts(ai[:20]), rtol=1e-5)


def test_shipped_fast_detector_loads_offline():
    det = sf.load_detector("fast")
    assert det.tag.startswith("fast@")
    assert 0.0 < det.threshold_ < 1.0
    assert det.info_["heldout_human_fpr"] <= 0.01
    p = det.score_texts(["The cat sat on the mat and looked out of the window at the rain."])
    assert 0.0 <= p[0] <= 1.0


def test_unknown_detector_name_is_a_clear_error():
    with pytest.raises(ValueError, match="neither a known detector"):
        sf.load_detector("nope")


def test_shipped_detector_scores_attacked_text_as_clean(small_corpus):
    det = sf.load_detector("fast")
    human, ai = small_corpus
    texts = human[:20] + ai[:20]
    np.testing.assert_allclose(det.score_texts([attack(t, i) for i, t in enumerate(texts)]),
                               det.score_texts(texts), atol=1e-6)
