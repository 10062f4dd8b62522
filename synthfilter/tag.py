"""The ``tag`` transform: score rows for "likely AI-generated" as flat columns.

``ds.map(synthfilter.tag, batched=True)`` (or unbatched ``ds.map(synthfilter.tag)``)
adds three columns and never drops or reorders a row:

* ``sf_score`` (float32): probability that the text is AI-generated; NaN when the
  row cannot be scored.
* ``sf_label``: ``"synthetic"`` if ``sf_score >= threshold``, ``"human"`` below it,
  ``"unknown"`` for rows that cannot be scored (``None``, empty or whitespace-only,
  not a string, binary, mostly non-Latin script).
* ``sf_detector``: ``"name@version"`` of the detector that produced the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .detect.base import BaseDetector
from .detect.registry import load_detector
from .text import unscorable_reason

__all__ = ["Tagger", "tag", "SCORE_COLUMN", "LABEL_COLUMN", "DETECTOR_COLUMN"]

SCORE_COLUMN = "sf_score"
LABEL_COLUMN = "sf_label"
DETECTOR_COLUMN = "sf_detector"

try:  # the formatted views `datasets.map` hands to a function
    from datasets.formatting.formatting import LazyBatch, LazyRow
except ImportError:  # pragma: no cover - very old datasets
    LazyBatch = LazyRow = ()  # type: ignore[assignment]


def is_batched(batch: Mapping[str, Any], values: Any) -> bool:
    """Whether ``datasets.map`` passed a batch (dict of lists) rather than one row."""
    if isinstance(batch, LazyBatch):
        return True
    if isinstance(batch, LazyRow):
        return False
    return isinstance(values, (list, tuple))


class Tagger:
    """A picklable ``datasets.map`` transform that adds ``sf_score``/``sf_label``/``sf_detector``.

    Parameters
    ----------
    text_column:
        Column holding the text to score. Default ``"text"``.
    detector:
        Registry name (see :func:`synthfilter.load_detector`) or path of a saved
        detector ``.npz``. Default ``"fast"``: n-grams and stylometry, the tier with
        the best leave-one-source-out AUROC measured (see the README), thousands of
        documents/second. ``"stack"`` adds SmolLM2 statistics (about 5 documents/second;
        best after ``fit`` on your own labelled data), ``"cascade"`` sends only
        uncertain rows to the stack. A fitted detector object is also accepted; it is
        then pickled with the transform.
    threshold:
        Probability at or above which a row is labelled ``"synthetic"``. Default
        ``None``: the detector's own ``threshold_`` (for shipped weights, the one
        that flags at most 1% of held-out human texts).

    The detector loads lazily on the first call and is left out of pickling unless
    it was passed as an object, so ``num_proc`` and ``datasets`` fingerprint caching
    work. Works batched and unbatched, on ``Dataset`` and ``IterableDataset``.
    """

    def __init__(self, text_column: str = "text", detector: str | BaseDetector = "fast",
                 threshold: float | None = None) -> None:
        if not isinstance(text_column, str) or not text_column:
            raise TypeError(f"text_column must be a non-empty column name, got {text_column!r}")
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold must be a probability in [0, 1], got {threshold!r}")
        if not isinstance(detector, (str, BaseDetector)):
            raise TypeError(f"detector must be a registry name, a .npz path or a BaseDetector, got {type(detector).__name__}")
        self.text_column = text_column
        self.detector = detector
        self.threshold = None if threshold is None else float(threshold)
        self._detector: BaseDetector | None = detector if isinstance(detector, BaseDetector) else None

    def __repr__(self) -> str:
        det = self.detector if isinstance(self.detector, str) else self.detector.tag
        return f"Tagger(text_column={self.text_column!r}, detector={det!r}, threshold={self.threshold!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if isinstance(self.detector, str):
            state["_detector"] = None
        return state

    @property
    def loaded_detector(self) -> BaseDetector:
        """The detector, loading it on first use."""
        if self._detector is None:
            self._detector = load_detector(self.detector)
        return self._detector

    def score(self, texts: list[Any]) -> tuple[np.ndarray, list[str]]:
        """Scores (float32, NaN where unscorable) and labels for a list of raw values."""
        scores = np.full(len(texts), np.nan, dtype=np.float32)
        labels = ["unknown"] * len(texts)
        ok = [i for i, value in enumerate(texts) if unscorable_reason(value) is None]
        if ok:
            det = self.loaded_detector
            threshold = det.threshold_ if self.threshold is None else self.threshold
            probs = det.score_texts([texts[i] for i in ok])
            for i, p in zip(ok, probs):
                scores[i] = p
                labels[i] = "synthetic" if p >= threshold else "human"
        return scores, labels

    def _column(self, batch: Mapping[str, Any]) -> Any:
        try:
            return batch[self.text_column]
        except KeyError:
            present = list(batch.keys())
            raise KeyError(
                f"text column {self.text_column!r} not found; columns present: {present}. "
                "Pass Tagger(text_column=...) to name the text column."
            ) from None

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Tag a batch (dict of lists) or a single row (dict of values); returns the new columns."""
        values = self._column(batch)
        if not is_batched(batch, values):
            scores, labels = self.score([values])
            return {SCORE_COLUMN: scores[0], LABEL_COLUMN: labels[0], DETECTOR_COLUMN: self.loaded_detector_tag()}
        scores, labels = self.score(list(values))
        return {SCORE_COLUMN: scores, LABEL_COLUMN: labels, DETECTOR_COLUMN: [self.loaded_detector_tag()] * len(labels)}

    def loaded_detector_tag(self) -> str:
        """``name@version`` of the detector (loads it if needed)."""
        return self.loaded_detector.tag


#: The default transform: ``ds.map(synthfilter.tag, batched=True)``.
tag = Tagger()
