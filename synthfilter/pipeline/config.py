"""What ``clean`` does: :class:`CleanConfig`, every field written to the manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal

from ..quota import QuotaConfig

__all__ = ["CleanConfig", "OPTION"]

#: Command-line spelling of the configuration fields, for messages.
OPTION = {"max_synthetic": "--max-synthetic", "resample": "--resample", "dedup_threshold": "--dedup-threshold",
          "by": "--by", "unknown": "--unknown"}


@dataclass
class CleanConfig:
    """What ``clean`` does; every field is written to the manifest.

    Attributes
    ----------
    max_synthetic: target synthetic share of the quota step, in [0, 1).
    resample: rows the tail-resampling step keeps (all rows when fewer remain).
    engine: ``"local"`` (default) or ``"ray"``.
    workers: processes (local) or actors (Ray) for tagging and embedding. Default 2.
    detector: tagging detector (registry name or ``.npz``). Default ``"fast"``.
    embedder: ``"minilm"`` (default), ``"hashing"`` or a sentence-transformers path.
    dedup_threshold: cosine similarity above which rows are near-duplicates (default 0.95);
        ``None`` skips dedup.
    by: optional group column for the quota.
    text_column / id_column: the text, and the row key for hashing (default: the text).
    unknown: what unscorable rows count as in the quota (default ``"human"``).
    seed: seed of every hash and k-means fit. Default 0.
    keep_embeddings: keep ``sf_embedding`` in the output. Default ``False``.
    batch_size: rows per batch of the tagging and embedding maps. Default 1000.
    """

    max_synthetic: float
    resample: int
    engine: Literal["local", "ray"] = "local"
    workers: int = 2
    detector: str = "fast"
    embedder: str = "minilm"
    dedup_threshold: float | None = 0.95
    by: str | None = None
    text_column: str = "text"
    id_column: str | None = None
    unknown: Literal["human", "synthetic", "drop"] = "human"
    seed: int = 0
    keep_embeddings: bool = False
    batch_size: int = 1000

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_synthetic < 1.0:
            raise ValueError(f"max_synthetic must be in [0, 1), got {self.max_synthetic!r}")
        if isinstance(self.resample, bool) or not isinstance(self.resample, int) or self.resample < 1:
            raise ValueError(f"resample must be a positive number of rows, got {self.resample!r}")
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be positive, got {self.workers!r}")
        if self.dedup_threshold is not None and not 0.0 < self.dedup_threshold <= 1.0:
            raise ValueError(f"dedup_threshold must be in (0, 1], got {self.dedup_threshold!r}")

    def quota_config(self) -> QuotaConfig:
        """The quota step's :class:`~synthfilter.quota.QuotaConfig` (cap mode)."""
        return QuotaConfig(self.max_synthetic, by=self.by, unknown=self.unknown, id_column=self.id_column,
                           text_column=self.text_column, seed=self.seed)

    def fingerprint(self) -> str:
        """Hash of everything that changes the output (not the engine or worker count)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in ("engine", "workers", "batch_size")}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]
