import json
import socket
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import synthfilter as sf
from synthfilter.detect import EmbedDetector, FastDetector, LMDetector, NotFittedError, StackDetector, coerce_labels
from synthfilter.detect.base import threshold_for_fpr
from synthfilter.detect.persist import read_detector_file, write_detector_file
from synthfilter.detect.registry import weights_path

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
    assert fitted.classes_.tolist() == ["ai", "human"]
    assert roc_auc_score([1] * 50 + [0] * 50, scores[:, 1]) > 0.95  # column 1 is "human"
    assert roc_auc_score([0] * 50 + [1] * 50, fitted.score_texts(human[100:] + ai[100:])) > 0.95
    assert (fitted.predict(ai[100:]) == "ai").mean() > 0.9


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
    assert (fitted_copy.predict(human) == "ai").mean() <= 0.05
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


# ---------------------------------------------------------------- detector files
SAMPLE = ["The cat sat on the mat and looked out of the window at the rain.",
          "Furthermore, it is important to note that robust solutions foster seamless collaboration."]


def _craft(tmp_path, source, meta_changes=None, arrays_changes=None, name="crafted.npz"):
    """A copy of ``source`` with changed meta/arrays and a *valid* digest, so only the field checks can catch it."""
    meta, arrays = read_detector_file(source)
    meta = {k: v for k, v in meta.items() if k not in ("digest", "format")}
    for key, value in (meta_changes or {}).items():
        if key == "params":
            meta["params"] = {**meta["params"], **value}
        else:
            meta[key] = value
    for key, value in (arrays_changes or {}).items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return write_detector_file(tmp_path / name, meta, arrays)


def _raw_npz(path, meta, **arrays):
    """Write an .npz by hand (no digest computed), e.g. with arrays write_detector_file would refuse."""
    with open(path, "wb") as handle:
        np.savez_compressed(handle, __meta__=np.array(json.dumps(meta)), **arrays)
    return path


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_shipped_weights_carry_a_digest_and_the_sf_label_classes():
    for name in sf.available_detectors():
        meta, _ = read_detector_file(weights_path(name))
        assert len(meta["digest"]) == 64 and meta["format"] == 2
        assert meta["classes"] == ["human", "synthetic"] and meta["ai_class"] == "synthetic"


@pytest.mark.parametrize("cls,attack", [
    (LMDetector, {"model": "attacker/evil-model", "performer": "attacker/other", "gguf_file": "../../x.gguf"}),
    (StackDetector, {"model": "attacker/evil-model", "performer_gguf_file": "/etc/passwd"}),
    (EmbedDetector, {"model": "sentence-transformers/evil"}),
])
def test_a_file_never_chooses_a_model(cls, attack, tmp_path, no_network):
    path = _craft(tmp_path, weights_path(cls.name), {"params": attack})
    with pytest.warns(UserWarning, match="never chooses a model") as caught:
        det = sf.load_detector(path)
    for key in attack:
        assert any(f"{key}=" in str(w.message) for w in caught), key
    assert det.get_params() == {**cls().get_params(), **{k: v for k, v in det.get_params().items() if k not in attack}}
    for key in attack:
        assert getattr(det, key) == cls().get_params()[key]
    # an explicit argument is the only way to choose another model (no model is loaded here)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = sf.load_detector(path, **attack)
    assert all(getattr(chosen, k) == v for k, v in attack.items())


def test_default_model_params_in_a_file_load_without_warnings(recwarn):
    for name in sf.available_detectors():
        sf.load_detector(name)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), -1.0, 2.0, "0.5", True, None])
def test_threshold_must_be_a_finite_probability(threshold, tmp_path):
    path = _craft(tmp_path, weights_path("fast"), {"threshold": threshold})
    with pytest.raises(ValueError, match=r"crafted\.npz.*threshold"):
        sf.load_detector(path)


