"""What every model-backed transform shares: lazy loading that is never pickled, and batch detection.

A transform's state is configuration only: :class:`lazy` builds the model on first
use, once per process, and :class:`LazyModels` leaves it out of pickling, so
``num_proc`` workers, ``datasets``' fingerprint cache, Ray actors and Spark tasks
receive the small configuration and load the model themselves.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["lazy", "LazyModels", "is_loaded", "is_batched", "mean_pooled_states", "content_digest"]

T = TypeVar("T")
_PREFIX = "_lazy_"

try:  # the formatted views `datasets.map` hands to a function
    from datasets.formatting.formatting import LazyBatch, LazyRow
except ImportError:  # pragma: no cover - very old datasets
    LazyBatch = LazyRow = ()  # type: ignore[assignment,misc]


class lazy(Generic[T]):  # noqa: N801 - used like @property
    """Like ``@property``, but the value is built once, on first access, and kept on the instance.

    The cached value lives in ``instance.__dict__["_lazy_<name>"]``; :class:`LazyModels`
    drops such entries when pickling, ``obj.<name> = model`` hands over a loaded model
    and ``del obj.<name>`` forgets it.
    """

    def __init__(self, build: Callable[[Any], T]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.slot = _PREFIX + build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = _PREFIX + name
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        try:
            return obj.__dict__[self.slot]
        except KeyError:
            files = obj.model_files() if isinstance(obj, LazyModels) else {}
            if getattr(self, "name", None) in files:  # what it is loaded from, to notice a replaced file
                obj.__dict__[self.slot + _DIGEST] = content_digest(files[self.name])
            value = obj.__dict__[self.slot] = self.build(obj)
            return value

    def __set__(self, obj: Any, value: T) -> None:
        obj.__dict__[self.slot] = value  # hand over a model already loaded elsewhere

    def __delete__(self, obj: Any) -> None:
        obj.__dict__.pop(self.slot, None)
        obj.__dict__.pop(self.slot + _DIGEST, None)


def is_loaded(obj: Any, name: str) -> bool:
    """Whether the :class:`lazy` attribute ``name`` of ``obj`` has been built (or set)."""
    return _PREFIX + name in obj.__dict__


_DIGEST = "@sha256"
_STATE_DIGESTS = "_model_file_sha256"


class LazyModels:
    """Mixin: pickles without any :class:`lazy` value (the models load again where unpickled).

    A subclass whose models load from files names them in :meth:`model_files`; the pickled
    state then carries the files' SHA-256, so ``datasets``' cache key (the hash of the
    pickled transform) changes when a file at the same path is replaced, and
    :meth:`refresh_models` drops a model whose file changed since it was loaded.
    """

    def model_files(self) -> dict[str, Path]:
        """The file or folder each :class:`lazy` model (by attribute name) loads from; default none."""
        return {}

    def refresh_models(self) -> None:
        """Forget every loaded model whose file changed since it was loaded (it loads again on next use)."""
        for name, path in self.model_files().items():
            loaded = self.__dict__.get(_PREFIX + name + _DIGEST)
            if loaded is not None and content_digest(path) != loaded:
                delattr(self, name)

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if not k.startswith(_PREFIX) and k != _STATE_DIGESTS}
        digests = {name: content_digest(path) for name, path in self.model_files().items()}
        if digests:
            state[_STATE_DIGESTS] = digests
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: v for k, v in state.items() if k != _STATE_DIGESTS})


_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}


def _file_digest(path: str) -> str:
    st = os.stat(path)
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def content_digest(path: str | os.PathLike) -> str | None:
    """SHA-256 of a file's bytes, or of a folder's files (relative names and contents, sorted);
    ``None`` when nothing is at ``path``. Files are hashed once per (size, mtime, inode)."""
    path = os.path.realpath(path)
    if os.path.isfile(path):
        return _file_digest(path)
    if not os.path.isdir(path):
        return None
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(f"{os.path.relpath(full, path)}\0{_file_digest(full)}\n".encode())
    return digest.hexdigest()


def is_batched(batch: Mapping[str, Any], values: Any) -> bool:
    """Whether ``datasets.map`` passed a batch (dict of lists) rather than one row."""
    if isinstance(batch, LazyBatch):
        return True
    if isinstance(batch, LazyRow):
        return False
    return isinstance(values, (list, tuple))


def mean_pooled_states(body: Any, ids: list[list[int]], pad_id: int, batch_size: int) -> list[Any]:
    """The mean over its tokens of ``body``'s last hidden state for each token-id list (a float32
    torch vector; ``None`` for an empty list), run in batches of texts of similar length."""
    import torch

    out: list[Any] = [None] * len(ids)
    order = [i for i in sorted(range(len(ids)), key=lambda i: (len(ids[i]), i)) if ids[i]]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            width = max(len(ids[i]) for i in chunk)
            input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                mask[row, :len(ids[i])] = 1
            hidden = body(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            for row, i in enumerate(chunk):
                out[i] = pooled[row]
    return out
