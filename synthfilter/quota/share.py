"""``estimate_share``: the estimated true synthetic share of a tagged ``datasets.Dataset``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa

from ..columns import DETECTOR, LABEL, REASON, SCORE
from ..hashing import hash_column
from ..provenance import Provenance
from .classify import group_values
from .config import HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig
from .estimate import ShareEstimate, estimate_scores
from .keys import estimated_classes
from .notes import REFERENCE_HOWTO
from .reference import Reference, corpus_detector, own_reference, reference_scores

__all__ = ["estimate_share", "CorpusScores", "corpus_scores"]


@dataclass
class CorpusScores:
    """What estimation needs of each corpus row."""

    scores: np.ndarray
    """Detector score, NaN where the row is not scored (or labelled unknown)."""
    classes: np.ndarray
    """0 human, 1 synthetic, 2 unknown: by provenance when known, else as labelled."""
    known: np.ndarray
    """Whether the class is known without the detector (provenance, or labelled without a score)."""
    halves: np.ndarray
    """Which half of a split each row is in (the lowest bit of its hash)."""
    groups: np.ndarray | None
    detector: str | None
    has_labels: bool = True
    """Whether the corpus has a label column (without one there is no naive share)."""

    def own_reference(self, mask: np.ndarray | None = None) -> Reference:
        """The rows (in ``mask``) known human by provenance, with a score: the corpus's own reference."""
        m = np.ones(len(self.scores), bool) if mask is None else mask
        return own_reference(self.scores[m], (self.known & (self.classes == HUMAN))[m], self.halves[m])

    def estimate(self, mask: np.ndarray | None, human: Reference | None, ai: Reference | None,
                 **options: Any) -> ShareEstimate:
        """The estimate over the rows in ``mask`` (all rows when ``None``) against ``human`` (else their own reference)."""
        m = np.ones(len(self.scores), bool) if mask is None else mask
        undecided = m & ~self.known & np.isfinite(self.scores)
        labelled = m & (self.classes != UNKNOWN)
        naive = float((self.classes[labelled] == SYNTHETIC).mean()) if labelled.any() and self.has_labels else float("nan")
        kh = int((m & self.known & (self.classes == HUMAN)).sum())
        ks = int((m & self.known & (self.classes == SYNTHETIC)).sum())
        ref = self.own_reference(m) if human is None else human
        est = estimate_scores(self.scores[undecided], ref.scores, None if ai is None else ai.scores, naive=naive,
                              unknown=int(m.sum()) - int(undecided.sum()) - kh - ks, reference_source=ref.source,
                              **options)
        return est.with_known(kh, ks)


def corpus_scores(table: pa.Table, *, score_column: str = SCORE.name, label_column: str = LABEL.name,
                  by: str | None = None, provenance: Any = None, id_column: str | None = None,
                  text_column: str = "text", seed: int = 0) -> CorpusScores:
    """:class:`CorpusScores` of an Arrow table of the corpus (or of one batch)."""
    if score_column not in table.column_names:
        raise KeyError(f"score column {score_column!r} not found (columns present: {table.column_names}); "
                       "run ds.map(synthfilter.tag, batched=True) first")
    cfg = QuotaConfig(0.0, basis="estimated", label_column=label_column, score_column=score_column,
                      provenance=provenance, by=by, id_column=id_column, text_column=text_column, seed=seed)
    classes, scores, known = estimated_classes(table, cfg)
    key = next((c for c in (id_column, text_column) if c and c in table.column_names), None)
    keys = table.column(key) if key else pa.chunked_array([pa.array(np.arange(table.num_rows))])
    halves = (hash_column(keys, seed) & np.uint64(1)).astype(bool)
    groups = None
    if by is not None:
        if by not in table.column_names:
            raise KeyError(f"by: group column {by!r} not found; columns present: {table.column_names}")
        groups = group_values(table, by)
    detector = corpus_detector(table.column(DETECTOR.name).unique().to_pylist()) \
        if DETECTOR.name in table.column_names else None
    return CorpusScores(scores, classes, known, halves, groups, detector, label_column in table.column_names)


