"""The text scenario: a word-level bigram language model trained on WikiText-2, and where that corpus lives."""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import datasets
import numpy as np

from .._checks import OptionError
from .base import Scenario, temper

__all__ = ["BigramModel", "TextScenario", "WIKITEXT_DIR", "WIKITEXT_ENV", "wikitext_dir"]

#: Environment variable naming the WikiText-2 folder (``valid.txt``, ``test.txt``) of the text scenario.
WIKITEXT_ENV = "SYNTHFILTER_WIKITEXT2"


def wikitext_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The WikiText-2 folder: ``explicit``, else ``$SYNTHFILTER_WIKITEXT2``, else the shared
    data folder beside the working directory (``../shared/data/wikitext2``)."""
    if explicit:
        return Path(explicit)
    if os.environ.get(WIKITEXT_ENV):
        return Path(os.environ[WIKITEXT_ENV])
    return Path.cwd().resolve().parent / "shared" / "data" / "wikitext2"


WIKITEXT_DIR = wikitext_dir()


@dataclass
class BigramModel:
    """Interpolated absolute-discounting bigram model over a fixed vocabulary.

    Parameters
    ----------
    vocab:
        The words; a word id is its position here.
    unigram:
        Count of each word id in the training documents.
    successors:
        Word id -> (sorted ids of the words that followed it, how often each did).
    discount:
        Absolute discount subtracted from every bigram count. Default 0.75.
    """

    vocab: list[str]
    unigram: np.ndarray
    successors: dict[int, tuple[np.ndarray, np.ndarray]]
    discount: float = 0.75

    def prob(self, prev: int, nxt: int, uni_smooth: np.ndarray) -> float:
        """P(``nxt`` | ``prev``), backing off to ``uni_smooth`` (a smoothed unigram distribution)."""
        succ = self.successors.get(prev)
        if succ is None:
            return float(uni_smooth[nxt])
        words, counts = succ
        total = counts.sum()
        pos = np.searchsorted(words, nxt)
        c = counts[pos] if pos < len(words) and words[pos] == nxt else 0
        lam = self.discount * len(words) / total
        return max(c - self.discount, 0) / total + lam * float(uni_smooth[nxt])


@dataclass
class TextScenario(Scenario):
    """Word-level bigram language model trained on WikiText-2 (valid), perplexity on test.

    Documents are ``doc_words``-word chunks. Generated text becomes a ``datasets.Dataset``
    with a ``text`` column, so ``synthfilter.tag``, ``enforce_quota``, ``resample_tails`` and
    ``dedup_semantic`` run on it unchanged. ``temperature`` applies to sampling.
    ``data_dir`` is the WikiText-2 folder (default: :func:`wikitext_dir`, i.e.
    ``$SYNTHFILTER_WIKITEXT2`` or ``../shared/data/wikitext2`` beside the working directory).
    A sample is an object array of documents, drawn from the same backed-off distribution
    (bigram, then the add-0.01 smoothed unigram) that perplexity is measured on.

    Parameters
    ----------
    n:
        Documents per generation. Default 1000.
    doc_words:
        Words per document (at least 2). Default 40.
    eval_words:
        Test words the perplexity is measured on (at least 2). Default 30000.
    temperature:
        Sampling temperature, > 0. Default 1.0.
    data_dir:
        The WikiText-2 folder; empty (default) for :func:`wikitext_dir`.

    Metrics (*rare words*: words seen at most twice in WikiText-2 valid): ``perplexity`` on
    test; ``rare_word_mass``, the model's unigram mass on rare words over their real mass
    (target 1, the headline tail metric); ``rare_word_loglik``, the mean log-probability of a
    rare word under the smoothed unigram (add 0.01: the floor of an unseen word shrinks as
    the training pool grows, so it favours small pools; compare it only between policies
    that train on pools of the same size); ``rare_word_recall`` and ``vocab_ratio`` (shares
    of words with any count: they cannot fall while real rows are kept, so they are not
    headlines); ``distinct_2`` and ``type_token_ratio`` of 200 generated documents.
    """

    n: int = 1000
    doc_words: int = 40
    eval_words: int = 30000
    temperature: float = 1.0
    data_dir: str = ""
    name: ClassVar[str] = "text"
    metrics: ClassVar[dict[str, str]] = {"perplexity": "lower", "rare_word_mass": "target:1", "rare_word_loglik": "higher",
                                         "rare_word_recall": "higher", "vocab_ratio": "higher",
                                         "distinct_2": "higher", "type_token_ratio": "higher"}
    tail_metric: ClassVar[str] = "rare_word_mass"
    quality_metric: ClassVar[str] = "perplexity"
    _cache: ClassVar[dict] = {}
    min_train_rows: ClassVar[int] = 1

    def validate(self):
        super().validate()
        self._check_int("doc_words", 2, "words per document: a bigram needs two")
        self._check_int("eval_words", 2, "test words for perplexity: a bigram needs two")
        self._check_real("temperature", low=0.0, low_open=True, why="the sampling temperature")
        return self

    def _corpus(self):
        folder = wikitext_dir(self.data_dir)
        key = (self.doc_words, self.eval_words, str(folder))
        if key not in self._cache:
            valid, test = folder / "valid.txt", folder / "test.txt"
            if not valid.exists():
                raise FileNotFoundError(
                    f"the text scenario needs WikiText-2 at {folder}: pass the option data_dir=FOLDER or set "
                    f"${WIKITEXT_ENV} (see ../shared/data/README.md)")
            words = valid.read_text(encoding="utf-8").split()
            docs = [" ".join(words[i:i + self.doc_words]) for i in range(0, len(words) - self.doc_words, self.doc_words)]
            if not docs:
                raise OptionError(("options", "doc_words"), self._option_label("doc_words"),
                                  f"must be below the corpus length ({len(words)} words), got {self.doc_words}")
            vocab = sorted(set(words))
            index = {w: i for i, w in enumerate(vocab)}
            unk = index.get("<unk>", 0)
            test_ids = np.array([index.get(w, unk) for w in test.read_text(encoding="utf-8").split()[:self.eval_words]])
            counts = Counter(words)
            rare = np.array([index[w] for w, c in counts.items() if c <= 2])
            self._cache[key] = (np.array(docs, dtype=object), vocab, index, test_ids, rare)
            self._cache[("rare_mass",) + key] = sum(c for c in counts.values() if c <= 2) / len(words)
        return self._cache[key]

    def real(self, rng, n):
        docs = self._corpus()[0]
        return docs[rng.integers(0, len(docs), n)]

    def fit(self, data, rng):
        _, vocab, index, _, _ = self._corpus()
        uni = np.zeros(len(vocab))
        pairs: Counter = Counter()
        unk = index.get("<unk>", 0)
        for doc in data:
            ids = [index.get(w, unk) for w in doc.split()]
            np.add.at(uni, ids, 1)
            pairs.update(zip(ids, ids[1:]))
        successors: dict[int, tuple[list, list]] = {}
        for (a, b), c in sorted(pairs.items()):
            successors.setdefault(a, ([], []))
            successors[a][0].append(b)
            successors[a][1].append(c)
        succ = {a: (np.array(w), np.array(c, dtype=np.float64)) for a, (w, c) in successors.items()}
        return BigramModel(vocab, uni, succ)

    def sample(self, model, n, rng):
        # the distribution perplexity is measured on (backing off to the smoothed unigram), so the
        # model evaluated is the model that generates
        uni = self._smoothed_unigram(model)
        if self.temperature != 1.0:
            uni = temper(uni, self.temperature)
        uni_cum = np.cumsum(uni)
        docs = []
        cum_cache: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
        for _ in range(n):
            w = int(np.searchsorted(uni_cum, rng.random() * uni_cum[-1]))
            out = [w]
            for _ in range(self.doc_words - 1):
                entry = cum_cache.get(w)
                if entry is None:
                    succ = model.successors.get(w)
                    if succ is None:
                        entry = (np.zeros(0, np.int64), np.zeros(0), 1.0)
                    else:
                        words, counts = succ
                        disc = np.maximum(counts - model.discount, 0)
                        if self.temperature != 1.0:
                            disc = temper(disc, self.temperature)
                        total = counts.sum()
                        lam = model.discount * len(words) / total
                        entry = (words, np.cumsum(disc / max(disc.sum(), 1e-12)), lam)
                    cum_cache[w] = entry
                words, cum, lam = entry
                if len(words) == 0 or rng.random() < lam:
                    w = int(np.searchsorted(uni_cum, rng.random() * uni_cum[-1]))
                else:
                    w = int(words[min(np.searchsorted(cum, rng.random()), len(words) - 1)])
                out.append(w)
            docs.append(" ".join(model.vocab[i] for i in out))
        return np.array(docs, dtype=object)

    def _smoothed_unigram(self, model):
        return (model.unigram + 0.01) / (model.unigram.sum() + 0.01 * len(model.unigram))

    def log_likelihood(self, model, data):
        _, _, index, _, _ = self._corpus()
        uni = self._smoothed_unigram(model)
        unk = index.get("<unk>", 0)
        out = []
        for doc in data:
            ids = [index.get(w, unk) for w in doc.split()]
            out.append(float(np.mean([math.log(model.prob(a, b, uni)) for a, b in zip(ids, ids[1:])] or [0.0])))
        return np.array(out)

    def evaluate(self, model, rng):
        from synthfilter import metrics  # the package face, as a user's ablation would

        docs, vocab, _, test_ids, rare = self._corpus()
        uni = self._smoothed_unigram(model)
        logp = [math.log(model.prob(int(a), int(b), uni)) for a, b in zip(test_ids[:-1], test_ids[1:])]
        gen = self.sample(model, 200, rng)
        real_rare_mass = self._cache[("rare_mass", self.doc_words, self.eval_words, str(wikitext_dir(self.data_dir)))]
        model_rare_mass = float(model.unigram[rare].sum() / model.unigram.sum()) if len(rare) else float("nan")
        return {"perplexity": float(math.exp(-np.mean(logp))),
                "rare_word_mass": model_rare_mass / real_rare_mass if len(rare) else float("nan"),
                "rare_word_loglik": float(np.mean(np.log(uni[rare]))) if len(rare) else float("nan"),
                "rare_word_recall": float(np.mean(model.unigram[rare] > 0)) if len(rare) else float("nan"),
                "vocab_ratio": float(np.mean(model.unigram > 0)),
                "distinct_2": metrics.distinct_n(list(gen), 2),
                "type_token_ratio": metrics.distinct_n(list(gen), 1)}

    def feature_names(self, data):
        return ["text"]

    def to_dataset(self, data, is_synthetic, ids):
        return datasets.Dataset.from_dict({"text": [str(t) for t in data], "id": ids.astype(np.int64),
                                           "is_synthetic": is_synthetic.astype(bool)})

    def features(self, data):
        from synthfilter import Embedder

        return np.array(Embedder(model="hashing", dim=64).encode([str(t) for t in data]), dtype=np.float64)
