"""The stack (default) and cascade tiers, the embed tier, fit on own data, bad input for every tier."""

import math
import socket

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score

import synthfilter as sf
from synthfilter.detect import CascadeDetector, EmbedDetector, LMDetector, StackDetector
from synthfilter.detect.persist import read_detector_file, write_detector_file
from synthfilter.detect.registry import weights_path
from synthfilter.detect.stack import choose_band
from synthfilter.detect.train import SHIPPED, SHIPPED_ALPHA, WEIGHTS_VERSION, WEIGHTS_VERSIONS
from synthfilter.tag import Tagger

from .conftest import make_texts

BAD = [None, "", "   \n", 42, "これは日本語の文章です"]


@pytest.fixture(scope="module")
def data():
    human, ai = make_texts(60, "human", seed=3), make_texts(60, "ai", seed=3)
    test_h, test_a = make_texts(30, "human", seed=4), make_texts(30, "ai", seed=4)
    return human + ai, [0] * 60 + [1] * 60, test_h + test_a, np.array([0] * 30 + [1] * 30)


@pytest.fixture(scope="module")
def stack(data):
    texts, labels, _, _ = data
    return StackDetector().fit(texts, labels)


def test_stack_fit_separates_held_out_texts_and_outputs_probabilities(stack, data):
    _, _, test, y = data
    p = stack.score_texts(test)
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(y, p) > 0.95
    assert stack.head_.coef.shape == (9 + 31 + 1,)


def test_stack_save_load_round_trip_gives_identical_scores(stack, data, tmp_path):
    _, _, test, _ = data
    stack.calibrate(make_texts(100, "human", seed=9), target_fpr=0.05)
    loaded = sf.load_detector(stack.save(tmp_path / "mine.npz"))
    assert isinstance(loaded, StackDetector) and loaded.threshold_ == stack.threshold_
    np.testing.assert_allclose(loaded.score_texts(test), stack.score_texts(test), rtol=1e-6)


def test_calibrate_from_human_text_alone_meets_the_target_rate(stack):
    humans = make_texts(200, "human", seed=11)
    stack.calibrate(humans[:100], target_fpr=0.05)
    assert (stack.score_texts(humans[:100]) >= stack.threshold_).mean() <= 0.05


def test_groups_make_the_cross_fitting_leave_groups_out(data):
    texts, labels, _, _ = data
    det = StackDetector(n_folds=5)
    groups = ["a", "b"] * 60
    folds = det._folds(np.array(labels), groups)
    assert len(folds) == 2
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    with pytest.raises(ValueError, match="groups"):
        det.fit(texts, labels, groups=["a"])


def test_fit_rejects_one_class_and_mismatched_lengths(data):
    texts, labels, _, _ = data
    with pytest.raises(ValueError, match="both classes"):
        StackDetector().fit(texts[:10], [0] * 10)
    with pytest.raises(ValueError, match="differ in length"):
        StackDetector().fit(texts, labels[:-1])


def test_cascade_band_limits_interpolate_between_fast_gate_and_stack(stack, data):
    _, _, test, _ = data
    everything = CascadeDetector.from_stack(stack, -math.inf, math.inf)
    nothing = CascadeDetector.from_stack(stack, 1.0, -1.0)
    np.testing.assert_allclose(everything.decision_function(test), stack.decision_function(test), rtol=1e-5)
    np.testing.assert_allclose(nothing.decision_function(test), stack.fast_decision(test), rtol=1e-5)
    assert everything.escalated(test).all() and not nothing.escalated(test).any()


def test_choose_band_meets_the_tolerance_with_the_fewest_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    stack = y * 2.0 + rng.normal(0, 1, 2000)
    gate = stack + rng.normal(0, 2, 2000)
    low, high, share = choose_band(gate, stack, y, tolerance=0.01)
    mixed = np.where((gate >= low) & (gate <= high), stack, gate)
    assert roc_auc_score(y, mixed) >= roc_auc_score(y, stack) - 0.01
    assert 0 < share < 1
    _, _, wider = choose_band(gate, stack, y, tolerance=0.001)
    assert wider >= share


