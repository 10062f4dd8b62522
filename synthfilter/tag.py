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
  ``too_short``, ``unsupported_language:<code>``, ``not_scored``), or how provenance
  decided it (``provenance:<column>=<value>``, ``provenance:<first_seen_column><<date>``);
  ``""`` for scored rows. (An empty string rather than null, so that a first batch with
  every row scored does not give the column Arrow's null type, which ``datasets.map``
  cannot extend later.)

Provenance first, detection second: with ``Tagger(provenance=..., first_seen_column=...,
human_before=...)`` (see :mod:`synthfilter.provenance`) rows whose origin is known get
``sf_label="human"``/``"synthetic"`` and the provenance ``sf_reason`` whatever the
detector says; they are still scored (``sf_score``, NaN only when the text cannot be
scored), because the known-human ones are the corpus's own reference: the known-human
text of the same kind that :func:`synthfilter.estimate_share`, :func:`synthfilter.enforce_quota`
and :func:`synthfilter.calibrate_labels` measure the rest against.
"""

from __future__ import annotations

import inspect

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .arrow_json import pylist
from .columns import DETECTOR, LABEL, LANG, REASON, SCORE, TAG_COLUMNS
from .detect.base import BaseDetector
from .detect.registry import detector_file, load_detector
from .lang import count_letters, identify_languages
from .models import LazyModels, is_batched, lazy
from .provenance import Decision, Provenance
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
    provenance, first_seen_column, human_before:
        Provenance rules, decided before detection (:meth:`Provenance.build
        <synthfilter.provenance.Provenance.build>`): ``provenance={"column": "source",
        "human": [...], "synthetic": [...]}`` and/or ``first_seen_column="crawl_date",
        human_before="2022-11-30"``. A row a rule decides gets ``sf_label``
        ``"human"``/``"synthetic"`` and ``sf_reason`` ``"provenance:<column>=<value>"`` or
        ``"provenance:<first_seen_column><<date>"``, whatever its text and score; it is
        scored like any row (its ``sf_score`` is what makes the known-human rows a
        reference for the others; NaN when the text cannot be scored); ``sf_lang`` and
        ``sf_detector`` are filled as for any row (the language is a property of the
        text, so the column means the same for every row). Other rows are tagged
        exactly as without rules. Default: no rules.

    The detector loads lazily on the first call and is left out of pickling unless
    it was passed as an object, so ``num_proc`` and ``datasets`` fingerprint caching
    work. Works batched and unbatched, on ``Dataset`` and ``IterableDataset``, and on
    formatted datasets (``ds.with_format(...)``), adding the same columns as on the plain
    dataset: ``"numpy"`` (a batch's texts come as a 1-d array, a row's as ``numpy.str_``;
    an array in a row, i.e. a text column holding lists, is taken for a batch),
    ``"torch"`` (texts stay lists), ``"arrow"`` and ``"pandas"``. ``datasets`` keeps only
    what a function returns for the last two, so there the input table comes back with
    the tag columns set (a ``pyarrow.Table``; under ``"pandas"``, ``datasets`` then
    stores string columns as ``large_string``, as for any function returning a table).
    """

    def __init__(self, text_column: str = "text", detector: str | BaseDetector = "fast",
                 threshold: float | None = None, languages: Sequence[str] | None = None,
                 min_letters: int = 20, provenance: Mapping[str, Any] | Provenance | None = None,
                 first_seen_column: str | None = None, human_before: Any = None) -> None:
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
        self.provenance = Provenance.build(provenance, first_seen_column=first_seen_column, human_before=human_before)

    def __repr__(self) -> str:
        det = self.detector if isinstance(self.detector, str) else self.detector.tag
        rules = "" if self.provenance is None else f", provenance={self.provenance!r}"
        return (f"Tagger(text_column={self.text_column!r}, detector={det!r}, threshold={self.threshold!r}, "
                f"languages={self.languages!r}, min_letters={self.min_letters!r}{rules})")

    def model_files(self) -> dict[str, Any]:
        """The detector file (shipped weights or a saved ``.npz``): its content is part of the pickled state, so
        ``datasets``' cache key changes when the file at that path is replaced (and the detector reloads)."""
        return {"loaded_detector": detector_file(self.detector)} if isinstance(self.detector, str) else {}

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

    def decide(self, batch: Any) -> Decision | None:
        """What the provenance rules decide for a batch (``None`` without rules).

        ``batch`` is a ``pyarrow.Table``/``RecordBatch`` or a dict of column lists; pass
        the result to :meth:`columns` as ``decision=``.
        """
        return None if self.provenance is None else self.provenance.decide(batch)

    def columns(self, values: list[Any], decision: Decision | None = None) -> dict[str, list[Any]]:
        """The tag columns (name -> list) for a list of raw values.

        With provenance rules, ``decision`` (from :meth:`decide` on the same rows) is
        required: the text alone cannot be decided, and tagging without it would
        silently ignore the rules.
        """
        if decision is None and self.provenance is not None:
            raise ValueError("this Tagger has provenance rules: pass decision=tagger.decide(batch) for the same rows "
                             f"(the rules read {list(self.provenance.columns)}), or call it on the batch")
        return self._columns(values, decision)

    def _columns(self, values: list[Any], decision: Decision | None) -> dict[str, list[Any]]:
        if decision is not None and len(decision) != len(values):
            raise ValueError(f"decision has {len(decision)} rows for {len(values)} values")
        texts, langs, reasons = self.screen(values)
        scores = np.full(len(values), np.nan, dtype=np.float32)
        labels = ["unknown"] * len(values)
        ok = [i for i, r in enumerate(reasons) if not r]
        self.refresh_models()  # a detector file replaced at the same path since it was loaded
        det = self.loaded_detector
        if ok:
            threshold = det.threshold_ if self.threshold is None else self.threshold
            probs = _score_screened(det, [values[i] for i in ok])
            for i, p in zip(ok, probs):
                if np.isnan(p):
                    reasons[i] = "not_scored"
                    continue
                scores[i] = p
                labels[i] = "synthetic" if p >= threshold else "human"
        if decision is not None:  # decided rows are scored too (known-human ones are the corpus's own reference)
            decided_labels = decision.labels()
            for i in np.flatnonzero(decision.decided).tolist():
                labels[i] = decided_labels[i]
                reasons[i] = decision.reasons[i]
        return {SCORE.name: scores, LABEL.name: labels, DETECTOR.name: [det.tag] * len(values),
                LANG.name: langs, REASON.name: reasons}

    def score(self, texts: list[Any]) -> tuple[np.ndarray, list[str]]:
        """Scores (float32, NaN where unscorable) and labels for a list of raw values."""
        cols = self._columns(texts, None)  # text only: provenance rules do not apply
        return cols[SCORE.name], cols[LABEL.name]

    def _column(self, batch: Mapping[str, Any]) -> Any:
        try:
            return batch[self.text_column]
        except KeyError:
            present = list(batch.column_names if isinstance(batch, pa.Table) else batch.keys())
            raise KeyError(
                f"text column {self.text_column!r} not found; columns present: {present}. "
                "Pass Tagger(text_column=...) to name the text column."
            ) from None

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any] | pa.Table:
        """Tag a batch (dict of lists) or a single row (dict of values); returns the new columns.

        A ``pyarrow.Table`` or ``pandas.DataFrame`` (the ``"arrow"``/``"pandas"`` formats) comes
        back as a ``pyarrow.Table``: its own columns plus the tag columns.
        """
        if isinstance(batch, pd.DataFrame):  # "pandas" format: read it as Arrow (nulls stay None)
            batch = pa.Table.from_pandas(batch, preserve_index=False)
        if isinstance(batch, pa.Table):  # "arrow"/"pandas": datasets keeps the returned table only
            return self._with_columns(batch)
        values, batched = _as_values(self._column(batch))
        if not (batched or (batched is None and is_batched(batch, values))):
            decision = self.decide({name: [batch[name]] for name in self._rule_columns(batch)})
            return {name: col[0] for name, col in self._columns([values], decision).items()}
        return self._columns(list(values), self.decide(batch))

    def _with_columns(self, table: pa.Table) -> pa.Table:
        """``table`` with the tag columns set (replaced or appended), typed as :data:`TAG_COLUMNS` declares."""
        columns = self._columns(pylist(self._column(table)), self.decide(table))
        for column in TAG_COLUMNS:
            values = pa.array(columns[column.name], column.type)
            names = table.column_names
            table = (table.set_column(names.index(column.name), column.name, values) if column.name in names
                     else table.append_column(column.name, values))
        return table

    def _rule_columns(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        if self.provenance is None:
            return ()
        for name in self.provenance.columns:
            if name not in row:
                raise KeyError(f"provenance column {name!r} not found; columns present: {list(row.keys())}")
        return self.provenance.columns

    def loaded_detector_tag(self) -> str:
        """``name@version`` of the detector (loads it if needed)."""
        return self.loaded_detector.tag


def _as_values(values: Any) -> tuple[Any, bool | None]:
    """A text column of a dict batch in any ``datasets`` format as plain Python values, and whether it is a batch.

    NumPy arrays (``"numpy"`` format: ``object`` or unicode arrays) are batches, as lists
    of ``str``/``None``; a NumPy scalar (``numpy.str_``, a 0-d array) is one row, as a
    plain ``str``. For anything else (lists, ``str``, ``None``: the plain and ``"torch"``
    formats) the second value is ``None``: :func:`~synthfilter.models.is_batched` decides.
    """
    if isinstance(values, np.ndarray) and values.ndim >= 1:
        return values.tolist(), True
    if isinstance(values, (np.ndarray, np.generic)):
        return values.item(), False
    return values, None


#: The default transform: ``ds.map(synthfilter.tag, batched=True)``.
tag = Tagger()


def _score_screened(det: BaseDetector, texts: list[Any]) -> np.ndarray:
    """P(AI) of texts whose languages :meth:`Tagger.screen` already judged: the detector does not judge them again.

    A detector subclass written before ``score_texts`` took ``any_language`` is called without it.
    """
    try:
        accepts = "any_language" in inspect.signature(det.score_texts).parameters
    except (TypeError, ValueError):
        accepts = False
    return det.score_texts(texts, any_language=True) if accepts else det.score_texts(texts)
