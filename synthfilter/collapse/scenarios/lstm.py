"""The lstm scenario: a word-level LSTM language model trained on WikiText-2 (valid), perplexity on test.

torch is imported inside the functions, so ``import synthfilter`` does not load it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import datasets
import numpy as np

from .._checks import OptionError
from .base import Scenario
from .text import WIKITEXT_ENV, TextScenario, wikitext_dir
from .vae import seeded_torch, torch_threads

__all__ = ["LSTMScenario"]

_EVAL_BATCH = 64  # documents per forward pass when scoring
_FEATURES = 64  # width of TextScenario.features, the hashing embedding


def _cutoffs(classes: int) -> list[int]:
    """Adaptive-softmax cluster bounds: the 1000 and 3000 most frequent ids, fewer for a small vocabulary."""
    return sorted({min(1000, classes // 4), min(3000, classes // 2)})


def _build_lm(classes: int, embed: int, hidden: int) -> Any:
    """Embedding, one LSTM layer and an adaptive softmax over ``classes`` ids (ordered most frequent first)."""
    from torch import nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(classes, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.out = nn.AdaptiveLogSoftmaxWithLoss(hidden, classes, cutoffs=_cutoffs(classes), div_value=4.0)

        def states(self, inputs, state=None):
            return self.lstm(self.embed(inputs), state)

    return LM()


def _draw(out: Any, h: Any, gen: Any, forbid: int) -> Any:
    """One id per row of ``h`` from the adaptive softmax ``out``: a head entry, then a word of the chosen cluster.

    Exactly the model's distribution (p(cluster) p(word | cluster)), except that id ``forbid``
    (``<bos>``) is never drawn.
    """
    import torch

    choice = torch.multinomial(torch.softmax(out.head(h), dim=-1), 1, generator=gen)[:, 0]
    result = choice.clone()
    for i, tail in enumerate(out.tail):
        rows = torch.nonzero(choice == out.shortlist_size + i)[:, 0]
        if len(rows):
            low, high = out.cutoffs[i], out.cutoffs[i + 1]
            p = torch.softmax(tail(h[rows]), dim=-1)
            if low <= forbid < high:
                p[:, forbid - low] = 0.0
            result[rows] = low + torch.multinomial(p, 1, generator=gen)[:, 0]
    return result


@dataclass
class LSTMScenario(Scenario):
    """Word-level LSTM language model trained from scratch each generation on WikiText-2 valid, scored on test.

    The vocabulary is fixed once: the ``vocab_size`` most frequent words of WikiText-2
    ``valid.txt`` (ties broken alphabetically; ``<unk>`` is one of them), every other word
    read as ``<unk>``, plus a ``<bos>`` id that starts every document. Documents are
    ``doc_words``-word chunks of valid.txt (the real data; generation 0 trains on them) or
    of sampled text, in the same ``text`` column as the ``text`` scenario (with its 64-d
    hashing embedding beside it), so the library's transforms run on them unchanged.

    Defaults: an embedding of 96, one LSTM layer of 192 and an adaptive softmax (clusters of
    the 1000 and 3000 most frequent words), about 1.35M parameters with 8000 words. Training
    takes ``epochs * ceil(n / batch_size)`` Adam steps on minibatches of documents drawn with
    replacement, the same compute every generation whatever the pool's size; the default 3
    epochs of 1000 documents keep a generation (fit, evaluate, sample) near 20 s on one CPU
    thread (``benchmarks/collapse_lstm.py`` records the time), at the price of an
    under-trained model (test perplexity in the hundreds). A sample draws each document word
    by word from ``<bos>``, at temperature 1.

    Metrics: ``perplexity`` of the first ``eval_words`` words of test.txt, read as
    ``doc_words``-word documents each started by ``<bos>`` (``<unk>`` counts as a word, as is
    usual for WikiText-2); ``rare_word_mass``, the text scenario's tail metric adapted to a
    closed vocabulary: the model's mean probability of the next word being rare, over the same
    test positions, divided by the rare words' share of valid.txt (target 1). *Rare words* are
    vocabulary words seen at most ``rare_count`` times in valid.txt; the text scenario's
    "at most twice" would be mostly ``<unk>`` here (an 8000-word vocabulary ends at words seen
    twice), so the default is 3, every word seen three times being in the vocabulary.

    Parameters
    ----------
    n:
        Documents per generation (at least 2). Default 1000.
    doc_words:
        Words per document (at least 2). Default 64.
    vocab_size:
        Words in the vocabulary, ``<unk>`` included (at least 10). Default 8000.
    embed_dim:
        Word embedding width (at least 1). Default 96.
    hidden:
        LSTM hidden units (at least 4: the adaptive softmax's smallest cluster has hidden / 16). Default 192.
    epochs:
        Training passes' worth of ``n`` documents per generation (at least 1). Default 3.
    batch_size:
        Documents per Adam step (at least 1). Default 32.
    lr:
        Adam learning rate, > 0. Default 3e-3.
    eval_words:
        Test words the perplexity is measured on (at least ``doc_words``). Default 30000.
    rare_count:
        A vocabulary word seen at most this often in valid.txt is rare (at least 1). Default 3.
    threads:
        torch threads while fitting, sampling and evaluating (at least 1). Default 1.
    data_dir:
        The WikiText-2 folder; empty (default) for :func:`~.text.wikitext_dir`.
    """

    n: int = 1000
    doc_words: int = 64
    vocab_size: int = 8000
    embed_dim: int = 96
    hidden: int = 192
    epochs: int = 3
    batch_size: int = 32
    lr: float = 3e-3
    eval_words: int = 30000
    rare_count: int = 3
    threads: int = 1
    data_dir: str = ""
    name: ClassVar[str] = "lstm"
    metrics: ClassVar[dict[str, str]] = {"perplexity": "lower", "rare_word_mass": "target:1"}
    tail_metric: ClassVar[str] = "rare_word_mass"
    quality_metric: ClassVar[str] = "perplexity"
    _cache: ClassVar[dict] = {}

    features = TextScenario.features  # a 64-d hashing embedding of each document

    def feature_names(self, data):
        return [f"h{i}" for i in range(_FEATURES)]

    def to_dataset(self, data, is_synthetic, ids):
        """A ``text`` column (as the text scenario's) and the 64 hashing features as ``h0`` ... ``h63``, for
        the policy steps that cluster rows by numeric columns (``tail``)."""
        X = self.features(data)
        return datasets.Dataset.from_dict({"text": [str(t) for t in data],
                                           **{name: X[:, i] for i, name in enumerate(self.feature_names(data))},
                                           "id": ids.astype(np.int64), "is_synthetic": is_synthetic.astype(bool)})

    def validate(self):
        super().validate()
        self._check_int("doc_words", 2, "words per document")
        self._check_int("vocab_size", 10, "words in the vocabulary")
        self._check_int("embed_dim", 1, "word embedding width")
        self._check_int("hidden", 4, "LSTM hidden units")
        self._check_int("epochs", 1, "training passes' worth of n documents per generation")
        self._check_int("batch_size", 1, "documents per Adam step")
        self._check_real("lr", low=0.0, low_open=True, why="the Adam learning rate")
        self._check_int("eval_words", self.doc_words, "test words for perplexity: at least one document")
        self._check_int("rare_count", 1, "the most times a rare word is seen in valid.txt")
        self._check_int("threads", 1, "torch threads")
        return self

    def _corpus(self) -> dict[str, Any]:
        """Vocabulary, real documents, test ids and rare ids, read once per folder and options."""
        folder = wikitext_dir(self.data_dir)
        key = (str(folder), self.vocab_size, self.doc_words, self.eval_words, self.rare_count)
        if key not in self._cache:
            valid, test = folder / "valid.txt", folder / "test.txt"
            if not valid.exists() or not test.exists():
                raise FileNotFoundError(
                    f"the lstm scenario needs WikiText-2 (valid.txt, test.txt) at {folder}: pass the option "
                    f"data_dir=FOLDER or set ${WIKITEXT_ENV} (see ../shared/data/README.md)")
            words = valid.read_text(encoding="utf-8").split()
            counts = Counter(words)
            vocab = [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))[:self.vocab_size]]
            if "<unk>" not in vocab:
                vocab[-1:] = ["<unk>"]
            index = {w: i for i, w in enumerate(vocab)}
            docs = [" ".join(words[i:i + self.doc_words]) for i in range(0, len(words) - self.doc_words + 1,
                                                                          self.doc_words)]
            test_words = test.read_text(encoding="utf-8").split()[:self.eval_words]
            m = len(test_words) // self.doc_words
            if not docs or m == 0:
                raise OptionError(("options", "doc_words"), self._option_label("doc_words"),
                                  f"must be at most the length of valid.txt ({len(words)} words) and of the test "
                                  f"words read ({len(test_words)}), got {self.doc_words}")
            rare = np.array([i for i, w in enumerate(vocab) if counts[w] <= self.rare_count], dtype=np.int64)
            self._cache[key] = {
                "vocab": vocab, "index": index, "bos": len(vocab), "docs": np.array(docs, dtype=object),
                "test": self._ids(test_words[:m * self.doc_words], index).reshape(m, self.doc_words),
                "rare": rare, "rare_share": sum(counts[vocab[i]] for i in rare) / len(words)}
        return self._cache[key]

    @staticmethod
    def _ids(words: list[str], index: dict[str, int]) -> np.ndarray:
        unk = index["<unk>"]
        return np.array([index.get(w, unk) for w in words], dtype=np.int64)

    def _encode(self, docs: np.ndarray) -> np.ndarray:
        """(documents, doc_words) word ids; a shorter document is padded with ``<unk>``, a longer one cut."""
        index = self._corpus()["index"]
        out = np.full((len(docs), self.doc_words), index["<unk>"], dtype=np.int64)
        for row, doc in enumerate(docs):
            ids = self._ids(str(doc).split()[:self.doc_words], index)
            out[row, :len(ids)] = ids
        return out

    def _inputs(self, torch: Any, targets: Any) -> Any:
        """``<bos>`` then every target but the last: what the model reads to predict ``targets``."""
        bos = torch.full((len(targets), 1), self._corpus()["bos"], dtype=torch.int64)
        return torch.cat([bos, targets[:, :-1]], dim=1)

    def real(self, rng, n):
        docs = self._corpus()["docs"]
        return docs[rng.integers(0, len(docs), n)]

    def fit(self, data, rng):
        corpus = self._corpus()
        ids = self._encode(data)
        steps = self.epochs * math.ceil(self.n / self.batch_size)
        with seeded_torch(rng, self.threads) as (torch, gen):
            net = _build_lm(corpus["bos"] + 1, self.embed_dim, self.hidden)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr)
            targets = torch.from_numpy(ids)
            inputs = self._inputs(torch, targets)
            for _ in range(steps):
                batch = torch.randint(0, len(targets), (self.batch_size,), generator=gen)
                h, _ = net.states(inputs[batch])
                loss = net.out(h.reshape(-1, self.hidden), targets[batch].reshape(-1)).loss
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
        return net.eval()

    def sample(self, model, n, rng):
        corpus = self._corpus()
        out = np.empty((n, self.doc_words), dtype=np.int64)
        with seeded_torch(rng, self.threads) as (torch, gen), torch.no_grad():
            word = torch.full((n,), corpus["bos"], dtype=torch.int64)
            state = None
            for t in range(self.doc_words):
                h, state = model.states(word[:, None], state)
                word = _draw(model.out, h[:, 0], gen, corpus["bos"])
                out[:, t] = word.numpy()
        vocab = corpus["vocab"]
        return np.array([" ".join(vocab[i] for i in row) for row in out], dtype=object)

    def _scores(self, model: Any, ids: np.ndarray, rare: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Log-probability of every word of ``ids`` (documents x words) and, with ``rare``, the mass on rare ids."""
        logp, mass = [], []
        with torch_threads(self.threads) as torch, torch.no_grad():
            for start in range(0, len(ids), _EVAL_BATCH):
                targets = torch.from_numpy(ids[start:start + _EVAL_BATCH])
                h, _ = model.states(self._inputs(torch, targets))
                h = h.reshape(-1, self.hidden)
                if rare is None:
                    lp = model.out(h, targets.reshape(-1)).output
                else:
                    full = model.out.log_prob(h)
                    lp = full.gather(1, targets.reshape(-1, 1))[:, 0]
                    mass.append(full[:, torch.from_numpy(rare)].exp().sum(dim=1).double().numpy())
                logp.append(lp.double().numpy().reshape(len(targets), -1))
        return np.concatenate(logp), (np.concatenate(mass) if rare is not None else None)

    def log_likelihood(self, model, data):
        """Mean log-probability per word of each document."""
        return self._scores(model, self._encode(data), None)[0].mean(axis=1)

    def evaluate(self, model, rng):
        corpus = self._corpus()
        rare = corpus["rare"]
        logp, mass = self._scores(model, corpus["test"], rare if len(rare) else None)
        return {"perplexity": float(math.exp(-logp.mean())),
                "rare_word_mass": float(mass.mean() / corpus["rare_share"]) if len(rare) else float("nan")}
