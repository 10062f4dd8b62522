"""Quota options (:class:`QuotaConfig`) and the class and group vocabulary every quota module shares."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from ..columns import LABEL, REASON, SCORE

__all__ = ["QuotaConfig", "HUMAN", "SYNTHETIC", "UNKNOWN", "CLASS_NAMES", "NULL_GROUP", "BASES", "group_name"]

#: What a quota's share is measured on (see :attr:`QuotaConfig.basis`).
BASES = ("auto", "labels", "estimated")

HUMAN, SYNTHETIC, UNKNOWN = 0, 1, 2
CLASS_NAMES = ("human", "synthetic", "unknown")
#: How a null (or NaN) group value is named in reports; such rows form one group of their own.
NULL_GROUP = "<null>"
_LIKE_NULL = re.compile(r"<+null>+")


def group_name(value: Any) -> Any:
    """A group value as counts and reports name it: null and NaN are :data:`NULL_GROUP`; a string
    that reads like it (``"<null>"``, ``"<<null>>"``, ...) gets one more pair of angle brackets
    (``"<<null>>"``), so a real group named ``"<null>"`` never merges with the null rows; any
    other value is itself."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NULL_GROUP
    if isinstance(value, str) and _LIKE_NULL.fullmatch(value):
        return f"<{value}>"
    return value


