"""What ``clean`` does: :class:`CleanConfig`, every field written to the manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..quota import QuotaConfig

if TYPE_CHECKING:
    from ..diversity import ResampleConfig

__all__ = ["CleanConfig", "OPTION"]

#: Command-line spelling of the configuration fields, for messages.
OPTION = {"max_synthetic": "--max-synthetic", "resample": "--resample", "dedup_threshold": "--dedup-threshold",
          "by": "--by", "unknown": "--unknown", "basis": "--basis", "reference": "--reference",
          "ai_reference": "--ai-reference", "confidence": "--confidence", "shard_size": "--shard-size",
          "max_copies": "--max-copies", "junk": "--no-junk-rule", "min_words": "--min-words",
          "boilerplate_min_repeats": "--boilerplate-min-repeats"}


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
    basis: what the quota holds to ``max_synthetic``: ``"labels"`` (default, the labelled
        share) or ``"estimated"`` (the top of the interval of the estimated true share,
        against ``reference``; see :func:`synthfilter.estimate_share`).
    reference / ai_reference: known-human (and optionally known-AI) text of the same kind:
        a data file, a folder or a :class:`~synthfilter.Reservoir` folder. With
        ``basis="labels"`` a reference adds the estimated true share to the report.
    confidence: coverage of the estimate's interval. Default 0.9.
    shard_size: write the output as ``output-00000-of-000NN.<fmt>`` shards of at most this
        many rows (as ``datasets`` and datatrove do) instead of one ``output.<fmt>``.
        Default ``None`` (one file). Every file is listed in ``manifest.json`` with its rows
        and SHA-256.
    verbose: Ray's own logs and progress output (default ``False``: errors only).
    max_copies: the most copies of one row that tail resampling may output. Default 1 (no
        repetition; resampled rows are marked in ``sf_copies`` either way).
    junk: never up-weight junk rows (``unknown``, short, boiler-plate) in tail resampling.
        Default ``True``; see :class:`~synthfilter.diversity.ResampleConfig`.
    min_words / boilerplate_min_repeats: what counts as junk: rows with fewer words
        (default 5; 0 off), and rows whose normalised text occurs at least this often
        (default 3; 0 off).
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
    basis: Literal["labels", "estimated"] = "labels"
    reference: str | None = None
    ai_reference: str | None = None
    confidence: float = 0.9
    shard_size: int | None = None
    verbose: bool = False
    max_copies: int = 1
    junk: bool = True
    min_words: int = 5
    boilerplate_min_repeats: int = 3

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
        if self.basis not in ("labels", "estimated"):
            raise ValueError(f"basis must be 'labels' or 'estimated', got {self.basis!r}")
        if self.basis == "estimated" and self.reference is None:
            raise ValueError("basis 'estimated' needs a reference: known-human text of the same kind "
                             "(a data file, folder or reservoir)")
        for name in ("reference", "ai_reference"):
            path = getattr(self, name)
            if path is not None and not Path(path).exists():
                raise FileNotFoundError(f"{name}: {path} does not exist")
        if self.shard_size is not None and (isinstance(self.shard_size, bool) or not isinstance(self.shard_size, int)
                                            or self.shard_size < 1):
            raise ValueError(f"shard_size must be a positive number of rows, got {self.shard_size!r}")
        self.quota_config()  # validates confidence
        self.resample_config()  # validates max_copies, min_words, boilerplate_min_repeats

    def quota_config(self, basis: str | None = None) -> QuotaConfig:
        """The quota step's :class:`~synthfilter.quota.QuotaConfig` (cap mode); ``basis`` overrides :attr:`basis`."""
        return QuotaConfig(self.max_synthetic, by=self.by, unknown=self.unknown, id_column=self.id_column,
                           text_column=self.text_column, seed=self.seed, basis=basis or self.basis,
                           confidence=self.confidence)

    def resample_config(self) -> "ResampleConfig":
        """The tail-resampling step's :class:`~synthfilter.diversity.ResampleConfig` (rows that cannot be embedded are left out)."""
        from ..diversity import ResampleConfig

        return ResampleConfig(invalid="drop", id_column=self.id_column, text_column=self.text_column, seed=self.seed,
                              max_copies=self.max_copies, junk=self.junk, min_words=self.min_words,
                              boilerplate_min_repeats=self.boilerplate_min_repeats)

    @property
    def reference_digest(self) -> str | None:
        """Content hash of the references (a reservoir's fingerprint, else the files' SHA-256), for fingerprints."""
        if self.reference is None and self.ai_reference is None:
            return None
        from ..io import input_fingerprints
        from ..reservoir import Reservoir, is_reservoir

        parts = []
        for path in (self.reference, self.ai_reference):
            if path is None:
                parts.append(None)
            elif is_reservoir(path):
                parts.append(Reservoir(path).fingerprint)
            else:
                parts.append([(f["sha256"], f["bytes"]) for f in input_fingerprints(path)])
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]

    @property
    def detector_digest(self) -> str | None:
        """SHA-256 of the detector's file (shipped weights or a saved ``.npz``): a file replaced at the same
        path changes the tag step's fingerprint."""
        from ..detect.registry import detector_file
        from ..models import content_digest

        return content_digest(detector_file(self.detector))

    @property
    def embedder_digest(self) -> str | None:
        """SHA-256 of an embedding model given by path (``None`` for the built-in ones)."""
        from ..diversity import Embedder

        files = Embedder(model=self.embedder).model_files()
        if not files:
            return None
        from ..models import content_digest

        return content_digest(next(iter(files.values())))

    def fingerprint(self) -> str:
        """Hash of everything that changes the output (not the engine or worker count)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in ("engine", "workers", "batch_size", "shard_size", "verbose")}
        relevant["reference_digest"] = self.reference_digest
        relevant["detector_digest"] = self.detector_digest
        relevant["embedder_digest"] = self.embedder_digest
        return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]
