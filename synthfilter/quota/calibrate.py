"""Labels that mean something in the user's domain: the ``sf_label`` threshold from known-human rows of the same kind.

A detector's shipped threshold was set on its training sources; on other text it flags
far fewer (or more) rows. Given known-human text of the same kind as the corpus (a
``reference``, or the corpus's own rows known human by provenance), the threshold is
set to its conformal ``1 - target_fpr`` quantile: with ``m`` reference scores, the
``ceil((m + 1) * (1 - target_fpr))``-th smallest, and rows scoring *above* it are
labelled synthetic. A new human row of the same kind then scores above it with
probability at most ``target_fpr`` (exchangeability; no distribution assumed). Only rows
scored by the detector are relabelled; rows decided by provenance keep their label.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import LABEL, REASON, SCORE
from ..provenance import REASON_PREFIX
from ..reports import Report
from .estimate import pct

__all__ = ["LabelCalibration", "LabelThreshold", "label_threshold", "calibrate_labels", "calibrate_on",
           "DEFAULT_TARGET_FPR"]

#: Default share of known-human rows of the same kind left above the calibrated threshold.
DEFAULT_TARGET_FPR = 0.01


def label_threshold(reference: np.ndarray, target_fpr: float) -> float:
    """The smallest score labelled synthetic: just above the conformal ``1 - target_fpr`` quantile of ``reference``.

    ``inf`` when the reference is too small for that level (fewer than ``1 / target_fpr - 1``
    rows): :func:`calibrate_labels` then keeps the detector's own labels.
    """
    if not 0 < target_fpr < 1:
        raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
    ref = np.sort(np.asarray(reference, dtype=np.float64)[np.isfinite(reference)])
    k = math.ceil((len(ref) + 1) * (1 - target_fpr))
    if k > len(ref):
        return math.inf
    return float(np.nextafter(ref[k - 1], np.inf))


@dataclass(frozen=True)
class LabelThreshold:
    """A batch transform (``ds.map(..., batched=True)``) that relabels scored rows against ``threshold``.

    Rows with a finite ``score_column`` whose ``reason_column`` is not a provenance reason get
    ``label_column`` ``"synthetic"`` when their score is ``>= threshold``, else ``"human"``; every
    other row is left as it is. Row count and order are kept.
    """

    threshold: float
    score_column: str = SCORE.name
    label_column: str = LABEL.name
    reason_column: str = REASON.name

    def __call__(self, batch: Any) -> dict[str, list] | pa.Table:
        """New labels for a batch: a dict of lists gets ``{label_column: labels}``, an Arrow table comes back whole."""
        table = batch if isinstance(batch, pa.Table) else pa.table({k: batch[k] for k in self._columns(batch)})
        labels = self.labels(table)
        if isinstance(batch, pa.Table):
            return batch.set_column(batch.column_names.index(self.label_column), self.label_column,
                                    pa.array(labels.tolist(), pa.string()))
        return {self.label_column: labels.tolist()}

    def labels(self, table: pa.Table) -> np.ndarray:
        """The batch's labels after relabelling (an object array)."""
        self._columns({name: None for name in table.column_names})
        labels = np.asarray(table.column(self.label_column).to_pylist(), dtype=object)
        scores = pc.fill_null(table.column(self.score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        relabel = np.isfinite(scores) & np.isin(labels, ["human", "synthetic"])
        if self.reason_column in table.column_names:
            decided = pc.fill_null(pc.starts_with(table.column(self.reason_column).cast(pa.string()), REASON_PREFIX), False)
            relabel &= ~decided.to_numpy(zero_copy_only=False)
        labels[relabel] = np.where(scores[relabel] >= self.threshold, "synthetic", "human")
        return labels

    def _columns(self, batch: Any) -> list[str]:
        names = list(batch.keys())
        for needed in (self.score_column, self.label_column):
            if needed not in names:
                raise KeyError(f"column {needed!r} not found (columns present: {names}); run synthfilter.tag first")
        return [c for c in (self.score_column, self.label_column, self.reason_column) if c in names]


@dataclass
class LabelCalibration(Report):
    """What :func:`calibrate_labels` did: the threshold, where it came from, and the label shares before and after."""

    threshold: float
    target_fpr: float
    reference_rows: int
    reference_source: str
    scored_rows: int
    synthetic_before: int
    synthetic_after: int

    def describe(self) -> str:
        source = ("the corpus's own known-human rows" if self.reference_source == "own" else "the reference")
        if math.isinf(self.threshold):
            return (f"sf_label not calibrated: {self.reference_rows} rows of {source} are too few for a "
                    f"{self.target_fpr:.1%} false-positive rate; the detector's own labels are kept")
        before = self.synthetic_before / self.scored_rows if self.scored_rows else float("nan")
        after = self.synthetic_after / self.scored_rows if self.scored_rows else float("nan")
        return (f"sf_label threshold {self.threshold:.4g}: above {1 - self.target_fpr:.0%} of {self.reference_rows} "
                f"scores of {source}, so about {self.target_fpr:.0%} of human text of the same kind is labelled "
                f"synthetic; scored rows labelled synthetic {pct(before)} -> {pct(after)}")

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["threshold"] = None if math.isinf(self.threshold) else self.threshold
        out["text"] = self.describe()
        return out

    def summary_lines(self) -> list[str]:
        return [self.describe()]


def calibrate_labels(ds: datasets.Dataset, reference: Any = None, *, target_fpr: float = DEFAULT_TARGET_FPR,
                     provenance: Any = None, first_seen_column: str | None = None, human_before: Any = None,
                     score_column: str = SCORE.name, label_column: str = LABEL.name, text_column: str = "text",
                     detector: Any = None, seed: int = 0, num_proc: int | None = None,
                     return_report: bool = False):
    """Relabel a tagged dataset's scored rows with a threshold calibrated on known-human text of the same kind.

    Returns the dataset (row count and order kept; only ``label_column`` changes), and with
    ``return_report=True`` a :class:`LabelCalibration` that says which threshold and why.
    Where the reference is too small for ``target_fpr`` the labels are left as they are.

    Parameters
    ----------
    ds:
        A ``datasets.Dataset`` tagged by :func:`synthfilter.tag`.
    reference:
        Known-human text of the same kind, in any form :func:`synthfilter.estimate_share`
        takes; ``None`` (default): the corpus's own rows known human by provenance.
    target_fpr:
        Share of human text of the same kind to be labelled synthetic, in ``(0, 1)``. Default 0.01.
    provenance, first_seen_column, human_before:
        Provenance rules deciding the corpus's own known-human rows (else the rows a tagger
        with rules decided).
    score_column, label_column, text_column:
        Column names. Defaults ``sf_score``, ``sf_label``, ``text``.
    detector:
        The detector that tagged ``ds``, to tag a text reference (default: the one its
        ``sf_detector`` names).
    seed:
        Seed of the reference's row hashes (unused by the threshold). Default 0.
    num_proc:
        Processes for the relabelling map. Default ``None``.
    return_report:
        Also return a :class:`LabelCalibration`. Default ``False``.
    """
    from .share import _corpus_and_references

    corpus, human, _ = _corpus_and_references(ds, reference, None, score_column=score_column, label_column=label_column,
                                              text_column=text_column, detector=detector, provenance=provenance,
                                              first_seen_column=first_seen_column, human_before=human_before, seed=seed,
                                              num_proc=num_proc)
    ref = corpus.own_reference() if human is None else human
    threshold = label_threshold(ref.scores, target_fpr)
    undecided = ~corpus.known & np.isfinite(corpus.scores)
    out = ds
    if math.isfinite(threshold):
        out = ds.map(LabelThreshold(threshold, score_column, label_column), batched=True, num_proc=num_proc,
                     desc="calibrating sf_label")
    if not return_report:
        return out
    after = undecided & ((corpus.scores >= threshold) if math.isfinite(threshold) else (corpus.classes == 1))
    report = LabelCalibration(threshold, float(target_fpr), len(ref), ref.source, int(undecided.sum()),
                              int((undecided & (corpus.classes == 1)).sum()), int(after.sum()))
    return out, report


def calibrate_on(engine: Any, data: Any, cfg: Any, reference: Any = None, *, target_fpr: float = DEFAULT_TARGET_FPR,
                 detector: Any = None) -> tuple[Any, LabelCalibration | None]:
    """:func:`calibrate_labels` on any engine (:mod:`synthfilter.engines`): a pass collecting the scores, then a map.

    ``cfg`` is the :class:`~synthfilter.quota.QuotaConfig` whose provenance rules and
    columns say which rows are known human. Returns ``(data, None)`` unchanged when there
    is neither a reference nor a row known human.
    """
    from .engine import corpus_tag_on
    from .keys import estimated_classes
    from .reference import reference_scores

    probe = dataclasses.replace(cfg, basis="estimated", score_column=cfg.score_column or SCORE.name)
    columns = [c for c in dict.fromkeys([probe.score_column, probe.label_column, REASON.name,
                                         *(probe.provenance.columns if probe.provenance else ())])
               if c in engine.columns(data)]

    def scores(table: pa.Table, positions: Any) -> pa.Table:
        classes, values, known = estimated_classes(table, probe)
        own = known & (classes == 0) & np.isfinite(values)
        undecided = ~known & np.isfinite(values)
        keep = own | undecided
        return pa.table({"score": pa.array(values[keep], pa.float64()), "own": pa.array(own[keep], pa.bool_()),
                         "synthetic": pa.array((classes == 1)[keep], pa.bool_())})

    parts = [t for t in engine.reduce(data, scores, columns) if t.num_rows]
    table = pa.concat_tables(parts) if parts else pa.table({"score": pa.array([], pa.float64()), "own": pa.array([], pa.bool_()),
                                                            "synthetic": pa.array([], pa.bool_())})
    values = table.column("score").to_numpy(zero_copy_only=False)
    own = table.column("own").to_numpy(zero_copy_only=False).astype(bool)
    if reference is not None:
        ref = reference_scores(reference, detector=detector, corpus_tag=corpus_tag_on(engine, data),
                               score_column=probe.score_column,
                               text_column=cfg.text_column, seed=cfg.seed).scores
        source = "reference"
    elif own.any():
        ref, source = values[own], "own"
    else:
        return data, None
    threshold = label_threshold(ref, target_fpr)
    undecided = values[~own]
    before = int(table.column("synthetic").to_numpy(zero_copy_only=False)[~own].sum())
    after = int((undecided >= threshold).sum()) if math.isfinite(threshold) else before
    report = LabelCalibration(threshold, float(target_fpr), len(ref), source, len(undecided), before, after)
    if not math.isfinite(threshold):
        return data, report
    return engine.map_batches(data, LabelThreshold(threshold, probe.score_column, probe.label_column),
                              desc="clean: calibrate labels"), report
