"""``estimate_share``: the estimated true synthetic share of a tagged ``datasets.Dataset``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import DETECTOR, LABEL, SCORE
from .classify import group_values
from .estimate import ShareEstimate, estimate_scores
from .reference import corpus_detector, group_part, reference_scores

__all__ = ["estimate_share", "CorpusScores", "corpus_scores"]


@dataclass
class CorpusScores:
    """What estimation needs of each corpus row: score (NaN unless scored), label class and group."""

    scores: np.ndarray
    """Detector score of scored rows, NaN elsewhere."""
    known: np.ndarray
    """-1 scored or unknown, 0 known human, 1 known synthetic (rows labelled without a score, i.e. by provenance)."""
    labelled_synthetic: np.ndarray
    """Whether ``sf_label`` says synthetic (for the naive share)."""
    labelled: np.ndarray
    """Whether ``sf_label`` is human or synthetic (not unknown)."""
    groups: np.ndarray | None
    detector: str | None
    has_labels: bool = True
    """Whether the corpus has a label column (without one there is no naive share)."""

    def estimate(self, mask: np.ndarray | None, human: np.ndarray, ai: np.ndarray | None, **options: Any) -> ShareEstimate:
        """The estimate over the rows in ``mask`` (all rows when ``None``)."""
        m = np.ones(len(self.scores), bool) if mask is None else mask
        scored = m & np.isfinite(self.scores)
        labelled = m & self.labelled
        naive = float(self.labelled_synthetic[labelled].sum() / labelled.sum()) \
            if labelled.any() and self.has_labels else float("nan")
        kh, ks = int((m & (self.known == 0)).sum()), int((m & (self.known == 1)).sum())
        unknown = int(m.sum()) - int(scored.sum()) - kh - ks
        est = estimate_scores(self.scores[scored], human, ai, naive=naive, unknown=unknown, **options)
        return est.with_known(kh, ks)


def _label_arrays(table: pa.Table, label_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: labelled synthetic, and labelled at all. Without a label column every row counts as
    labelled (its score decides whether it is used) and none as synthetic."""
    if label_column not in table.column_names:
        n = table.num_rows
        return np.zeros(n, bool), np.ones(n, bool)
    col = table.column(label_column)
    if pa.types.is_boolean(col.type) or pa.types.is_integer(col.type):
        syn = pc.fill_null(pc.cast(col, pa.bool_()), False).to_numpy(zero_copy_only=False)
        return syn, (~col.is_null()).to_numpy(zero_copy_only=False)
    syn = pc.fill_null(pc.equal(col, "synthetic"), False).to_numpy(zero_copy_only=False)
    hum = pc.fill_null(pc.equal(col, "human"), False).to_numpy(zero_copy_only=False)
    return syn, syn | hum


def corpus_scores(table: pa.Table, *, score_column: str = SCORE.name, label_column: str = LABEL.name,
                  by: str | None = None) -> CorpusScores:
    """:class:`CorpusScores` of an Arrow table of the corpus (or of one batch)."""
    if score_column not in table.column_names:
        raise KeyError(f"score column {score_column!r} not found (columns present: {table.column_names}); "
                       "run ds.map(synthfilter.tag, batched=True) first")
    scores = pc.fill_null(table.column(score_column).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False).copy()
    syn, labelled = _label_arrays(table, label_column)
    scores[labelled == 0] = np.nan  # a score on an "unknown" row is not used
    known = np.full(len(scores), -1, dtype=np.int8)
    unscored = ~np.isfinite(scores) & labelled & (label_column in table.column_names)
    known[unscored] = syn[unscored].astype(np.int8)
    groups = None
    if by is not None:
        if by not in table.column_names:
            raise KeyError(f"by: group column {by!r} not found; columns present: {table.column_names}")
        groups = group_values(table, by)
    detector = corpus_detector(pc.unique(table.column(DETECTOR.name)).to_pylist()) \
        if DETECTOR.name in table.column_names else None
    return CorpusScores(scores, known, syn, labelled, groups, detector, label_column in table.column_names)


def estimate_share(ds: datasets.Dataset, reference: Any, *, ai_reference: Any = None, by: str | None = None,
                   confidence: float = 0.9, seed: int = 0, method: str = "auto", n_boot: int = 200,
                   score_column: str = SCORE.name, label_column: str = LABEL.name, text_column: str = "text",
                   num_proc: int | None = None) -> ShareEstimate:
    """Estimate the true synthetic share of a tagged dataset, with an interval, beside the label count.

    Parameters
    ----------
    ds:
        A ``datasets.Dataset`` tagged by :func:`synthfilter.tag` (it needs ``score_column``;
        ``label_column`` gives the naive share). Rows labelled ``"unknown"`` are
        excluded and counted; rows labelled without a score (decided by provenance)
        count with their known class.
    reference:
        Known-human text of the same kind as ``ds``: a ``Dataset`` (tagged or not), a
        path, a :class:`~synthfilter.Reservoir`, a list of texts, or an array of
        scores. Untagged text is tagged with the corpus's detector. With ``by``, a
        reference that has the ``by`` column is matched group by group (groups
        without reference rows use all of it).
    ai_reference:
        Optional known-AI text of the same kind, in the same forms. With it the
        estimate is the two-reference likelihood (``"mle"``), without it best-bin
        estimation (``"bbe"``, a lower bound where AI text scores like human text).
    by:
        Group column: per-group estimates in ``result.by``. Default ``None``.
    confidence:
        Coverage of the interval ``[low, high]``. Default 0.9.
    seed:
        Seed of the bootstrap. Default 0.
    method:
        ``"auto"`` (default), ``"bbe"`` or ``"mle"``.
    n_boot:
        Bootstrap replicates. Default 200.
    score_column, label_column, text_column:
        Column names. Defaults ``sf_score``, ``sf_label``, ``text`` (the reference's text).
    num_proc:
        Processes for tagging an untagged reference. Default ``None``.
    """
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(f"ds must be a datasets.Dataset (tagged), got {type(ds).__name__}")
    columns = [c for c in (score_column, label_column, DETECTOR.name, by) if c and c in ds.column_names]
    table = ds.with_format("arrow").select_columns(columns)[:] if ds.num_rows else ds.data.table.select(columns)
    if score_column not in table.column_names:
        corpus_scores(table, score_column=score_column)  # raises the clear error
    corpus = corpus_scores(table, score_column=score_column, label_column=label_column, by=by)
    refs = {name: reference_scores(r, what=name, detector=corpus.detector, score_column=score_column,
                                   text_column=text_column, by=by, num_proc=num_proc)
            for name, r in (("reference", reference), ("ai_reference", ai_reference)) if r is not None}
    options = dict(confidence=confidence, seed=seed, method=method, n_boot=n_boot)
    human, ai = refs["reference"][0], refs["ai_reference"][0] if "ai_reference" in refs else None
    result = corpus.estimate(None, human, ai, **options)
    if by is not None:
        for group in sorted(set(corpus.groups.tolist()), key=str):
            h = group_part(*refs["reference"], group)
            a = group_part(*refs["ai_reference"], group) if ai is not None else None
            result.by[str(group)] = corpus.estimate(corpus.groups == group, h, a, **options)
    return result