@dataclass(frozen=True)
class QuotaConfig:
    """What a quota enforces and how rows are classified: the one source of quota options.

    Attributes
    ----------
    max_synthetic:
        Target synthetic share in ``[0, 1)``.
    mode:
        ``"cap"`` (default) drops surplus synthetic rows only; the share is then exactly
        the largest value ``<= max_synthetic`` reachable with all human rows kept.
        ``"exact"`` hits ``synthetic = floor(max_synthetic * total)`` with as many rows as
        possible, dropping human rows when synthetic rows are too few.
    by:
        Group column; the quota then holds within every group (null and NaN values form
        one group, reported as ``"<null>"``). Default ``None``.
    label_column, synthetic_column, score_column, score_threshold:
        Where the class comes from. Default: ``sf_label`` from :func:`synthfilter.tag`
        (``"human"``/``"synthetic"``/``"unknown"``; a boolean or 0/1 column is read as
        provenance). ``synthetic_column`` names a boolean (or 0/1) provenance column,
        which wins over detection; ``score_column``/``score_threshold`` classify by
        score ``>=`` threshold (``score_column`` defaults to ``sf_score`` when only a
        threshold is given).
    unknown:
        What unscorable rows (``sf_label="unknown"``, NaN score, null provenance) count
        as: ``"human"`` (default), ``"synthetic"``, or ``"drop"`` (removed, reported).
    id_column, text_column:
        Row key for the per-row hash: ``id_column`` if given, else ``text_column``
        (default ``"text"``). Rows with equal keys are ordered by position.
    seed:
        Seed of the per-row hash. Default 0.
    min_rows:
        ``mode="exact"`` raises ``ValueError`` if fewer rows would remain (per group).
        Default 1.
    basis:
        What the share is measured on. ``"estimated"``: the *estimated true* share
        (:func:`synthfilter.estimate_share`) against known-human text of the same kind: a
        ``reference``, or without one the corpus's own rows known human by provenance
        (``provenance`` rules, or rows a tagger with rules decided); the most-likely-synthetic
        rows (highest ``score_column``, default ``sf_score``) are dropped until the top of the
        certified ``confidence`` interval of the output's share is at most ``max_synthetic``
        (the cut is chosen on half of the rows and certified on the other half). Only
        ``mode="cap"``. ``"labels"``: rows counted by class; a share counted from detector
        labels understates the true share on unseen sources, and the report says so.
        ``"auto"`` (default): ``"estimated"`` when a reference or known-human provenance is
        there (and scores, in ``mode="cap"`` without ``synthetic_column``/``score_threshold``),
        else ``"labels"``.
    confidence:
        Coverage of the interval whose top the ``"estimated"`` basis holds to the
        target. Default 0.9.
    method:
        Estimator of the ``"estimated"`` basis: ``"auto"`` (default; ``"mle"`` with an
        AI reference, else ``"bbe"``), ``"bbe"`` or ``"mle"``.
    provenance:
        Rules that decide a row's class from known provenance before any label or
        score (:class:`synthfilter.provenance.Provenance`, or its dict form
        ``{"column": ..., "human": [...], "synthetic": [...]}``). Default ``None``.
    first_seen_column, human_before:
        Date rule of the provenance: rows first seen before ``human_before`` are human.
    """

    max_synthetic: float
    mode: Literal["cap", "exact"] = "cap"
    by: str | None = None
    label_column: str = LABEL.name
    synthetic_column: str | None = None
    score_column: str | None = None
    score_threshold: float | None = None
    unknown: Literal["human", "synthetic", "drop"] = "human"
    id_column: str | None = None
    text_column: str = "text"
    seed: int = 0
    min_rows: int = 1
    basis: Literal["auto", "labels", "estimated"] = "auto"
    confidence: float = 0.9
    method: str = "auto"
    provenance: Any = None
    first_seen_column: str | None = None
    human_before: Any = None

    def __post_init__(self) -> None:
        from ..provenance import Provenance
        from .estimators import METHODS

        object.__setattr__(self, "provenance", Provenance.build(self.provenance, first_seen_column=self.first_seen_column,
                                                                human_before=self.human_before))
        object.__setattr__(self, "first_seen_column", None)
        object.__setattr__(self, "human_before", None)
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")
        if self.basis == "auto" and (self.mode == "exact" or self.synthetic_column is not None
                                     or self.score_threshold is not None):
            object.__setattr__(self, "basis", "labels")  # an explicit class, or a mode only labels support
        if isinstance(self.confidence, bool) or not isinstance(self.confidence, (int, float)) or not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.basis == "estimated":
            if self.mode != "cap":
                raise ValueError("basis='estimated' supports mode='cap' only (it drops the most-likely-synthetic rows)")
            if self.synthetic_column is not None:
                raise ValueError("basis='estimated' estimates from scores; with a provenance synthetic_column "
                                 "use basis='labels'")
            if self.score_column is None:
                object.__setattr__(self, "score_column", SCORE.name)
        f = self.max_synthetic
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= float(f) < 1.0:
            raise ValueError(f"max_synthetic must be a share in [0, 1), got {f!r}")
        if self.mode not in ("cap", "exact"):
            raise ValueError(f"mode must be 'cap' or 'exact', got {self.mode!r}")
        if self.unknown not in ("human", "synthetic", "drop"):
            raise ValueError(f"unknown must be 'human', 'synthetic' or 'drop', got {self.unknown!r}")
        if self.score_column is not None and self.score_threshold is None and self.basis == "labels":
            raise ValueError("score_column needs score_threshold (rows with score >= threshold are synthetic)")
        if self.score_threshold is not None and self.score_column is None:
            object.__setattr__(self, "score_column", SCORE.name)
        if self.basis == "estimated" and self.score_threshold is not None:
            raise ValueError("score_threshold classifies by a threshold; basis='estimated' uses the scores themselves")
        if not isinstance(self.min_rows, int) or self.min_rows < 0:
            raise ValueError(f"min_rows must be a non-negative integer, got {self.min_rows!r}")

    def resolved(self, estimated: bool) -> "QuotaConfig":
        """This config with ``basis="auto"`` settled: ``"estimated"`` when ``estimated`` (a reference or
        known-human provenance is there), else ``"labels"``."""
        if self.basis != "auto":
            return self
        from dataclasses import replace

        return replace(self, basis="estimated" if estimated else "labels",
                       score_column=self.score_column or (SCORE.name if estimated else None))

    def class_column(self) -> str:
        """The column the class is read from."""
        if self.basis != "labels":
            return self.label_column
        return self.synthetic_column or self.score_column or self.label_column

    def needed_columns(self, columns: list[str]) -> list[str]:
        """The columns a quota pass reads: the row key, the class and group columns (those present;
        classification names a missing one in its error)."""
        wanted = [self.key_column(columns)]
        extra = (self.score_column or SCORE.name, REASON.name) if self.basis != "labels" else ()
        extra += tuple(self.provenance.columns) if self.provenance is not None else ()
        for c in (self.class_column(), self.by) + extra:
            if c is not None and c not in wanted and c in columns:
                wanted.append(c)
        return wanted

    @property
    def share(self) -> Fraction:
        """The target as an exact fraction (``0.1`` is exactly 1/10)."""
        return Fraction(repr(float(self.max_synthetic)))

    @classmethod
    def build(cls, max_synthetic: float | None = None, config: "QuotaConfig | None" = None,
              options: dict | None = None) -> "QuotaConfig":
        """``config`` itself, or a new config from ``max_synthetic`` and the other fields by name.

        What every function that takes quota options calls once, so the fields are
        listed only here.
        """
        options = options or {}
        if config is not None:
            if max_synthetic is not None or options:
                raise TypeError("pass either config= or max_synthetic/options, not both")
            if not isinstance(config, QuotaConfig):
                raise TypeError(f"config must be a QuotaConfig, got {type(config).__name__}")
            return config
        if max_synthetic is None:
            raise TypeError("max_synthetic is required (or pass config=QuotaConfig(...))")
        return cls(max_synthetic, **options)

    def key_column(self, columns: list[str]) -> str:
        """The column whose value keys each row's hash (``id_column``, else ``text_column``)."""
        if self.id_column is not None:
            if self.id_column not in columns:
                raise KeyError(f"id_column {self.id_column!r} not found; columns present: {columns}")
            return self.id_column
        if self.text_column not in columns:
            raise KeyError(
                f"no row key: pass id_column=... (text column {self.text_column!r} not found; "
                f"columns present: {columns})"
            )
        return self.text_column
