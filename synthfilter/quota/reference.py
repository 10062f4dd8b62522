"""Reference scores for share estimation: known-human (or known-AI) text in any form a user has.

A reference may be a ``datasets.Dataset``, a path (a dataset file or folder, or a
:class:`~synthfilter.Reservoir` folder), a :class:`~synthfilter.Reservoir`, a list of
texts, or an array of scores. Text without an ``sf_score`` column is tagged with the
detector that tagged the corpus (read from its ``sf_detector`` column), so corpus and
reference are always scored alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import DETECTOR, SCORE

__all__ = ["reference_scores", "corpus_detector", "quota_references", "group_part"]


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


def reference_scores(reference: Any, *, what: str = "reference", detector: str | None = None,
                     score_column: str = SCORE.name, text_column: str = "text", by: str | None = None,
                     num_proc: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores of a reference (NaN rows dropped) and, when it has the ``by`` column, its group per row.

    Parameters
    ----------
    reference:
        See the module docstring.
    what:
        The argument's name, for error messages. Default ``"reference"``.
    detector:
        ``name@version`` of the detector that scored the corpus (its ``sf_detector``):
        text that lacks ``score_column`` is tagged with the registry detector of that
        name, and must come out with the same ``name@version`` (else ``ValueError``:
        tag the reference yourself). ``None`` (default) means the shipped ``"fast"``.
    score_column, text_column:
        Where scores are read, and texts when they must be tagged. Defaults ``sf_score``, ``text``.
    by:
        Group column; returned per row when the reference has it, else ``None``.
    num_proc:
        Processes for tagging. Default ``None``.
    """
    data = _as_dataset(reference, what, text_column)
    if isinstance(data, np.ndarray):
        scores = data[np.isfinite(data)]
        return scores, None
    if score_column not in data.column_names:
        if text_column not in data.column_names:
            raise KeyError(f"{what}: neither a score column {score_column!r} nor a text column {text_column!r} "
                           f"(columns present: {data.column_names})")
        from ..tag import Tagger
        data = data.map(Tagger(text_column=text_column, detector=(detector or "fast").split("@", 1)[0]),
                        batched=True, num_proc=num_proc, desc=f"tagging {what}")
        used = corpus_detector(data[DETECTOR.name])
        if detector is not None and used is not None and used != detector:
            raise ValueError(f"{what}: the corpus was scored by {detector} but the reference would be scored by "
                             f"{used}; tag the reference with the corpus's detector first")
    table = data.with_format("arrow")[:] if data.num_rows else data.data.table
    scores = pc.fill_null(table.column(score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    finite = np.isfinite(scores)
    groups = None
    if by is not None and by in table.column_names:
        from .classify import group_values

        groups = group_values(table, by)[finite]
    return scores[finite], groups


def quota_references(reference: Any, ai_reference: Any, cfg: Any, detector: str | None,
                     num_proc: int | None = None) -> tuple[tuple[np.ndarray, np.ndarray | None],
                                                          tuple[np.ndarray, np.ndarray | None] | None]:
    """``(human, ai)`` reference scores (and groups) for a quota config, scored by the corpus's ``detector``."""
    common = dict(detector=detector, score_column=cfg.score_column or SCORE.name, text_column=cfg.text_column,
                  by=cfg.by, num_proc=num_proc)
    human = reference_scores(reference, what="reference", **common)
    ai = None if ai_reference is None else reference_scores(ai_reference, what="ai_reference", **common)
    return human, ai


def group_part(scores: np.ndarray, groups: np.ndarray | None, group: Any) -> np.ndarray:
    """The reference's rows of ``group`` when it has that group, else all of them."""
    if groups is None:
        return scores
    part = scores[groups == group]
    return part if len(part) else scores
