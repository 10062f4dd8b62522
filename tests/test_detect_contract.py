"""The scikit-learn estimator contract, checked the way ``check_estimator`` would for text input.

scikit-learn's own checks feed numeric matrices, so these are targeted versions: clone,
params, fit returns self, learnt state, ``classes_`` and column order for every label
vocabulary, ``cross_val_score``/``score``/metrics, single-string and unscorable input.
The heavier tiers are covered where no model has to run.
"""

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.utils.validation import check_is_fitted

import synthfilter as sf
from synthfilter.detect import DETECTORS, FastDetector, NotFittedError

from .conftest import make_texts

BAD = [None, "", "   \n", 42, b"bytes", "\x00\x01\x02\x03 binary"]

#: (human label, AI label, expected classes_)
VOCABULARIES = [
    ("human", "ai", ["ai", "human"]),
    (0, 1, [0, 1]),
    ("human", "synthetic", ["human", "synthetic"]),
    (False, True, [False, True]),
]


def _small() -> FastDetector:
    return FastDetector(n_features=2**12)


@pytest.fixture(scope="module")
def texts():
    return make_texts(30, "human", seed=21) + make_texts(30, "ai", seed=21)


@pytest.fixture(scope="module")
def held_out():
    return make_texts(20, "human", seed=22) + make_texts(20, "ai", seed=22)


def _labels(human, ai, n=30):
    return [human] * n + [ai] * n


@pytest.fixture(scope="module", params=VOCABULARIES, ids=lambda v: f"{v[0]!r}/{v[1]!r}")
def fitted(request, texts):
    human, ai, classes = request.param
    return _small().fit(texts, _labels(human, ai)), human, ai, classes


# ------------------------------------------------------------ estimator basics
def test_clone_gives_an_unfitted_estimator_with_equal_params(fitted):
    det = fitted[0]
    copy = clone(det)
    assert type(copy) is FastDetector and copy.get_params() == det.get_params()
    assert not [k for k in vars(copy) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)


def test_get_params_set_params_round_trip():
    det = FastDetector()
    params = {**det.get_params(), "n_features": 2**10, "C": 0.5}
    assert det.set_params(**params) is det and det.get_params() == params
    assert clone(det).get_params() == params


def test_fit_returns_self_and_learnt_state_ends_in_underscore(texts):
    det = _small()
    before = set(vars(det))
    assert before == set(det.get_params())
    assert det.fit(texts, _labels("human", "ai")) is det
    learnt = set(vars(det)) - before
    assert {"classes_", "ai_class_", "threshold_", "version_", "model_"} <= learnt
    assert all(k.endswith("_") for k in learnt)
    check_is_fitted(det)


@pytest.mark.parametrize("call", ["predict", "predict_proba", "decision_function", "score_texts", "ai_score", "calibrate"])
def test_not_fitted_error_before_fit(call):
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(FastDetector(), call)(["some text here"])
    with pytest.raises(NotFittedError):
        FastDetector().save("never-written.npz")
    with pytest.raises(NotFittedError):
        check_is_fitted(FastDetector())


# --------------------------------------------------------- classes and columns
def test_classes_follow_the_labels_as_given(fitted):
    det, human, ai, classes = fitted
    assert det.classes_.tolist() == classes
    assert det.ai_class_ == ai and type(det.ai_class_) is type(ai)


def test_columns_and_decision_function_follow_classes(fitted, held_out):
    det, human, ai, classes = fitted
    proba = det.predict_proba(held_out)
    p_ai = det.score_texts(held_out)
    ai_col = classes.index(ai)
    np.testing.assert_array_equal(proba[:, ai_col], p_ai)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # scikit-learn's binary convention: decision_function is the score of classes_[1]
    expected = det.ai_score(held_out) if ai_col == 1 else -det.ai_score(held_out)
    np.testing.assert_array_equal(det.decision_function(held_out), expected)
    np.testing.assert_allclose(p_ai, 1 / (1 + np.exp(-det.ai_score(held_out))))


def test_predict_returns_members_of_classes(fitted, held_out):
    det, human, ai, classes = fitted
    predicted = det.predict(held_out)
    assert predicted.dtype == det.classes_.dtype
    assert set(predicted.tolist()) <= set(classes)
    assert accuracy_score(_labels(human, ai, 20), predicted) > 0.9


def test_metrics_give_high_numbers_for_every_vocabulary(fitted, held_out):
    det, human, ai, classes = fitted
    y = _labels(human, ai, 20)
    assert det.score(held_out, y) > 0.9
    assert roc_auc_score(y, det.predict_proba(held_out)[:, 1]) > 0.9
    assert roc_auc_score(y, det.decision_function(held_out)) > 0.9


