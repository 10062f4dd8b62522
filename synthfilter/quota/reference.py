"""Reference scores for share estimation: known-human (or known-AI) text in any form a user has.

A reference may be a ``datasets.Dataset``, a path (a dataset file or folder, or a
:class:`~synthfilter.Reservoir` folder), a :class:`~synthfilter.Reservoir`, a list of
texts, or an array of scores. Text without an ``sf_score`` column is tagged with the
detector that tagged the corpus (``detector=``, else the registry detector its
``sf_detector`` column names), so corpus and reference are always scored alike.

The other reference is the corpus itself: its rows whose provenance makes them human
(:func:`own_reference`), scored like every other row.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import DETECTOR, SCORE
from ..hashing import hash_column

__all__ = ["Reference", "reference_scores", "corpus_detector", "quota_references", "own_reference"]


@dataclass(frozen=True)
class Reference:
    """Scores of known-human (or known-AI) rows, with their group and which half of a split each is in.

    Attributes
    ----------
    scores:
        Finite detector scores.
    groups:
        The ``by`` group of each row when the reference has that column, else ``None``.
    halves:
        ``True`` for rows in the certification half (the hash's lowest bit), ``False``
        for rows in the half that chooses a quota's cut.
    source:
        Where it came from, for reports: ``"reference"``, ``"ai_reference"`` or
        ``"own"`` (the corpus's own rows decided human by provenance).
    """

    scores: np.ndarray
    groups: np.ndarray | None
    halves: np.ndarray
    source: str = "reference"

    def __len__(self) -> int:
        return len(self.scores)

    def part(self, group: Any) -> "Reference":
        """The rows of ``group`` when the reference has a group column (possibly none), else all rows."""
        if self.groups is None:
            return self
        mask = self.groups == group
        return Reference(self.scores[mask], self.groups[mask], self.halves[mask], self.source)

    @classmethod
    def of_scores(cls, scores: Any, seed: int = 0, source: str = "reference") -> "Reference":
        """A reference from an array of scores (NaNs dropped); halves by the hash of each row's position."""
        scores = np.asarray(scores, dtype=np.float64).ravel()
        halves = _halves(pa.chunked_array([pa.array(np.arange(len(scores)))]), seed)
        finite = np.isfinite(scores)
        return cls(scores[finite], None, halves[finite], source)


def _halves(keys: pa.ChunkedArray | pa.Array, seed: int) -> np.ndarray:
    return (hash_column(keys, seed) & np.uint64(1)).astype(bool)


def corpus_detector(values: Sequence[Any]) -> str | None:
    """The one ``name@version`` in an ``sf_detector`` column, if any (several -> ``ValueError``)."""
    names = {v for v in values if v}
    if len(names) > 1:
        raise ValueError(f"{DETECTOR.name}: the corpus was tagged by several detectors {sorted(names)[:4]}; "
                         "estimate each part separately or re-tag it with one")
    return next(iter(names)) if names else None


def _as_dataset(reference: Any, what: str, text_column: str) -> datasets.Dataset | np.ndarray:
    from ..io import read_dataset
    from ..reservoir import Reservoir, is_reservoir

    if isinstance(reference, Reservoir):
        return reference.dataset()
    if isinstance(reference, (str, os.PathLike)):
        return Reservoir(reference).dataset() if is_reservoir(reference) else read_dataset(reference)
    if isinstance(reference, datasets.Dataset):
        return reference
    if isinstance(reference, np.ndarray) and reference.dtype.kind in "fiu":
        return reference.astype(np.float64)
    if isinstance(reference, Sequence) and not isinstance(reference, (str, bytes)):
        if all(isinstance(x, str) for x in reference):
            return datasets.Dataset.from_dict({text_column: list(reference)})
        if all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in reference):
            return np.asarray(reference, dtype=np.float64)
    raise TypeError(f"{what} must be a datasets.Dataset, a path, a Reservoir, a list of texts or an array of "
                    f"scores, got {type(reference).__name__}")


def reference_scores(reference: Any, *, what: str = "reference", detector: Any = None, corpus_tag: str | None = None,
                     score_column: str = SCORE.name, text_column: str = "text", id_column: str | None = None,
                     by: str | None = None, seed: int = 0, num_proc: int | None = None) -> Reference:
    """The :class:`Reference` of a user's reference (rows without a finite score dropped).

    Parameters
    ----------
    reference:
        See the module docstring.
    what:
        The argument's name, for error messages. Default ``"reference"``.
    detector:
        The detector that tagged the corpus (a registry name, a saved ``.npz`` path or a
        detector object): text that lacks ``score_column`` is tagged with it. ``None``
        (default): the registry detector named by ``corpus_tag``, else the shipped ``"fast"``.
    corpus_tag:
        ``name@version`` in the corpus's ``sf_detector``: the reference, when this function
        tags it, must come out with the same tag (else ``ValueError``: tag it yourself).
    score_column, text_column, id_column:
        Where scores are read, texts when they must be tagged, and the row key of the split
        into halves (``id_column`` when the reference has it, else the text, else the position).
    by:
        Group column; kept per row when the reference has it.
    seed:
        Seed of the split into halves. Default 0.
    num_proc:
        Processes for tagging. Default ``None``.
    """
    data = _as_dataset(reference, what, text_column)
    if isinstance(data, np.ndarray):
        ref = Reference.of_scores(data, seed, what)
        _check_not_empty(ref, what)
        return ref
    if data.num_rows == 0:
        raise ValueError(f"{what}: the reference is empty (0 rows); give known-human text of the same kind as the corpus")
    if score_column not in data.column_names:
        if text_column not in data.column_names:
            raise KeyError(f"{what}: neither a score column {score_column!r} nor a text column {text_column!r} "
                           f"(columns present: {data.column_names})")
        from ..tag import Tagger
        spec = detector if detector is not None else (corpus_tag or "fast").split("@", 1)[0]
        data = data.map(Tagger(text_column=text_column, detector=spec), batched=True, num_proc=num_proc,
                        desc=f"tagging {what}")
        used = corpus_detector(data[DETECTOR.name])
        if corpus_tag is not None and used is not None and used != corpus_tag:
            raise ValueError(f"{what}: the corpus was scored by {corpus_tag} but the reference would be scored by "
                             f"{used}; pass the corpus's detector (detector=... / --detector) or tag the reference "
                             "with it first")
    table = data.with_format("arrow")[:]
    scores = pc.fill_null(table.column(score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    key = next((c for c in (id_column, text_column) if c and c in table.column_names), None)
    keys = table.column(key) if key else pa.chunked_array([pa.array(np.arange(table.num_rows))])
    halves = _halves(keys, seed)
    finite = np.isfinite(scores)
    groups = None
    if by is not None and by in table.column_names:
        from .classify import group_values

        groups = group_values(table, by)[finite]
    ref = Reference(scores[finite], groups, halves[finite], what)
    _check_not_empty(ref, what)
    return ref


def _check_not_empty(ref: Reference, what: str) -> None:
    if not len(ref):
        raise ValueError(f"{what}: no row could be scored (every score is missing or unknown); give known-human "
                         "text the detector can score (its language, at least a few words per row)")


def quota_references(reference: Any, ai_reference: Any, cfg: Any, corpus_tag: str | None, detector: Any = None,
                     num_proc: int | None = None) -> tuple[Reference | None, Reference | None]:
    """``(human, ai)`` references for a quota config, scored like the corpus; ``(None, None)`` without them."""
    common = dict(detector=detector, corpus_tag=corpus_tag, score_column=cfg.score_column or SCORE.name,
                  text_column=cfg.text_column, id_column=cfg.id_column, by=cfg.by, seed=cfg.seed, num_proc=num_proc)
    human = None if reference is None else reference_scores(reference, what="reference", **common)
    ai = None if ai_reference is None else reference_scores(ai_reference, what="ai_reference", **common)
    return human, ai


def own_reference(scores: np.ndarray, known_human: np.ndarray, halves: np.ndarray,
                  groups: np.ndarray | None = None) -> Reference:
    """The corpus's own reference: the scores of its rows known human by provenance (and scored)."""
    mask = known_human & np.isfinite(scores)
    return Reference(scores[mask], None if groups is None else groups[mask], halves[mask], "own")
