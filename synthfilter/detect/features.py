"""Cheap per-document features for the ``fast`` detector.

Two blocks, both computed from normalised text cut to a fixed word window:

* **style**: a short dense vector of stylometric statistics (sentence-length
  variation, word length, vocabulary richness on a fixed window, punctuation and
  pronoun rates, compressibility). See :data:`STYLE_FEATURES` for the names.
* **lexical**: hashed word unigrams and bigrams (sublinear term frequency, L2
  normalised); no vocabulary is stored, so the transform is stateless.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

__all__ = ["STYLE_FEATURES", "style_features", "lexical_features", "truncate_words"]

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")

_STOPWORDS = frozenset(
    "the a an and or but if of to in on at by for with from as is are was were be been "
    "being it its this that these those there here he she they we you i me my our your "
    "his her their them us not no so than then too very can could would should will "
    "just do does did have has had".split()
)
_FIRST_PERSON = frozenset("i me my mine myself we us our ours".split())
_SECOND_PERSON = frozenset("you your yours yourself yourselves".split())

STYLE_FEATURES: tuple[str, ...] = (
    "mean_word_len", "std_word_len", "long_word_rate", "ttr_100", "hapax_100",
    "mean_sent_len", "std_sent_len", "cv_sent_len", "max_sent_len_ratio", "short_sent_rate",
    "comma_rate", "semicolon_rate", "colon_rate", "exclaim_rate", "question_rate",
    "quote_rate", "paren_rate", "dash_rate", "apostrophe_rate", "digit_rate",
    "ellipsis_rate", "capital_word_rate", "allcaps_rate", "stopword_rate",
    "first_person_rate", "second_person_rate", "contraction_rate", "lowercase_start_rate",
    "zlib_ratio", "repeat_bigram_rate", "nonascii_rate",
)


#: Characters per word allowed on average in :func:`truncate_words`: a 96,000-character "word" (a base64 image,
#: a minified script, a long URL) is cut, so its cost is that of ordinary text.
CHARS_PER_WORD = 32


def truncate_words(text: str, max_words: int) -> str:
    """Return the first ``max_words`` whitespace-separated words of ``text``, and at most
    ``CHARS_PER_WORD * max_words`` characters of them (6,400 for 200 words; ordinary text
    never comes near)."""
    text = text[: CHARS_PER_WORD * max_words]
    parts = text.split(" ", max_words)
    if len(parts) <= max_words:
        return text
    return " ".join(parts[:max_words])


def _style_row(text: str) -> list[float]:
    words = _WORD.findall(text)
    n = max(len(words), 1)
    lower = [w.lower() for w in words]
    lengths = np.fromiter((len(w) for w in words), dtype=np.float64, count=len(words))
    if lengths.size == 0:
        lengths = np.zeros(1)
    window = lower[:100]
    counts = Counter(window)
    w = max(len(window), 1)
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    sent_len = np.array([len(s.split()) for s in sentences] or [0], dtype=np.float64)
    mean_sent = float(sent_len.mean())
    std_sent = float(sent_len.std())
    chars = max(len(text), 1)
    encoded = text.encode("utf-8")
    bigrams = list(zip(lower, lower[1:]))
    repeat_bigrams = len(bigrams) - len(set(bigrams)) if bigrams else 0
    return [
        float(lengths.mean()),
        float(lengths.std()),
        float((lengths >= 9).mean()),
        len(counts) / w,
        sum(1 for c in counts.values() if c == 1) / w,
        math.log1p(mean_sent),
        math.log1p(std_sent),
        std_sent / (mean_sent + 1.0),
        float(sent_len.max()) / (mean_sent + 1.0),
        float((sent_len <= 5).mean()),
        text.count(",") / n,
        text.count(";") / n,
        text.count(":") / n,
        text.count("!") / n,
        text.count("?") / n,
        (text.count('"') + text.count("“") + text.count("”")) / n,
        text.count("(") / n,
        (text.count(" - ") + text.count("—") + text.count("–")) / n,
        (text.count("'") + text.count("’")) / n,
        sum(c.isdigit() for c in text) / chars,
        text.count("...") / n,
        sum(1 for x in words if x[0].isupper()) / n,
        sum(1 for x in words if len(x) > 1 and x.isupper()) / n,
        sum(1 for x in lower if x in _STOPWORDS) / n,
        sum(1 for x in lower if x in _FIRST_PERSON) / n,
        sum(1 for x in lower if x in _SECOND_PERSON) / n,
        sum(1 for x in lower if "'" in x) / n,
        sum(1 for s in sentences if s[:1].islower()) / max(len(sentences), 1),
        len(zlib.compress(encoded, 6)) / max(len(encoded), 1),
        repeat_bigrams / max(len(bigrams), 1),
        sum(1 for c in text if ord(c) > 127) / chars,
    ]


def style_features(texts: list[str]) -> np.ndarray:
    """Dense stylometric features, shape ``(len(texts), len(STYLE_FEATURES))``, float32."""
    if not texts:
        return np.zeros((0, len(STYLE_FEATURES)), dtype=np.float32)
    return np.asarray([_style_row(t) for t in texts], dtype=np.float32)


_HASHER_CACHE: dict[int, HashingVectorizer] = {}


def lexical_features(texts: list[str], n_features: int = 2**18) -> sparse.csr_matrix:
    """Hashed lower-cased word 1-2 grams, sublinear tf, L2-normalised rows."""
    hasher = _HASHER_CACHE.get(n_features)
    if hasher is None:
        hasher = HashingVectorizer(
            n_features=n_features, ngram_range=(1, 2), alternate_sign=False,
            norm=None, token_pattern=r"(?u)\b\w+\b|[^\w\s]", dtype=np.float32,
        )
        _HASHER_CACHE[n_features] = hasher
    counts = hasher.transform(texts).tocsr()
    counts.data = np.log1p(counts.data)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts, dtype=np.float32)
