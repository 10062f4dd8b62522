"""The lm-hidden tier: SmolLM2's mean-pooled last hidden state under a linear head."""

import numpy as np
import pytest

from synthfilter.detect.lm_hidden import LMHiddenDetector, hidden_state_encoder
from synthfilter.text import normalize

TEXTS = [
    "The committee met on Tuesday to discuss the budget, and after a long debate it approved the plan.",
    "honestly no idea why the train was late again, i just sat there eating crisps",
    "In conclusion, it is important to note that collaboration fosters innovation and growth.",
    "Short one.",
]


@pytest.fixture(scope="module")
def encoder():
    return hidden_state_encoder(None, None, 128)


def _one_by_one(encoder, text: str) -> np.ndarray:
    """The pooled state of a single unpadded text, straight from the model."""
    import torch

    tokenizer, model, _, _ = encoder.scorer.loaded
    ids = tokenizer([normalize(text)], truncation=True, max_length=128, add_special_tokens=False,
                    return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return model.model(input_ids=ids).last_hidden_state[0].float().mean(0).numpy()


def test_batched_padded_states_equal_each_text_encoded_alone(encoder):
    batched = encoder._encode([normalize(t) for t in TEXTS])  # one padded batch of unequal lengths
    for text, row in zip(TEXTS, batched):
        assert row.shape == (encoder.width,) and row.dtype == np.float32
        np.testing.assert_allclose(row, _one_by_one(encoder, text), rtol=1e-3, atol=1e-3)


def test_states_are_memoised_per_normalised_text(encoder, monkeypatch):
    first = encoder.encode(TEXTS)
    monkeypatch.setattr(encoder, "_encode", lambda texts: pytest.fail(f"re-encoded {texts}"))
    again = encoder.encode([t.replace(" ", "  ") for t in TEXTS])  # same text after normalisation
    np.testing.assert_array_equal(first, again)


def test_a_text_without_tokens_gets_a_nan_row(encoder):
    rows = encoder._encode(["", "A real sentence here."])
    assert np.isnan(rows[0]).all() and np.isfinite(rows[1]).all()


def test_the_head_separates_its_training_styles_and_survives_a_file_round_trip(tmp_path):
    human = [f"i reckon the {w} was fine tbh, went there on {d} with my mates" for w, d in
             zip(["pub", "gig", "match", "market", "park", "beach"], ["monday", "friday", "sunday", "tuesday", "saturday", "thursday"])]
    ai = [f"Furthermore, the {w} offers a comprehensive and multifaceted experience that fosters {v}." for w, v in
          zip(["museum", "platform", "framework", "initiative", "programme", "journey"],
              ["growth", "innovation", "engagement", "collaboration", "resilience", "inclusivity"])]
    det = LMHiddenDetector().fit(human + ai, ["human"] * 6 + ["synthetic"] * 6)
    scores = det.ai_score(human + ai)
    assert scores[6:].min() > scores[:6].max()
    det.save(tmp_path / "h.npz")
    import synthfilter as sf

    loaded = sf.load_detector(tmp_path / "h.npz")
    assert isinstance(loaded, LMHiddenDetector)
    np.testing.assert_allclose(loaded.ai_score(human + ai), scores, rtol=1e-6)
