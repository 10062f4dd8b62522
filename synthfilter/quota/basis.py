"""Settle what a quota's share is measured on (``basis="auto"``), and what the reader must be told about it.

``"auto"`` becomes ``"estimated"`` when there is known-human text of the same kind to
estimate the true share against (a ``reference``, provenance rules that decide human
rows, or rows a tagger with such rules decided) and the corpus has scores; otherwise
``"labels"``. A share counted from *detector* labels (``sf_label`` or a score threshold,
not a provenance flag) understates the true share on unseen sources: the quota's report
carries :func:`~synthfilter.quota.notes.labels_note`, and with ``"auto"`` a warning is
raised as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from ..columns import DETECTOR, LABEL, SCORE
from .config import QuotaConfig
from .notes import labels_note, no_reference_error

__all__ = ["settle_basis", "detector_labels", "warn_labels", "LabelsUnderstate"]


class LabelsUnderstate(UserWarning):
    """A quota held on detector labels, without a reference: the true synthetic share may be far higher."""


def detector_labels(cfg: QuotaConfig, columns: Sequence[str]) -> bool:
    """Whether ``cfg`` reads the class from a detector's output (``sf_label`` of a tagged corpus, or a score threshold)."""
    if cfg.synthetic_column is not None:
        return False
    return cfg.score_threshold is not None or (cfg.label_column == LABEL.name and DETECTOR.name in columns)


def settle_basis(cfg: QuotaConfig, columns: Sequence[str], *, reference: bool,
                 own_rows: Callable[[], int]) -> QuotaConfig:
    """``cfg`` with its basis settled (see the module docstring).

    ``columns`` are the corpus's columns; ``reference`` whether a reference was given;
    ``own_rows`` counts the corpus's rows that can be its own reference (called only when
    needed). An explicit ``basis="estimated"`` with neither raises ``ValueError``.
    """
    has_scores = (cfg.score_column or SCORE.name) in columns
    if cfg.basis == "auto":
        rules = cfg.provenance is not None and bool(cfg.provenance.human or cfg.provenance.first_seen_column)
        own = rules or (not reference and has_scores and own_rows() > 0)
        cfg = cfg.resolved(has_scores and (reference or own))
    elif cfg.basis == "estimated" and not reference and cfg.provenance is None and own_rows() == 0:
        raise ValueError(no_reference_error())
    return cfg


def warn_labels(cfg: QuotaConfig, columns: Sequence[str], detector: str | None, explicit: bool) -> str | None:
    """The labels note when ``cfg`` counts detector labels (``None`` otherwise); warned unless ``explicit``."""
    if cfg.basis != "labels" or not detector_labels(cfg, columns):
        return None
    note = labels_note(detector)
    if not explicit:
        warnings.warn(note, LabelsUnderstate, stacklevel=3)
    return note
