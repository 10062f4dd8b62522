"""Collapse scenarios: real data, a model family (fit, sample), and metrics against the real distribution.

Data of a scenario is a numpy array whose rows are samples (``linreg``: features with
the label as last column; ``categorical``: category ids; ``text``: an object array of
documents). :meth:`Scenario.to_dataset` turns it into a real ``datasets.Dataset`` so
that the library's transforms run on it unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

from ._checks import OptionError, check_int, check_real
from .metrics import js_divergence, kl_divergence, sliced_w2, tail_mass_ratio, w2_gaussian

__all__ = ["Scenario", "SCENARIOS", "make_scenario", "scenario_options", "WIKITEXT_DIR", "WIKITEXT_ENV", "wikitext_dir"]

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


def _temper(p: np.ndarray, temperature: float) -> np.ndarray:
    """``p ** (1 / temperature)`` normalised, computed in log space so that no temperature underflows to all zeros."""
    p = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(p)
    pos = p > 0
    if not pos.any():
        return out
    logits = np.log(p[pos]) / temperature
    w = np.exp(logits - logits.max())
    out[pos] = w / w.sum()
    return out


@dataclass
class Scenario:
    """Base class. Subclasses set ``name``, ``metrics`` (name -> higher is better) and implement the hooks."""

    n: int = 1000
    seed: int = 0
    name: ClassVar[str] = "base"
    metrics: ClassVar[dict[str, bool]] = {}
    #: the headline tail and quality metric of this scenario (for summaries)
    tail_metric: ClassVar[str] = ""
    quality_metric: ClassVar[str] = ""
    #: the fewest training rows the model family can be fitted on
    min_train_rows: ClassVar[int] = 2

    def __post_init__(self) -> None:
        self.validate()

    # -- option checks: every option is checked when the scenario is made, naming it and what it expects
    def _option_label(self, option: str) -> str:
        return f"{self.name} option {option}"

    def _check_int(self, option: str, minimum: int, why: str = "", maximum: int | None = None) -> None:
        setattr(self, option, check_int(getattr(self, option), ("options", option), self._option_label(option), minimum,
                                        why, maximum))

    def _check_real(self, option: str, **bounds: Any) -> None:
        setattr(self, option, check_real(getattr(self, option), ("options", option), self._option_label(option), **bounds))

    def validate(self) -> "Scenario":
        """Check every option; raises :class:`OptionError` (a ``ValueError``) naming the first bad one."""
        self._check_int("n", max(2, self.min_train_rows), "the sample size per generation")
        self._check_int("seed", 0)
        return self

    def setup(self, rng: np.random.Generator) -> None:
        """Per-seed fixed state (for example the true regression weights). Default: nothing."""

    def real(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, data: np.ndarray, rng: np.random.Generator) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, model: Any, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, model: Any, rng: np.random.Generator) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_likelihood(self, model: Any, data: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- bridges to the library's transforms
    def feature_names(self, data: np.ndarray) -> list[str]:
        return [f"x{i}" for i in range(np.atleast_2d(data.T).T.shape[1])]

    def to_dataset(self, data: np.ndarray, is_synthetic: np.ndarray, ids: np.ndarray) -> datasets.Dataset:
        X = np.atleast_2d(data.T).T
        cols: dict[str, Any] = {name: X[:, i].astype(np.float64) for i, name in enumerate(self.feature_names(data))}
        cols.update({"id": ids.astype(np.int64), "is_synthetic": is_synthetic.astype(bool)})
        return datasets.Dataset.from_dict(cols)

    def features(self, data: np.ndarray) -> np.ndarray:
        """Numeric view of samples, for detectors and clustering."""
        return np.atleast_2d(np.asarray(data, dtype=np.float64).T).T


@dataclass
class GaussianScenario(Scenario):
    """d-dimensional standard Gaussian, refit by maximum likelihood (Shumailov et al.'s theory case)."""

    n: int = 100
    dim: int = 1
    name: ClassVar[str] = "gaussian"
    metrics: ClassVar[dict[str, bool]] = {"variance": True, "log_variance_ratio": True, "w2": False,
                                          "tail_mass": True, "nll_real": False}
    tail_metric: ClassVar[str] = "tail_mass"
    quality_metric: ClassVar[str] = "w2"

    def validate(self):
        super().validate()
        self._check_int("dim", 1, "the dimension")
        return self

    def real(self, rng, n):
        return rng.normal(size=(n, self.dim))

    def fit(self, data, rng):
        X = np.atleast_2d(data.T).T
        return X.mean(axis=0), np.atleast_2d(np.cov(X.T, ddof=0))

    def sample(self, model, n, rng):
        mu, cov = model
        return rng.multivariate_normal(mu, cov, size=n) if self.dim > 1 else rng.normal(mu[0], math.sqrt(cov[0, 0]), (n, 1))

    def log_likelihood(self, model, data):
        from scipy.stats import multivariate_normal
        mu, cov = model
        return multivariate_normal(mu, cov, allow_singular=True).logpdf(np.atleast_2d(data.T).T).reshape(-1)

    def evaluate(self, model, rng):
        mu, cov = model
        var = float(np.trace(cov) / self.dim)
        held = self.real(np.random.default_rng(12345), 2000)
        return {"variance": var, "log_variance_ratio": math.log(max(var, 1e-300)),
                "w2": w2_gaussian(mu, cov, np.zeros(self.dim), np.eye(self.dim)),
                "tail_mass": tail_mass_ratio(self.sample(model, 4000, rng), held),
                "nll_real": float(-np.mean(self.log_likelihood(model, held)))}


class _MixtureModel:
    """Model family of scenarios fitted with scikit-learn's GaussianMixture."""

    _components: ClassVar[int] = 2
    min_train_rows: ClassVar[int] = 2  # a mixture needs at least one row per component
    _reg_covar: ClassVar[float] = 1e-4

    def fit(self, data, rng):
        from sklearn.mixture import GaussianMixture
        return GaussianMixture(self._components, covariance_type="full", reg_covar=self._reg_covar,
                               random_state=int(rng.integers(2**31))).fit(data)

    def sample(self, model, n, rng):
        model.random_state = int(rng.integers(2**31))
        X, _ = model.sample(n)
        return X[rng.permutation(n)]

    def log_likelihood(self, model, data):
        return model.score_samples(data)


@dataclass
class GMMScenario(_MixtureModel, Scenario):
    """2-D mixture: a 95% majority mode and a 5% minority mode; refit with scikit-learn GaussianMixture."""

    n: int = 1000
    minority_weight: float = 0.05
    name: ClassVar[str] = "gmm"
    metrics: ClassVar[dict[str, bool]] = {"minority_mass": True, "sliced_w2": False, "tail_mass": True,
                                          "variance_ratio": True, "nll_real": False}
    tail_metric: ClassVar[str] = "minority_mass"
    quality_metric: ClassVar[str] = "nll_real"
    _MAJOR: ClassVar[np.ndarray] = np.array([0.0, 0.0])
    _MINOR: ClassVar[np.ndarray] = np.array([3.5, 3.5])

    def validate(self):
        super().validate()
        self._check_real("minority_weight", low=0.0, high=1.0, low_open=True, high_open=True,
                         why="the share of the minority mode")
        return self

    def real(self, rng, n):
        minor = rng.random(n) < self.minority_weight
        X = rng.normal(size=(n, 2))
        X[minor] = self._MINOR + 0.5 * X[minor]
        return X

    def _minor_share(self, X):
        return float(np.mean(np.linalg.norm(X - self._MINOR, axis=1) < np.linalg.norm(X - self._MAJOR, axis=1)))

    def evaluate(self, model, rng):
        held = self.real(np.random.default_rng(12345), 4000)
        gen = self.sample(model, 4000, rng)
        return {"minority_mass": self._minor_share(gen) / self._minor_share(held),
                "sliced_w2": sliced_w2(gen, held), "tail_mass": tail_mass_ratio(gen, held),
                "variance_ratio": float(np.trace(np.cov(gen.T)) / np.trace(np.cov(held.T))),
                "nll_real": float(-np.mean(model.score_samples(held)))}


@dataclass
class LinRegScenario(Scenario):
    """Linear regression refit on its own labels (Gerstgrasser et al. 2024; Dohmatob et al. 2024)."""

    n: int = 100
    dim: int = 10
    noise: float = 1.0
    name: ClassVar[str] = "linreg"
    metrics: ClassVar[dict[str, bool]] = {"excess_error_ratio": False, "test_mse_ratio": False}
    tail_metric: ClassVar[str] = "excess_error_ratio"
    quality_metric: ClassVar[str] = "test_mse_ratio"
    w_true: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def validate(self):
        super().validate()
        self._check_int("dim", 1, "the number of features")
        self._check_real("noise", low=0.0, low_open=True, why="the label noise standard deviation")
        # the ideal excess error noise**2 * dim / (n - dim - 1) needs n > dim + 1
        self._check_int("n", self.dim + 2, f"the sample size must exceed dim + 1 = {self.dim + 1}")
        return self

    def setup(self, rng):
        self.w_true = rng.normal(size=self.dim)

    def _label(self, w, X, rng):
        return X @ w + self.noise * rng.normal(size=len(X))

    def real(self, rng, n):
        X = rng.normal(size=(n, self.dim))
        return np.column_stack([X, self._label(self.w_true, X, rng)])

    def fit(self, data, rng):
        return np.linalg.lstsq(data[:, :-1], data[:, -1], rcond=None)[0]

    def sample(self, model, n, rng):
        X = rng.normal(size=(n, self.dim))
        return np.column_stack([X, self._label(model, X, rng)])

    def log_likelihood(self, model, data):
        return -0.5 * (data[:, -1] - data[:, :-1] @ model) ** 2

    def evaluate(self, model, rng):
        excess = float(np.sum((model - self.w_true) ** 2))
        ideal = self.noise ** 2 * self.dim / (self.n - self.dim - 1)
        return {"excess_error_ratio": excess / ideal, "test_mse_ratio": 1.0 + excess / self.noise ** 2}


@dataclass
class CategoricalScenario(Scenario):
    """A long-tailed categorical source (Zipf over ``categories``), refit by counting.

    ``categories=2, zipf=3.17`` gives the "90% yellow / 10% blue" case (1 : 2**-3.17 = 0.9 : 0.1).
    ``temperature`` and ``top_p`` change how the fitted model samples.
    """

    n: int = 2000
    categories: int = 1000
    zipf: float = 1.1
    temperature: float = 1.0
    top_p: float = 1.0
    name: ClassVar[str] = "categorical"
    metrics: ClassVar[dict[str, bool]] = {"support_ratio": True, "tail_recall": True, "tail_mass": True,
                                          "kl_real_model": False, "js": False}
    tail_metric: ClassVar[str] = "tail_recall"
    quality_metric: ClassVar[str] = "kl_real_model"
    min_train_rows: ClassVar[int] = 1

    def validate(self):
        super().validate()
        self._check_int("categories", 2, "the number of categories")
        self._check_real("zipf", low=0.0, low_open=True, why="the Zipf exponent")
        self._check_real("temperature", low=0.0, low_open=True, why="the sampling temperature")
        self._check_real("top_p", low=0.0, high=1.0, low_open=True, why="the nucleus mass kept when sampling")
        tail = self.tail
        if len(tail) == 0 or not self.probs[tail].sum() > 0:
            raise OptionError(("options", "categories"), self._option_label("categories"),
                              f"must be large enough, with zipf={self.zipf!r}, that the rarest categories with "
                              "non-zero probability together hold at most 20% of the mass (the tail metrics "
                              f"measure them), got {self.categories!r}; use more categories or another zipf exponent")
        return self

    @property
    def probs(self) -> np.ndarray:
        with np.errstate(over="ignore"):  # a huge exponent gives the rarest categories probability 0
            p = 1.0 / np.arange(1, self.categories + 1) ** self.zipf
        return p / p.sum()

    @property
    def tail(self) -> np.ndarray:
        """The rarest categories that together hold 20% of the real mass."""
        cum = np.cumsum(self.probs[::-1])
        return np.arange(self.categories)[::-1][cum <= 0.2]

    def real(self, rng, n):
        return rng.choice(self.categories, size=n, p=self.probs)

    def fit(self, data, rng):
        return np.bincount(np.asarray(data, dtype=np.int64), minlength=self.categories) / len(data)

    def _sampling_probs(self, model):
        p = model.astype(np.float64)
        if self.temperature != 1.0:
            p = _temper(p, self.temperature)
        if self.top_p < 1.0:
            order = np.argsort(-p, kind="stable")
            keep = np.cumsum(p[order]) - p[order] < self.top_p
            mask = np.zeros_like(p, dtype=bool)
            mask[order[keep]] = True
            p = np.where(mask, p, 0.0) / p[mask].sum()
        return p

    def sample(self, model, n, rng):
        return rng.choice(self.categories, size=n, p=self._sampling_probs(model))

    def log_likelihood(self, model, data):
        return np.log(np.maximum(model[np.asarray(data, dtype=np.int64)], 1e-12))

    def evaluate(self, model, rng):
        tail = self.tail
        return {"support_ratio": float(np.mean(model > 0)),
                "tail_recall": float(np.mean(model[tail] > 0)),
                "tail_mass": float(model[tail].sum() / self.probs[tail].sum()),
                "kl_real_model": kl_divergence(self.probs, model, eps=1e-6),
                "js": js_divergence(self.probs, model)}

    def feature_names(self, data):
        return ["category"]

    def to_dataset(self, data, is_synthetic, ids):
        return datasets.Dataset.from_dict({"category": np.asarray(data, dtype=np.int64), "id": ids.astype(np.int64),
                                           "is_synthetic": is_synthetic.astype(bool)})

    def features(self, data):
        onehot = np.zeros((len(data), self.categories))
        onehot[np.arange(len(data)), np.asarray(data, dtype=np.int64)] = 1.0
        return onehot


@dataclass
class DigitsScenario(_MixtureModel, Scenario):
    """scikit-learn's bundled 8x8 digits in a fixed 16-d PCA space, modelled by a 10-component Gaussian mixture.

    Class coverage is measured by a logistic-regression classifier trained on the real digits.
    """

    n: int = 1000
    pca_dim: int = 16
    name: ClassVar[str] = "digits"
    metrics: ClassVar[dict[str, bool]] = {"class_entropy": True, "min_class_share": True, "sliced_w2": False,
                                          "nll_real": False}
    tail_metric: ClassVar[str] = "min_class_share"
    quality_metric: ClassVar[str] = "nll_real"
    _components: ClassVar[int] = 10
    _reg_covar: ClassVar[float] = 1e-3
    _cache: ClassVar[dict] = {}
    min_train_rows: ClassVar[int] = 10  # one row per mixture component

    def validate(self):
        super().validate()
        self._check_int("pca_dim", 1, "PCA components of the 64 pixel features", maximum=64)
        return self

    def _space(self):
        if self.pca_dim not in self._cache:
            from sklearn.datasets import load_digits
            from sklearn.decomposition import PCA
            from sklearn.linear_model import LogisticRegression
            digits = load_digits()
            pca = PCA(self.pca_dim, random_state=0).fit(digits.data)
            Z = pca.transform(digits.data)
            clf = LogisticRegression(max_iter=3000).fit(Z, digits.target)
            self._cache[self.pca_dim] = (Z, digits.target, clf)
        return self._cache[self.pca_dim]

    def real(self, rng, n):
        Z, _, _ = self._space()
        return Z[rng.integers(0, len(Z), n)] + rng.normal(scale=0.05, size=(n, self.pca_dim))

    def evaluate(self, model, rng):
        Z, _, clf = self._space()
        gen = self.sample(model, 2000, rng)
        share = np.bincount(clf.predict(gen), minlength=10) / len(gen)
        nz = share[share > 0]
        return {"class_entropy": float(-(nz * np.log(nz)).sum() / math.log(10)),
                "min_class_share": float(share.min() * 10),
                "sliced_w2": sliced_w2(gen, Z),
                "nll_real": float(-np.mean(model.score_samples(Z)))}


@dataclass
class BigramModel:
    """Interpolated absolute-discounting bigram model over a fixed vocabulary."""

    vocab: list[str]
    unigram: np.ndarray
    successors: dict[int, tuple[np.ndarray, np.ndarray]]
    discount: float = 0.75

    def prob(self, prev: int, nxt: int, uni_smooth: np.ndarray) -> float:
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
    """

    n: int = 1000
    doc_words: int = 40
    eval_words: int = 30000
    temperature: float = 1.0
    data_dir: str = ""
    name: ClassVar[str] = "text"
    metrics: ClassVar[dict[str, bool]] = {"perplexity": False, "rare_word_recall": True, "vocab_ratio": True,
                                          "distinct_2": True, "type_token_ratio": True}
    tail_metric: ClassVar[str] = "rare_word_recall"
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
        uni = model.unigram / model.unigram.sum()
        if self.temperature != 1.0:
            uni = _temper(uni, self.temperature)
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
                            disc = _temper(disc, self.temperature)
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
        docs, vocab, _, test_ids, rare = self._corpus()
        uni = self._smoothed_unigram(model)
        logp = [math.log(model.prob(int(a), int(b), uni)) for a, b in zip(test_ids[:-1], test_ids[1:])]
        gen = self.sample(model, 200, rng)
        from ..diversity.metrics import distinct_n
        return {"perplexity": float(math.exp(-np.mean(logp))),
                "rare_word_recall": float(np.mean(model.unigram[rare] > 0)) if len(rare) else float("nan"),
                "vocab_ratio": float(np.mean(model.unigram > 0)),
                "distinct_2": distinct_n(list(gen), 2), "type_token_ratio": distinct_n(list(gen), 1)}

    def feature_names(self, data):
        return ["text"]

    def to_dataset(self, data, is_synthetic, ids):
        return datasets.Dataset.from_dict({"text": [str(t) for t in data], "id": ids.astype(np.int64),
                                           "is_synthetic": is_synthetic.astype(bool)})

    def features(self, data):
        from ..diversity import Embedder
        return np.array(Embedder(model="hashing", dim=64).encode([str(t) for t in data]), dtype=np.float64)


SCENARIOS: dict[str, type[Scenario]] = {cls.name: cls for cls in (
    GaussianScenario, GMMScenario, LinRegScenario, CategoricalScenario, DigitsScenario, TextScenario)}


def scenario_options(name: str) -> list[str]:
    """The options scenario ``name`` takes."""
    return sorted(f.name for f in dataclasses.fields(SCENARIOS[name]) if not f.name.startswith("_") and f.name != "w_true")


def make_scenario(name: str, /, **options: Any) -> Scenario:
    """Instantiate scenario ``name`` with options (for example ``n=100``, ``dim=2``, ``temperature=0.8``).

    Every option is checked here: a bad one raises :class:`OptionError` (a ``ValueError``)
    naming it and what it expects.
    """
    if not isinstance(name, str) or name not in SCENARIOS:
        raise OptionError(("scenario",), "scenario", f"must be one of {sorted(SCENARIOS)}, got {name!r} "
                                                     "(unknown scenario)")
    allowed = scenario_options(name)
    bad = set(options) - set(allowed)
    if bad:
        raise OptionError(("options",), "options",
                          f"scenario {name!r} has no option(s) {sorted(map(str, bad))}; its options: {allowed}",
                          joiner=": ")
    return SCENARIOS[name](**options)