def test_lm_and_embed_tiers_fit_on_their_own_features(data):
    texts, labels, test, y = data
    named = ["synthetic" if label else "human" for label in labels]
    for det, given in ((LMDetector(), labels), (EmbedDetector(), named)):
        det.fit(texts, given)
        assert det.classes_.tolist() == sorted(set(given)), det.name
        assert roc_auc_score(y, det.score_texts(test)) > 0.9, det.name
        np.testing.assert_array_equal(det.decision_function(test), det.ai_score(test))


def test_stack_and_cascade_follow_the_sklearn_contract_with_string_labels(stack, data):
    texts, labels, test, y = data
    named, y_named = (["ai" if v else "human" for v in values] for values in (labels, y))
    det = StackDetector().fit(texts, named)  # LM features are memoised: only the n-gram folds are refitted
    assert det.classes_.tolist() == ["ai", "human"] and det.ai_class_ == "ai"
    assert stack.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(det.ai_score(test), stack.ai_score(test), rtol=1e-9)
    np.testing.assert_array_equal(det.decision_function(test), -det.ai_score(test))
    np.testing.assert_array_equal(stack.decision_function(test), stack.ai_score(test))
    assert roc_auc_score(y_named, det.decision_function(test)) > 0.95
    assert roc_auc_score(y_named, det.predict_proba(test)[:, 1]) > 0.95
    assert det.score(test, y_named) > 0.9
    assert set(det.predict(test).tolist()) == {"ai", "human"}
    cascade = CascadeDetector.from_stack(det, -math.inf, math.inf)
    assert cascade.classes_.tolist() == ["ai", "human"]
    np.testing.assert_allclose(cascade.decision_function(test), det.decision_function(test), rtol=1e-9)
    assert cross_val_score(StackDetector(n_folds=3), texts, named, scoring="roc_auc", cv=3).min() > 0.9


def test_a_crafted_lm_file_scores_with_the_offline_default_model(tmp_path, monkeypatch):
    meta, arrays = read_detector_file(weights_path("lm"))
    meta = {k: v for k, v in meta.items() if k not in ("digest", "format")}
    meta["params"] = {**meta["params"], "model": "attacker/evil-model", "performer": "attacker/evil-performer"}
    path = write_detector_file(tmp_path / "evil.npz", meta, arrays)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.warns(UserWarning, match="never chooses a model"):
        det = sf.load_detector(path)
    assert det.model is None and det.performer is None
    text = ["The weather was lovely, so we walked along the river after lunch."]
    np.testing.assert_array_equal(det.score_texts(text), sf.load_detector("lm").score_texts(text))


def test_shipped_heavy_tiers_are_trained_on_every_source_and_calibrated():
    assert sf.tag.detector == "fast", "the default is the tier with the best leave-one-source-out AUROC (README)"
    for name in ("lm", "embed", "stack", "cascade"):
        det = sf.load_detector(name)
        assert det.tag == f"{name}@{det.version}" and det.version != "custom"
        assert len(det.info_["trained_on"]) >= 5
        assert det.info_["heldout_human_fpr"] <= 0.011


def test_shipped_thresholds_leave_the_documented_share_of_held_out_humans_above_them():
    for name in SHIPPED:
        det = sf.load_detector(name)
        assert det.info_["target_fpr"] == SHIPPED_ALPHA.get(name, 0.01), name
        assert det.info_["heldout_human_fpr"] <= det.info_["target_fpr"] + 0.001, name
        assert det.version == WEIGHTS_VERSIONS.get(name, WEIGHTS_VERSION), name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_tier_keeps_the_bad_input_contract(name):
    values = ["The weather was lovely, so we walked along the river after lunch."] + BAD
    out = Tagger(detector=name)({"text": values})
    assert out["sf_label"][1:] == ["unknown"] * len(BAD)
    assert all(math.isnan(s) for s in out["sf_score"][1:])
    assert out["sf_label"][0] in ("human", "synthetic") and 0 <= out["sf_score"][0] <= 1
    assert set(out["sf_detector"]) == {sf.load_detector(name).tag}
