"""What ``clean`` does: :class:`CleanConfig`, every field written to the manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..quota import QuotaConfig
from ..quota.config import BASES
from ..quota.notes import no_reference_error

if TYPE_CHECKING:
    from ..diversity import ResampleConfig
    from ..provenance import Provenance

__all__ = ["CleanConfig", "OPTION"]

#: Command-line spelling of the configuration fields, for messages.
OPTION = {"max_synthetic": "--max-synthetic", "resample": "--resample", "dedup_threshold": "--dedup-threshold",
          "by": "--by", "unknown": "--unknown", "basis": "--basis", "reference": "--reference",
          "ai_reference": "--ai-reference", "confidence": "--confidence", "shard_size": "--shard-size",
          "max_copies": "--max-copies", "junk": "--no-junk-rule", "min_words": "--min-words",
          "boilerplate_min_repeats": "--boilerplate-min-repeats", "target_fpr": "--target-fpr",
          "provenance_column": "--provenance-column", "human_values": "--human-values",
          "synthetic_values": "--synthetic-values", "first_seen_column": "--first-seen-column",
          "human_before": "--human-before"}


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
    embedder: ``"static"`` (default), ``"minilm"``, ``"hashing"`` or a sentence-transformers path.
    dedup_threshold: cosine similarity above which rows are near-duplicates; ``"auto"``
        (default) is the embedder's measured threshold (:attr:`Embedder.dedup_threshold`);
        ``None`` skips dedup.
    by: optional group column for the quota.
    text_column / id_column: the text, and the row key for hashing (default: the text).
    unknown: what unscorable rows count as in the quota (default ``"human"``).
    seed: seed of every hash and k-means fit. Default 0.
    keep_embeddings: keep ``sf_embedding`` in the output. Default ``False``.
    batch_size: rows per batch of the tagging and embedding maps. Default 1000.
    basis: what the quota holds to ``max_synthetic``. ``"auto"`` (default) and ``"estimated"``:
        the *true* share, estimated against known-human text of the same kind (``reference``,
        or the input's own rows known human by provenance) and certified on rows that did not
        choose the cut (see :func:`synthfilter.enforce_quota`); without such text this is an
        error that says how to give it. ``"labels"``: the share counted from detector labels,
        which understates the true share on unseen sources; the report says so.
    reference / ai_reference: known-human (and optionally known-AI) text of the same kind:
        a data file, a folder or a :class:`~synthfilter.Reservoir` folder. It is used instead
        of the input's own known-human rows. With ``basis="labels"`` a reference adds the
        estimated true share to the report.
    provenance_column / human_values / synthetic_values: the column rule of the provenance:
        rows whose ``provenance_column`` value is in ``human_values`` (``synthetic_values``)
        are human (synthetic) whatever the detector says (see :mod:`synthfilter.provenance`).
    first_seen_column / human_before: the date rule: rows first seen before ``human_before``
        (an ISO date such as ``"2022-11-30"``) are human. Known-human rows are still scored and
        are the input's own reference for the estimate, the labels and the quota.
    target_fpr: share of known-human text of the same kind labelled synthetic once ``sf_label``
        is calibrated on the reference (or the own known-human rows). Default 0.01.
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
    embedder: str = "static"
    dedup_threshold: float | Literal["auto"] | None = "auto"
    by: str | None = None
    text_column: str = "text"
    id_column: str | None = None
    unknown: Literal["human", "synthetic", "drop"] = "human"
    seed: int = 0
    keep_embeddings: bool = False
    batch_size: int = 1000
    basis: Literal["auto", "labels", "estimated"] = "auto"
    reference: str | None = None
    ai_reference: str | None = None
    confidence: float = 0.9
    shard_size: int | None = None
    verbose: bool = False
    max_copies: int = 1
    junk: bool = True
    min_words: int = 5
    boilerplate_min_repeats: int = 3
    provenance_column: str | None = None
    human_values: tuple[str, ...] = ()
    synthetic_values: tuple[str, ...] = ()
    first_seen_column: str | None = None
    human_before: str | None = None
    target_fpr: float = 0.01

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_synthetic < 1.0:
            raise ValueError(f"max_synthetic must be in [0, 1), got {self.max_synthetic!r}")
        if isinstance(self.resample, bool) or not isinstance(self.resample, int) or self.resample < 1:
            raise ValueError(f"resample must be a positive number of rows, got {self.resample!r}")
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be positive, got {self.workers!r}")
        if self.dedup_threshold == "auto":
            from ..diversity import Embedder

            self.dedup_threshold = Embedder(model=self.embedder).dedup_threshold
        if self.dedup_threshold is not None and not 0.0 < self.dedup_threshold <= 1.0:
            raise ValueError(f"dedup_threshold must be in (0, 1], got {self.dedup_threshold!r}")
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")
        self.human_values, self.synthetic_values = tuple(self.human_values), tuple(self.synthetic_values)
        rules = self.provenance  # validates the rules
        if self.basis != "labels" and self.reference is None and (rules is None or not (rules.human or
                                                                                           rules.first_seen_column)):
            raise ValueError(no_reference_error(self.detector))
        if not 0 < self.target_fpr < 1:
            raise ValueError(f"target_fpr must be in (0, 1), got {self.target_fpr!r}")
        for name in ("reference", "ai_reference"):
            path = getattr(self, name)
            if path is not None and not Path(path).exists():
                raise FileNotFoundError(f"{name}: {path} does not exist")
        if self.shard_size is not None and (isinstance(self.shard_size, bool) or not isinstance(self.shard_size, int)
                                            or self.shard_size < 1):
            raise ValueError(f"shard_size must be a positive number of rows, got {self.shard_size!r}")
        self.quota_config()  # validates confidence
        self.resample_config()  # validates max_copies, min_words, boilerplate_min_repeats

    @property
    def provenance(self) -> "Provenance | None":
        """The provenance rules of the options (``None`` without any)."""
        from ..provenance import Provenance

        rules = None
        if self.provenance_column or self.human_values or self.synthetic_values:
            if not self.provenance_column:
                raise ValueError("human_values/synthetic_values need provenance_column")
            rules = {"column": self.provenance_column, "human": list(self.human_values),
                     "synthetic": list(self.synthetic_values)}
        return Provenance.build(rules, first_seen_column=self.first_seen_column, human_before=self.human_before)

    def quota_config(self, basis: str | None = None) -> QuotaConfig:
        """The quota step's :class:`~synthfilter.quota.QuotaConfig` (cap mode); ``basis`` overrides :attr:`basis`."""
        return QuotaConfig(self.max_synthetic, by=self.by, unknown=self.unknown, id_column=self.id_column,
                           text_column=self.text_column, seed=self.seed, basis=basis or self.basis,
                           confidence=self.confidence, provenance=self.provenance)

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