def estimate_share(ds: datasets.Dataset, reference: Any = None, *, ai_reference: Any = None, by: str | None = None,
                   confidence: float = 0.9, seed: int = 0, method: str = "auto", n_boot: int = 200,
                   score_column: str = SCORE.name, label_column: str = LABEL.name, text_column: str = "text",
                   id_column: str | None = None, detector: Any = None, provenance: Any = None,
                   first_seen_column: str | None = None, human_before: Any = None,
                   num_proc: int | None = None) -> ShareEstimate:
    """Estimate the true synthetic share of a tagged dataset, with an interval, beside the label count.

    Parameters
    ----------
    ds:
        A ``datasets.Dataset`` tagged by :func:`synthfilter.tag` (it needs ``score_column``;
        ``label_column`` gives the naive share). Rows labelled ``"unknown"`` are
        excluded and counted; rows whose class is known by provenance count with it.
    reference:
        Known-human text of the same kind as ``ds``: a ``Dataset`` (tagged or not), a
        path, a :class:`~synthfilter.Reservoir`, a list of texts, or an array of
        scores. Untagged text is tagged with ``detector``. With ``by``, a reference that
        has the ``by`` column is matched group by group. ``None`` (default): the corpus's
        own rows known human by provenance (rules below, or rows a tagger with rules
        decided), which are scored like the rest. The reference is checked: fewer than
        50 scored rows, or humans scoring higher than the corpus's, give no estimate
        (NaN, with the reason in ``check``).
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
    score_column, label_column, text_column, id_column:
        Column names. Defaults ``sf_score``, ``sf_label``, ``text``, none.
    detector:
        The detector that tagged ``ds`` (registry name, ``.npz`` path or object), used to
        tag a text reference. Default: the registry detector ``ds``'s ``sf_detector`` names.
    provenance, first_seen_column, human_before:
        Provenance rules (see :class:`~synthfilter.provenance.Provenance`): rows they decide
        count with their class, and the human ones are the reference when ``reference`` is ``None``.
    num_proc:
        Processes for tagging an untagged reference. Default ``None``.
    """
    corpus, human, ai = _corpus_and_references(
        ds, reference, ai_reference, by=by, score_column=score_column, label_column=label_column,
        text_column=text_column, id_column=id_column, detector=detector, provenance=provenance,
        first_seen_column=first_seen_column, human_before=human_before, seed=seed, num_proc=num_proc)
    options = dict(confidence=confidence, seed=seed, method=method, n_boot=n_boot)
    result = corpus.estimate(None, human, ai, **options)
    if by is not None:
        for group in sorted(set(corpus.groups.tolist()), key=str):
            result.by[str(group)] = corpus.estimate(corpus.groups == group, None if human is None else human.part(group),
                                                    None if ai is None else ai.part(group), **options)
    return result


def _corpus_and_references(ds: datasets.Dataset, reference: Any, ai_reference: Any, *, by: str | None = None,
                           score_column: str = SCORE.name, label_column: str = LABEL.name, text_column: str = "text",
                           id_column: str | None = None, detector: Any = None, provenance: Any = None,
                           first_seen_column: str | None = None, human_before: Any = None, seed: int = 0,
                           num_proc: int | None = None) -> tuple[CorpusScores, Reference | None, Reference | None]:
    """The corpus's :class:`CorpusScores` and the references (``None`` for none), scored like the corpus.

    Raises ``ValueError`` when there is neither a reference nor a row known human by provenance.
    """
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(f"ds must be a datasets.Dataset (tagged), got {type(ds).__name__}")
    rules = Provenance.build(provenance, first_seen_column=first_seen_column, human_before=human_before)
    wanted = [score_column, label_column, DETECTOR.name, REASON.name, by, id_column, text_column,
              *(rules.columns if rules is not None else ())]
    columns = [c for c in dict.fromkeys(wanted) if c and c in ds.column_names]
    table = ds.with_format("arrow").select_columns(columns)[:] if ds.num_rows else ds.data.table.select(columns)
    corpus = corpus_scores(table, score_column=score_column, label_column=label_column, by=by, provenance=rules,
                           id_column=id_column, text_column=text_column, seed=seed)
    common = dict(detector=detector, corpus_tag=corpus.detector, score_column=score_column, text_column=text_column,
                  by=by, seed=seed, num_proc=num_proc)
    human = None if reference is None else reference_scores(reference, what="reference", **common)
    ai = None if ai_reference is None else reference_scores(ai_reference, what="ai_reference", **common)
    if human is None and not len(corpus.own_reference()):
        raise ValueError(f"no known-human text of the same kind as the corpus to estimate against: {REFERENCE_HOWTO} "
                         "(rows decided human by provenance are scored and are the corpus's own reference)")
    return corpus, human, ai
