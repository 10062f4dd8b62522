"""The ``tag`` transform: score rows for "likely AI-generated" as flat columns.

``ds.map(synthfilter.tag, batched=True)`` (or unbatched ``ds.map(synthfilter.tag)``)
adds five columns (:data:`synthfilter.columns.TAG_COLUMNS`) and never drops or
reorders a row:

* ``sf_score`` (float32): probability that the text is AI-generated; NaN when the
  row cannot be scored.
* ``sf_label``: ``"synthetic"`` if ``sf_score >= threshold``, ``"human"`` below it,
  ``"unknown"`` for rows that cannot be scored.
* ``sf_detector``: ``"name@version"`` of the detector that produced the score.
* ``sf_lang``: ISO 639-1 code of the text's language (``""`` when there is no text).
* ``sf_reason``: why a row is ``"unknown"`` (``not_text``, ``binary``, ``empty``,
  ``too_short``, ``unsupported_language:<code>``); ``""`` for scored rows. (An empty
  string rather than null, so that a first batch with every row scored does not give
  the column Arrow's null type, which ``datasets.map`` cannot extend later.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .columns import DETECTOR, LABEL, LANG, REASON, SCORE
from .detect.base import BaseDetector
from .detect.registry import load_detector
from .lang import count_letters, identify_languages
from .models import LazyModels, is_batched, lazy
from .text import normalize, unscorable_reason

__all__ = ["Tagger", "tag", "SCORE_COLUMN", "LABEL_COLUMN", "DETECTOR_COLUMN", "LANG_COLUMN", "REASON_COLUMN"]

SCORE_COLUMN, LABEL_COLUMN, DETECTOR_COLUMN = SCORE.name, LABEL.name, DETECTOR.name
LANG_COLUMN, REASON_COLUMN = LANG.name, REASON.name

class Tagger(LazyModels):
    """A picklable ``datasets.map`` transform that adds the :data:`~synthfilter.columns.TAG_COLUMNS`.

    Parameters
    ----------
    text_column:
        Column holding the text to score. Default ``"text"``.
    detector:
        Registry name (see :func:`synthfilter.load_detector`) or path of a saved
        detector ``.npz``. Default ``"fast"``: n-grams and stylometry, the tier with
        the best leave-one-source-out AUROC measured (see the README), thousands of
        documents/second. A fitted detector object is also accepted; it is then
        pickled with the transform.
    threshold:
        Probability at or above which a row is labelled ``"synthetic"``. Default
        ``None``: the detector's own ``threshold_`` (for shipped weights, the one
        that flags at most 1% of held-out human texts).
    languages:
        ISO 639-1 codes to score; rows identified as another language are ``"unknown"``
        with ``sf_reason="unsupported_language:<code>"``. Default ``None``: the
        languages the detector declares (``detector.languages_``, those it was trained
        and evaluated on). ``()`` scores every language (at your own risk).
    min_letters:
        Texts with fewer letters are ``"unknown"`` (``too_short``): neither the
        detector nor language identification means much on a few words. Default 20.

    The detector loads lazily on the first call and is left out of pickling unless
    it was passed as an object, so ``num_proc`` and ``datasets`` fingerprint caching
    work. Works batched and unbatched, on ``Dataset`` and ``IterableDataset``.
    """

    def __init__(self, text_column: str = "text", detector: str | BaseDetector = "fast",
                 threshold: float | None = None, languages: Sequence[str] | None = None,
                 min_letters: int = 20) -> None:
        if not isinstance(text_column, str) or not text_column:
            raise TypeError(f"text_column must be a non-empty column name, got {text_column!r}")
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold must be a probability in [0, 1], got {threshold!r}")
        if not isinstance(detector, (str, BaseDetector)):
            raise TypeError(f"detector must be a registry name, a .npz path or a BaseDetector, got {type(detector).__name__}")
        if isinstance(languages, str):
            raise TypeError(f"languages must be a list of ISO 639-1 codes, got the string {languages!r}")
        if isinstance(min_letters, bool) or not isinstance(min_letters, int) or min_letters < 0:
            raise ValueError(f"min_letters must be a non-negative integer, got {min_letters!r}")
        self.text_column = text_column
        self.detector = detector
        self.threshold = None if threshold is None else float(threshold)
        self.languages = None if languages is None else tuple(languages)
        self.min_letters = min_letters

    def __repr__(self) -> str:
        det = self.detector if isinstance(self.detector, str) else self.detector.tag
        return (f"Tagger(text_column={self.text_column!r}, detector={det!r}, threshold={self.threshold!r}, "
                f"languages={self.languages!r}, min_letters={self.min_letters!r})")

    @lazy
    def loaded_detector(self) -> BaseDetector:
        """The detector: the object passed, or the named one loaded on first use."""
        return self.detector if isinstance(self.detector, BaseDetector) else load_detector(self.detector)

    def supported_languages(self) -> tuple[str, ...] | None:
        """Languages that are scored (``None``: all)."""
        if self.languages is not None:
            return self.languages or None
        declared = getattr(self.loaded_detector, "languages_", None)
        return tuple(declared) if declared else None

    def screen(self, values: list[Any]) -> tuple[list[str], list[str], list[str]]:
        """Per raw value: normalised text, language code and reason (``""`` = score it)."""
        texts, langs, reasons = [""] * len(values), [""] * len(values), [""] * len(values)
        pending = []
        for i, value in enumerate(values):
            reason = unscorable_reason(value)
            if reason is not None:
                reasons[i] = reason
                continue
            texts[i] = normalize(value)
            pending.append(i)
        supported = self.supported_languages()
        for i, lang in zip(pending, identify_languages([texts[i] for i in pending])):
            langs[i] = lang
            if count_letters(texts[i], enough=self.min_letters) < self.min_letters:
                reasons[i] = "too_short"
            elif supported is not None and lang not in supported:
                reasons[i] = f"unsupported_language:{lang or 'und'}"
        return texts, langs, reasons

    def columns(self, values: list[Any]) -> dict[str, list[Any]]:
        """The tag columns (name -> list) for a list of raw values."""
        texts, langs, reasons = self.screen(values)
        scores = np.full(len(values), np.nan, dtype=np.float32)
        labels = ["unknown"] * len(values)
        ok = [i for i, r in enumerate(reasons) if not r]
        det = self.loaded_detector
        if ok:
            threshold = det.threshold_ if self.threshold is None else self.threshold
            probs = det.score_texts([values[i] for i in ok])
            for i, p in zip(ok, probs):
                if np.isnan(p):
                    reasons[i] = "not_scored"
                    continue
                scores[i] = p
                labels[i] = "synthetic" if p >= threshold else "human"
        return {SCORE.name: scores, LABEL.name: labels, DETECTOR.name: [det.tag] * len(values),
                LANG.name: langs, REASON.name: reasons}

    def score(self, texts: list[Any]) -> tuple[np.ndarray, list[str]]:
        """Scores (float32, NaN where unscorable) and labels for a list of raw values."""
        cols = self.columns(texts)
        return cols[SCORE.name], cols[LABEL.name]

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
            return {name: col[0] for name, col in self.columns([values]).items()}
        return self.columns(list(values))

    def loaded_detector_tag(self) -> str:
        """``name@version`` of the detector (loads it if needed)."""
        return self.loaded_detector.tag


#: The default transform: ``ds.map(synthfilter.tag, batched=True)``.
tag = Tagger()