@pytest.mark.parametrize("change,message", [
    ({"params": {"evil": 1}}, "unknown parameter"),
    ({"params": {"n_features": "262144"}}, "n_features.*integer"),
    ({"params": {"C": float("nan")}}, "C=nan"),
    ({"params": {"max_words": [1, 2]}}, "max_words"),
    ({"params": {"max_words": -5}}, "outside"),
    ({"version": "1 <script>"}, "version"),
    ({"version": "x" * 500}, "version"),
    ({"detector": "stack"}, "stack"),
    ({"detector": "pickle"}, "unknown detector kind"),
    ({"classes": ["cat", "dog"], "ai_class": "dog"}, "cannot read"),
    ({"classes": ["human", "synthetic"], "ai_class": "human"}, "ai_class"),
    ({"classes": [0, "synthetic"], "ai_class": "synthetic"}, "classes"),
    ({"surprise": 1}, "unknown __meta__ field"),
])
def test_every_meta_field_is_validated(change, message, tmp_path):
    path = _craft(tmp_path, weights_path("fast"), change)
    with pytest.raises(ValueError, match=message):
        sf.load_detector(path)


def test_a_file_of_another_kind_is_refused_by_the_class(tmp_path):
    with pytest.raises(ValueError, match="holds a 'fast' detector, not 'lm'"):
        LMDetector.load(weights_path("fast"))


@pytest.mark.parametrize("arrays,message", [
    ({"coef": np.zeros(100, np.float32)}, r"'coef' has shape \(100,\), expected \(262175,\)"),
    ({"coef": None}, r"lacks array\(s\) \['coef'\]"),
    ({"extra": np.zeros(3)}, r"unexpected array\(s\) \['extra'\]"),
    ({"intercept": np.array([np.nan])}, "NaN or infinite"),
    ({"style_scale": np.zeros(31, np.float32)}, "must be positive"),
    ({"intercept": np.array([1], dtype=np.int64)}, "dtype"),
    ({"style_names": np.array(["x"] * 31)}, "different stylometric feature set"),
])
def test_arrays_are_checked_against_the_parameters(arrays, message, tmp_path):
    path = _craft(tmp_path, weights_path("fast"), arrays_changes=arrays)
    with pytest.raises(ValueError, match=message):
        sf.load_detector(path)


def test_a_different_n_features_must_match_the_coefficients(tmp_path):
    path = _craft(tmp_path, weights_path("fast"), {"params": {"n_features": 2**12}})
    with pytest.raises(ValueError, match="'coef' has shape"):
        sf.load_detector(path)


def test_object_and_oversized_arrays_are_refused_before_reading(tmp_path):
    meta, arrays = read_detector_file(weights_path("fast"))
    pickled = _raw_npz(tmp_path / "object.npz", meta, **{**arrays, "coef": np.array([1, "x"], dtype=object)})
    with pytest.raises(ValueError, match="object.npz.*dtype object"):
        sf.load_detector(pickled)
    huge = _raw_npz(tmp_path / "huge.npz", meta, **{**arrays, "coef": np.zeros(2**24 + 1, np.float32)})
    with pytest.raises(ValueError, match="huge.npz: declares .* bytes of arrays"):
        sf.load_detector(huge)


def test_a_header_promising_more_data_than_stored_is_refused(tmp_path):
    meta, arrays = read_detector_file(weights_path("fast"))
    path = _raw_npz(tmp_path / "liar.npz", meta, **arrays)
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (10**12,)
    with zipfile.ZipFile(path, "a") as zf:
        with zf.open("big.npy", "w") as fp:
            np.lib.format.write_array_header_1_0(fp, header)
            fp.write(b"\0" * 64)
    with pytest.raises(ValueError, match="liar.npz: array 'big' declares shape"):
        sf.load_detector(path)


def test_a_changed_file_fails_its_digest(tmp_path):
    meta, arrays = read_detector_file(weights_path("fast"))
    edited = _raw_npz(tmp_path / "edited.npz", {**meta, "threshold": 0.01}, **arrays)
    with pytest.raises(ValueError, match="edited.npz: digest mismatch"):
        sf.load_detector(edited)
    coef = arrays["coef"].copy()
    coef[0] += 1.0
    retrained = _raw_npz(tmp_path / "retrained.npz", meta, **{**arrays, "coef": coef})
    with pytest.raises(ValueError, match="digest mismatch"):
        sf.load_detector(retrained)


