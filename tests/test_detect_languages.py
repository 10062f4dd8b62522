"""A detector scores only the languages it declares: elsewhere its score means nothing."""

import warnings

import numpy as np
import pytest

import synthfilter as sf
from synthfilter.detect import FastDetector

ENGLISH = "The committee met on Tuesday to discuss the budget, and most members agreed that the plan needs more work."
CHINESE = "今天下午我们去公园散步，看到很多人在跑步和打太极拳，天气非常好，心情也特别愉快。"
ARABIC = "ذهبنا إلى السوق في الصباح واشترينا الخبز والفواكه ثم عدنا إلى البيت لتناول الإفطار مع العائلة."
SPANISH = "Ayer por la tarde fuimos al mercado del barrio y compramos frutas, verduras y pan recién hecho para la cena."


@pytest.fixture(scope="module")
def shipped():
    return sf.load_detector("fast")


def test_shipped_detector_gives_no_score_outside_its_languages(shipped):
    assert shipped.declared_languages == ("en",)
    scores = shipped.ai_score([CHINESE, ENGLISH, ARABIC])
    assert np.isnan(scores[0]) and np.isnan(scores[2]) and np.isfinite(scores[1])
    assert np.isnan(shipped.predict_proba([CHINESE])).all()
    assert np.isfinite(shipped.ai_score([CHINESE, ARABIC], any_language=True)).all()


def test_predict_names_rows_out_of_the_detectors_languages(shipped):
    with pytest.raises(ValueError, match=r"row\(s\) 1 \(zh\).*declares \['en'\]"):
        shipped.predict([ENGLISH, CHINESE])


def test_calibrate_leaves_foreign_texts_out_with_a_warning(small_corpus):
    human, ai = small_corpus
    det = FastDetector(n_features=2**12).fit(human[:100] + ai[:100], ["human"] * 100 + ["ai"] * 100)
    english_only = det.calibrate(human[:100]).threshold_
    with pytest.warns(UserWarning, match=r"2 of 102 texts .*zh: 1.*ar: 1"):
        det.calibrate(human[:50] + [CHINESE] + human[50:100] + [ARABIC])
    assert det.threshold_ == english_only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.calibrate(human[:100] + [CHINESE], any_language=True)


def test_a_detector_fitted_on_a_language_declares_and_scores_it(small_corpus):
    human, ai = small_corpus
    spanish = [f"{SPANISH} Número {i}, {'y luego' if i % 2 else 'pero'} volvimos a casa." for i in range(60)]
    det = FastDetector(n_features=2**12).fit(human[:60] + spanish, ["human"] * 60 + ["ai"] * 60)
    assert det.declared_languages == ("en", "es")
    assert np.isfinite(det.ai_score([SPANISH, ENGLISH])).all()
    assert np.isnan(det.ai_score([CHINESE])).all()
