"""A bounded per-text memo of feature rows, shared by the heavy tiers' feature models."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..hashing import hash64
from ..text import normalize

__all__ = ["TextMemo"]


class TextMemo:
    """Feature rows memoised per normalised text, keyed by ``hash64(seed, text)``.

    Parameters
    ----------
    seed:
        Seed of the key hash; give different feature settings different seeds (the LM
        scorer uses its token window). Default 0.
    max_entries:
        The memo is emptied when it would grow past this many texts. Default 500,000.
    """

    def __init__(self, seed: int = 0, max_entries: int = 500_000) -> None:
        self.seed = seed
        self.max_entries = max_entries
        self.rows: dict[int, np.ndarray] = {}

    def lookup(self, texts: Sequence, compute: Callable[[list[str]], Sequence[np.ndarray]], width: int) -> np.ndarray:
        """Rows ``(len(texts), width)`` for ``texts`` (non-strings count as ``""``).

        ``compute`` receives the normalised texts not yet memoised, in key order, and
        returns one row for each.
        """
        prepared = [normalize(t) if isinstance(t, str) else "" for t in texts]
        keys = [hash64(self.seed, t) for t in prepared]
        todo = {k: t for k, t in zip(keys, prepared) if k not in self.rows}
        if len(self.rows) + len(todo) > self.max_entries:
            self.rows.clear()
            todo = dict(zip(keys, prepared))
        if todo:
            items = sorted(todo.items())
            for (key, _), row in zip(items, compute([t for _, t in items])):
                self.rows[key] = row
        out = np.empty((len(keys), width), dtype=next(iter(self.rows.values())).dtype if keys else np.float64)
        for i, key in enumerate(keys):
            out[i] = self.rows[key]
        return out