def test_flipped_bytes_and_truncation_are_clear_errors(fitted, tmp_path):
    data = bytearray(fitted.save(tmp_path / "det.npz").read_bytes())
    for offset in (len(data) // 3, len(data) // 2):
        flipped = bytearray(data)
        flipped[offset] ^= 0xFF
        (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match="flipped.npz: (not a readable detector file|digest mismatch)"):
            sf.load_detector(tmp_path / "flipped.npz")
    (tmp_path / "truncated.npz").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ValueError, match="truncated.npz: not a readable detector file"):
        sf.load_detector(tmp_path / "truncated.npz")
    (tmp_path / "text.npz").write_text("not a zip file")
    with pytest.raises(ValueError, match="text.npz: not a readable detector file"):
        sf.load_detector(tmp_path / "text.npz")


def test_a_member_that_is_not_an_array_is_refused(fitted, tmp_path):
    path = fitted.save(tmp_path / "det.npz")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("payload.py", "import os")
    with pytest.raises(ValueError, match="unexpected member 'payload.py'"):
        sf.load_detector(path)


def test_a_file_without_digest_needs_an_explicit_opt_in(tmp_path):
    meta, arrays = read_detector_file(weights_path("fast"))
    legacy = {k: v for k, v in meta.items() if k not in ("digest", "format", "classes", "ai_class")}
    path = _raw_npz(tmp_path / "legacy.npz", legacy, **arrays)
    with pytest.raises(ValueError, match="legacy.npz: has no digest"):
        sf.load_detector(path)
    det = sf.load_detector(path, require_digest=False)
    assert det.classes_.tolist() == ["human", "synthetic"]
    resaved = sf.load_detector(det.save(tmp_path / "resaved.npz"))
    np.testing.assert_array_equal(resaved.score_texts(SAMPLE), sf.load_detector("fast").score_texts(SAMPLE))


@pytest.mark.parametrize("labels", [["human", "ai"], [0, 1], [False, True], ["real", "synthetic"]])
def test_round_trip_keeps_classes_and_scores(labels, small_corpus, tmp_path):
    human, ai = small_corpus
    det = FastDetector(n_features=2**10).fit(human[:40] + ai[:40], [labels[0]] * 40 + [labels[1]] * 40)
    again = sf.load_detector(det.save(tmp_path / "det.npz"))
    assert again.classes_.tolist() == det.classes_.tolist() and again.classes_.dtype == det.classes_.dtype
    assert again.ai_class_ == det.ai_class_ and type(again.ai_class_) is type(det.ai_class_)
    np.testing.assert_array_equal(again.predict_proba(human[40:60]), det.predict_proba(human[40:60]))
    np.testing.assert_array_equal(again.decision_function(ai[40:60]), det.decision_function(ai[40:60]))
    np.testing.assert_array_equal(again.predict(ai[40:60]), det.predict(ai[40:60]))


def test_save_refuses_what_load_would_refuse(fitted, tmp_path):
    broken = FastDetector(n_features=2**12)
    broken.__dict__.update(fitted.__dict__)
    broken.threshold_ = float("nan")
    with pytest.raises(ValueError, match="threshold"):
        broken.save(tmp_path / "nan.npz")
    assert not (tmp_path / "nan.npz").exists()


def test_a_packaged_model_name_is_read_from_the_file(tmp_path):  # a path never is: see above
    human = [f"my grandmother kept {n} goats behind the old mill" for n in range(10)]
    ai = [f"In conclusion, {n} key factors contribute to overall success." for n in range(10)]
    det = EmbedDetector(model="hashing").fit(human + ai, ["human"] * 10 + ["synthetic"] * 10)
    path = det.save(tmp_path / "e.npz")
    loaded = sf.load_detector(path)
    assert loaded.model == "hashing"
    assert np.allclose(loaded.score_texts(human[:2] + ai[:2]), det.score_texts(human[:2] + ai[:2]))
    assert sf.load_detector(path, model="minilm").model == "minilm"  # an explicit choice still wins
