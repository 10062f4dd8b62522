"""Class labels as detectors read them: the human/AI vocabulary, ``classes_`` and the 0/1 targets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from .inputs import DEFAULT_LANGUAGES

__all__ = ["SHIPPED_CLASSES", "Targets", "coerce_labels", "encode_targets", "targets_01"]

#: ``classes_`` of the shipped detectors: the vocabulary of the ``sf_label`` column
#: (human first, as ``numpy.unique`` orders them). Files that store no classes get these.
SHIPPED_CLASSES: tuple[str, str] = ("human", "synthetic")

_POSITIVE = {"ai", "synthetic", "generated", "machine", "1", "true"}
_NEGATIVE = {"human", "real", "0", "false"}


def coerce_labels(labels: Iterable[Any]) -> np.ndarray:
    """Map labels to 1 (AI-generated) / 0 (human).

    Accepts booleans, 0/1 integers, or the strings ``"ai"``, ``"synthetic"``,
    ``"generated"``, ``"machine"`` (positive) and ``"human"``, ``"real"`` (negative),
    in any case. Anything else raises ``ValueError`` naming the offending value.
    """
    out = []
    for value in labels:
        key = str(value).strip().lower() if not isinstance(value, (bool, np.bool_)) else str(bool(value)).lower()
        if key in _POSITIVE:
            out.append(1)
        elif key in _NEGATIVE:
            out.append(0)
        else:
            raise ValueError(
                f"labels: cannot read {value!r} as a class; expected 'human'/'ai' "
                "(or 'real'/'synthetic', 0/1, False/True)"
            )
    return np.asarray(out, dtype=np.int64)


class Targets(NamedTuple):
    """Labels as a detector learns them."""

    y: np.ndarray
    """1 for AI-generated, 0 for human, per text."""
    classes: np.ndarray
    """``numpy.unique`` of the labels as given (what ``classes_`` becomes)."""
    ai_class: Any
    """The element of ``classes`` that means AI-generated (a plain str, int or bool)."""
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    """Languages of the training texts that the detector will score (see
    :func:`synthfilter.detect.inputs.infer_languages`)."""


def encode_targets(labels: Any, n_texts: int) -> Targets:
    """Read ``labels`` (one per text, vocabulary of :func:`coerce_labels`) into :class:`Targets`.

    Exactly two distinct label values are needed, one human and one AI. ``n_texts`` is
    the number of texts the labels belong to.
    """
    if isinstance(labels, (str, bytes, bytearray)):
        raise TypeError(f"labels: expected one label per text, got a single {type(labels).__name__}")
    raw = list(labels)
    if len({isinstance(value, str) for value in raw}) > 1:
        raise ValueError("labels: do not mix strings with other values (like 'ai' with 1); use one vocabulary")
    values = np.asarray(raw)
    if values.ndim != 1:
        raise ValueError(f"labels: expected a flat list of labels, got an array of shape {values.shape}")
    if values.dtype == object:
        values = np.asarray(values.tolist())
    y = coerce_labels(values.tolist())
    if len(y) != n_texts:
        raise ValueError(f"texts and labels differ in length: {n_texts} vs {len(y)}")
    classes = np.unique(values)
    if len(set(y.tolist())) < 2:
        raise ValueError("labels: both classes (human and ai) are needed to fit")
    if len(classes) != 2:
        raise ValueError(f"labels: use one value per class (like 'human'/'ai' or 0/1), got {classes.tolist()}")
    ai_class = classes[int(np.flatnonzero(coerce_labels(classes.tolist()) == 1)[0])].item()
    return Targets(y, classes, ai_class)


def targets_01(labels: Any, n_texts: int) -> np.ndarray:
    """0/1 targets (1 = AI) of ``labels`` for ``n_texts`` texts; both classes must be present."""
    if isinstance(labels, (str, bytes, bytearray)):
        raise TypeError(f"labels: expected one label per text, got a single {type(labels).__name__}")
    y = coerce_labels(labels)
    if len(y) != n_texts:
        raise ValueError(f"texts and labels differ in length: {n_texts} vs {len(y)}")
    if len(set(y.tolist())) < 2:
        raise ValueError("labels: both classes (human and ai) are needed to fit")
    return y