@pytest.mark.parametrize("human,ai,_", VOCABULARIES, ids=lambda v: repr(v))
def test_cross_val_score_is_high(human, ai, _, texts):
    y = _labels(human, ai)
    assert cross_val_score(_small(), texts, y, scoring="roc_auc", cv=3).min() > 0.9
    assert cross_val_score(_small(), texts, y, scoring="accuracy", cv=3).min() > 0.9
    assert cross_val_score(_small(), texts, y, cv=3).min() > 0.9  # the estimator's own score()


def test_labels_need_one_value_per_class(texts):
    with pytest.raises(ValueError, match="one value per class"):
        _small().fit(texts, ["human"] * 30 + ["ai"] * 15 + ["AI"] * 15)
    with pytest.raises(ValueError, match="do not mix"):
        _small().fit(texts, ["human"] * 30 + [1] * 30)
    with pytest.raises(ValueError, match="both classes"):
        _small().fit(texts, ["human"] * 60)
    with pytest.raises(ValueError, match="cannot read 'robot'"):
        _small().fit(texts, ["human"] * 30 + ["robot"] * 30)


def test_shipped_fast_detector_keeps_probability_of_ai_in_column_one(held_out):
    det = sf.load_detector("fast")
    assert det.classes_.tolist() == ["human", "synthetic"] and det.ai_class_ == "synthetic"
    np.testing.assert_array_equal(det.predict_proba(held_out)[:, 1], det.score_texts(held_out))
    np.testing.assert_array_equal(det.decision_function(held_out), det.ai_score(held_out))
    assert set(det.predict(held_out).tolist()) <= {"human", "synthetic"}


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call", ["predict", "predict_proba", "decision_function", "score_texts", "ai_score", "calibrate"])
def test_a_single_string_is_a_type_error(call, fitted):
    with pytest.raises(TypeError, match="single str.*\\[text\\]"):
        getattr(fitted[0], call)("one text, not a list")


def test_fit_with_a_single_string_is_a_type_error():
    with pytest.raises(TypeError, match="texts: expected a list of texts"):
        _small().fit("human text", ["human"])
    with pytest.raises(TypeError, match="labels"):
        _small().fit(["a text", "another"], "ai")


def test_unscorable_rows_get_nan_scores(fitted, held_out):
    det, human, ai, classes = fitted
    values = held_out[:2] + BAD
    proba = det.predict_proba(values)
    assert proba.shape == (len(values), 2)
    assert np.isnan(proba[2:]).all() and not np.isnan(proba[:2]).any()
    for call in (det.decision_function, det.score_texts, det.ai_score):
        scores = call(values)
        assert np.isnan(scores[2:]).all() and not np.isnan(scores[:2]).any()
    np.testing.assert_array_equal(det.score_texts(values)[:2], det.score_texts(held_out[:2]))


def test_predict_fit_and_calibrate_name_unscorable_rows(fitted, texts):
    det = fitted[0]
    with pytest.raises(ValueError, match=r"row\(s\) 1 \(.*\), 3 \(.*\).*predict_proba.*Tagger"):
        det.predict(["a fine text to label", None, "another fine text", ""])
    with pytest.raises(ValueError, match=r"texts: row\(s\) 2 .*fit never drops rows"):
        _small().fit(texts[:2] + [None] + texts[3:], _labels("human", "ai"))
    humans = make_texts(20, "human", seed=30)
    with pytest.raises(ValueError, match=r"human_texts: row\(s\) 5 .*calibrate never drops rows"):
        det.calibrate(humans[:5] + ["   "] + humans[6:], target_fpr=0.1)


# ------------------------------------------------------------ every registry tier
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_shipped_weights_have_the_sf_label_classes(name):
    det = sf.load_detector(name)  # loads the head only; no model runs
    assert det.classes_.tolist() == ["human", "synthetic"] and det.ai_class_ == "synthetic"
    assert 0.0 < det.threshold_ < 1.0


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_tier_is_a_well_formed_estimator(name):
    cls = DETECTORS[name]
    det = cls()
    assert set(vars(det)) == set(det.get_params())
    assert clone(det).get_params() == det.get_params()
    assert cls().set_params(**det.get_params()).get_params() == det.get_params()
    with pytest.raises(NotFittedError):
        det.predict_proba(["some text here"])
    with pytest.raises(TypeError, match="single str"):
        det.fit("one text", ["ai"])
    shipped = sf.load_detector(name)
    copy = clone(shipped)
    assert copy.get_params() == shipped.get_params() and not hasattr(copy, "classes_")


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_tier_handles_bad_rows_without_running_its_model(name, monkeypatch):
    det = sf.load_detector(name)
    monkeypatch.setattr(type(det), "_raw_scores", lambda self, texts: pytest.fail("scored an unscorable row"))
    for call in ("predict_proba", "decision_function", "score_texts", "ai_score"):
        with pytest.raises(TypeError, match="single str"):
            getattr(det, call)("a single string")
        assert all(math.isnan(x) for x in np.ravel(getattr(det, call)(BAD)))
    with pytest.raises(ValueError, match="predict_proba"):
        det.predict(BAD)
    assert det.predict_proba([]).shape == (0, 2)
