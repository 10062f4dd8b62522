"""``mix``: a dataset of exact size and exact synthetic share drawn from a human and a synthetic source."""

from __future__ import annotations

import math
from typing import Any
from fractions import Fraction

import datasets
import numpy as np

from ..hashing import hash_column, hash_keys
from ..columns import SOURCE
from .config import QuotaConfig

__all__ = ["mix"]


def mix(human: datasets.Dataset, synthetic: datasets.Dataset, synthetic_fraction: float, size: int, *,
        seed: int = 0, replace: bool = False, id_column: str | None = None, text_column: str = "text",
        source_column: str | None = SOURCE.name) -> datasets.Dataset:
    """A dataset of exactly ``size`` rows, ``floor(synthetic_fraction * size)`` of them synthetic.

    Rows are chosen from each source by smallest ``hash64(seed, key)`` (key: ``id_column``
    or ``text_column``) and interleaved in a deterministic hash order. With
    ``replace=True`` a source smaller than its share is repeated (every row the same
    number of times, give or take one) instead of raising. ``source_column`` (default
    ``"sf_source"``, ``None`` to omit) records ``"human"``/``"synthetic"``.

    ``human`` may be a :class:`~synthfilter.Reservoir` (the pristine human data to mix
    back): its texts then fill ``text_column``, and ``synthetic`` must hold only that column.
    """
    if not 0.0 <= synthetic_fraction <= 1.0:
        raise ValueError(f"synthetic_fraction must be in [0, 1], got {synthetic_fraction!r}")
    human = _from_reservoir(human, synthetic, text_column)
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}")
    if set(human.column_names) != set(synthetic.column_names):
        raise ValueError(f"human and synthetic must have the same columns: {human.column_names} vs {synthetic.column_names}")
    n_syn = math.floor(Fraction(repr(float(synthetic_fraction))) * size)
    picks = []
    for name, src, need in (("human", human, size - n_syn), ("synthetic", synthetic, n_syn)):
        if need > src.num_rows and not replace:
            raise ValueError(f"{name}: {need} rows needed but only {src.num_rows} available; pass replace=True to upsample")
        if need and not src.num_rows:
            raise ValueError(f"{name}: empty, but {need} rows are needed")
        key = QuotaConfig(0.0, id_column=id_column, text_column=text_column).key_column(src.column_names)
        h = hash_column(src.with_format("arrow").select_columns([key])[:].column(key), seed) if src.num_rows else np.zeros(0, np.uint64)
        order = np.lexsort((np.arange(src.num_rows), h))
        reps, rest = divmod(need, max(src.num_rows, 1))
        idx = np.concatenate([np.tile(np.arange(src.num_rows), reps), order[:rest]]).astype(np.int64)
        copy = np.concatenate([np.repeat(np.arange(reps), src.num_rows), np.full(rest, reps)]).astype(np.int64)
        part = src.select(idx)
        if source_column:
            part = part.add_column(source_column, [name] * len(idx), feature=datasets.Value("string"))
        mix_keys = hash_keys((h[idx] ^ np.uint64(len(name))).astype(np.int64) + copy, seed + 1) if len(idx) else np.zeros(0, np.uint64)
        picks.append((part, mix_keys))
    parts = [p for p, _ in picks]
    features = parts[0].features
    combined = datasets.concatenate_datasets([parts[0], parts[1].cast(features)])
    order = np.lexsort((np.arange(combined.num_rows), np.concatenate([k for _, k in picks])))
    return combined.select(order).flatten_indices()


def _from_reservoir(human: Any, synthetic: datasets.Dataset, text_column: str) -> Any:
    """A reservoir's texts as a one-column dataset shaped like ``synthetic``; anything else unchanged."""
    from ..reservoir import Reservoir

    if not isinstance(human, Reservoir):
        return human
    if synthetic.column_names != [text_column]:
        raise ValueError(f"human is a Reservoir (texts only): synthetic must hold only the {text_column!r} column, "
                         f"got {synthetic.column_names}; select it with synthetic.select_columns([{text_column!r}])")
    return datasets.Dataset.from_dict({text_column: list(human.texts())}, features=synthetic.features)
