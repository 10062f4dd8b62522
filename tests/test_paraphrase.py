"""Local paraphrases: seeded, cached, cut to the configured length."""

import json

import pytest

from synthfilter.detect.paraphrase import Paraphraser

TEXTS = ["The  rapid advancement of artificial intelligence has transformed many industries, from health care to finance.",
         "Climate change is one of the most pressing challenges of our time, and it needs coordinated action."]


def test_paraphrases_are_seeded_and_the_cache_is_reused(tmp_path):
    cache = tmp_path / "p.jsonl"
    first = Paraphraser(max_new_tokens=24, cache=cache)(TEXTS)
    assert len(first) == 2 and all(isinstance(p, str) and p.strip() for p in first)
    assert first != [" ".join(t.split()) for t in TEXTS]  # rewritten, not echoed
    assert len(cache.read_text().splitlines()) == 2 and all("paraphrase" in json.loads(x) for x in cache.read_text().splitlines())
    again = Paraphraser(max_new_tokens=24, cache=cache)
    again._generate = lambda *a, **k: pytest.fail("regenerated a cached paraphrase")
    assert again(list(reversed(TEXTS))) == list(reversed(first))
    assert Paraphraser(max_new_tokens=24)(TEXTS) == first  # same seed, no cache: the same text
    assert Paraphraser(max_new_tokens=24, seed=1)(TEXTS) != first


def test_the_model_gets_the_normalised_text_cut_to_max_words():
    p = Paraphraser(max_words=5)
    assert p.source_text("one  two\nthree four five six seven") == "one two three four five"
