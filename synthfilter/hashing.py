"""Per-row deterministic pseudo-random numbers.

Every keep/drop decision in synthfilter comes from ``hash64(seed, row_key)``, never
from a random generator, so a row's fate does not depend on row order, batch size,
``num_proc`` or sharding. Integer keys use the SplitMix64 finaliser (vectorised in
numpy); other keys are hashed with xxHash64 over their UTF-8 text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash

__all__ = ["hash64", "hash_keys", "hash_column", "uniform"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _mix_int(seed: int, key: int) -> int:
    z = ((key & _MASK) + (seed & _MASK) * _GOLDEN + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def hash64(seed: int, key: object) -> int:
    """A 64-bit hash of ``key`` under ``seed``, as a Python int in ``[0, 2**64)``.

    ``key`` may be an ``int`` (or numpy integer), ``str`` or ``bytes``; anything
    else is hashed by its ``repr``. Booleans are hashed as text, not as 0/1.
    """
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        return _mix_int(int(seed), int(key))
    if isinstance(key, bytes):
        data = key
    elif isinstance(key, str):
        data = key.encode("utf-8", "surrogatepass")
    else:
        data = repr(key).encode("utf-8")
    return xxhash.xxh64_intdigest(data, seed=int(seed) & _MASK)


def hash_keys(keys: Sequence | np.ndarray, seed: int) -> np.ndarray:
    """``hash64(seed, k)`` for every key, as a ``uint64`` array (vectorised for integers)."""
    arr = keys if isinstance(keys, np.ndarray) else None
    if arr is None and len(keys) and all(
        isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) for k in keys
    ):
        arr = np.asarray(keys, dtype=np.int64)
    if arr is not None and arr.dtype.kind in "iu":
        with np.errstate(over="ignore"):
            z = arr.astype(np.uint64) + np.uint64(((int(seed) & _MASK) * _GOLDEN + _GOLDEN) & _MASK)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
            return z ^ (z >> np.uint64(31))
    return np.fromiter((hash64(seed, k) for k in keys), dtype=np.uint64, count=len(keys))


def uniform(seed: int, key: object) -> float:
    """``hash64(seed, key) / 2**64``: a deterministic uniform draw in ``[0, 1)``."""
    return hash64(seed, key) / 2.0**64


def hash_column(column, seed: int) -> np.ndarray:
    """:func:`hash_keys` of a pyarrow column: vectorised for null-free integer columns."""
    import pyarrow as pa

    if pa.types.is_integer(column.type) and not column.null_count:
        return hash_keys(column.to_numpy(zero_copy_only=False).astype(np.int64), seed)
    return hash_keys(column.to_pylist(), seed)
