"""The true synthetic share of a corpus, estimated from detector scores and known-human text.

A share counted from labels (``sf_label == "synthetic"``) is only as good as the
detector's threshold on text like the corpus; on sources the detector never saw it
misses most synthetic rows. :func:`estimate_scores` uses the whole score distribution
instead, against a *reference*: scores of text known to be human (and optionally of text
known to be AI-generated) of the same kind as the corpus. The estimators and their
bootstrap are in :mod:`synthfilter.quota.estimators`; the reference is checked first
(:mod:`synthfilter.quota.reference_check`). Everything here is NumPy on arrays of
scores; the ``datasets`` front end is :func:`synthfilter.estimate_share`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..reports import Report
from .estimators import (ScoreBins, auroc_of_counts, bootstrap_counts, choose_method, likelihood_bins,
                         interval_bounds, point_estimate)
from .reference_check import MIN_REFERENCE_ROWS, ReferenceCheck, UnfitReference, check_reference

__all__ = ["ShareEstimate", "estimate_scores", "combined", "pct"]


@dataclass
class ShareEstimate(Report):
    """The estimated true synthetic share, its interval, and the share counted from labels.

    Attributes
    ----------
    share, low, high:
        Point estimate and its ``confidence`` bootstrap interval
        (:func:`~synthfilter.quota.estimators.interval_bounds`); NaN when it cannot be
        estimated: no scored row, or an unfit reference.
    naive:
        Share of labelled rows labelled synthetic (what counting ``sf_label`` says).
    confidence:
        Two-sided coverage of ``[low, high]``.
    method:
        ``"bbe"`` (human reference only) or ``"mle"`` (human and AI references).
    rows, unknown:
        Rows estimated (scored, class not known) and rows excluded (``sf_label="unknown"``).
    reference_rows, ai_reference_rows:
        Reference rows used.
    separation:
        AUROC of corpus scores against human-reference scores (0.5: the corpus scores
        like known-human text), and with an AI reference, ``reference_auroc`` of the
        AI against the human reference (near 0.5: the detector cannot tell them apart
        on this data, and any estimate from it is weak).
    known_human, known_synthetic:
        Rows whose class is known without the detector (provenance), counted with it.
    reference_source:
        ``"reference"`` (given by the user) or ``"own"`` (the corpus's rows known human).
    check:
        The :class:`~synthfilter.quota.reference_check.ReferenceCheck` of the reference.
    basis:
        What the figures are: ``"estimate"`` (all rows), or ``"certified"``: a quota's output,
        with ``share`` estimated on the half of the rows that did not choose the cut and
        ``[low, high]`` the bound the cut was held to, ``[0, max_synthetic]`` (the cut's own
        certified bound, at most that, is in the report's ``certification``).
    by:
        Per-group estimates when ``by=`` was given.
    """

    share: float
    low: float
    high: float
    naive: float
    confidence: float
    method: str
    rows: int
    unknown: int
    reference_rows: int
    ai_reference_rows: int = 0
    separation: float = float("nan")
    reference_auroc: float = float("nan")
    known_human: int = 0
    known_synthetic: int = 0
    reference_source: str = "reference"
    check: ReferenceCheck | None = None
    basis: str = "estimate"
    by: dict[str, "ShareEstimate"] = field(default_factory=dict)

    def with_known(self, human: int, synthetic: int) -> "ShareEstimate":
        """This estimate over scored rows combined with rows whose class is known (provenance).

        The share becomes ``(synthetic + share * rows) / (human + synthetic + rows)``, and
        so do ``low`` and ``high``; ``naive`` is left as it is.
        """
        if not human and not synthetic:
            return self
        total = human + synthetic + self.rows

        def mix(x: float) -> float:
            return (synthetic + x * self.rows) / total if np.isfinite(x) or not self.rows else float("nan")

        share, low, high = (mix(self.share), mix(self.low), mix(self.high)) if self.rows else (synthetic / total,) * 3
        return ShareEstimate(**{**self.__dict__, "share": share, "low": low, "high": high, "known_human": human,
                                "known_synthetic": synthetic})

    @property
    def estimable(self) -> bool:
        return bool(np.isfinite(self.share))

    def why_not(self) -> str:
        """Why there is no estimate (``""`` when there is one)."""
        if self.estimable:
            return ""
        if self.check is not None and not self.check.ok:
            return self.check.message("reference" if self.reference_source == "reference" else
                                      "corpus's own known-human rows")
        return "no scored rows" if not self.rows else "the references do not separate"

    def describe(self) -> str:
        """One line: ``labels say 4.1%; estimated true share 23% [19%, 27%]``."""
        if not self.estimable:
            return f"labels say {pct(self.naive)}; true share not estimable ({self.why_not()})"
        if self.basis == "certified":
            return (f"labels say {pct(self.naive)}; held to at most {pct(self.high)} by a certified cut "
                    f"(estimate {pct(self.share)})")
        return f"labels say {pct(self.naive)}; estimated true share {pct(self.share)} [{pct(self.low)}, {pct(self.high)}]"

    def to_dict(self) -> dict[str, Any]:
        out = {k: (None if isinstance(v, float) and np.isnan(v) else (round(v, 6) if isinstance(v, float) else v))
               for k, v in self.__dict__.items() if k not in ("by", "check")}
        out["check"] = None if self.check is None else self.check.to_dict()
        out["by"] = {g: e.to_dict() for g, e in self.by.items()}
        return out

    def summary_lines(self) -> list[str]:
        caveat = "" if self.method == "mle" else " (human reference only: a lower bound where AI text scores like human text)"
        known = (f", {self.known_human + self.known_synthetic} decided by provenance"
                 if self.known_human or self.known_synthetic else "")
        ref = "the corpus's own known-human rows" if self.reference_source == "own" else "the reference"
        lines = [f"synthetic share ({self.method}, {self.confidence:.0%} interval, {self.rows} scored rows{known}, "
                 f"{self.unknown} unknown excluded; against {self.reference_rows} rows of {ref}): "
                 f"{self.describe()}{caveat}"]
        if not np.isnan(self.reference_auroc) and self.reference_auroc < 0.65:
            lines.append(f"warning: the detector barely separates the references (AUROC {self.reference_auroc:.2f}); "
                         "the estimate is weak")
        for g, e in self.by.items():
            lines.append(f"  {g}: {e.describe()} ({e.rows} rows)")
        return lines


def combined(per_group: dict[Any, ShareEstimate]) -> ShareEstimate:
    """Per-group estimates as one: a single group's as is; several combined by their row counts (their
    intervals added end to end, which is conservative); NaN when a group with rows has none."""
    if len(per_group) == 1:
        return next(iter(per_group.values()))
    parts = list(per_group.values())
    total = sum(e.rows + e.known_human + e.known_synthetic for e in parts)

    def weighted(attr: str) -> float:
        vals = [(getattr(e, attr), e.rows + e.known_human + e.known_synthetic) for e in parts]
        if any(math.isnan(v) and w for v, w in vals):
            return math.nan
        return float(sum(v * w for v, w in vals if w) / total) if total else math.nan

    labelled = [(e.naive, e.rows + e.known_human + e.known_synthetic) for e in parts if not math.isnan(e.naive)]
    naive = sum(v * w for v, w in labelled) / max(sum(w for _, w in labelled), 1) if labelled else math.nan
    first = parts[0]
    unfit = next((e.check for e in parts if e.check is not None and not e.check.ok), first.check)
    return ShareEstimate(weighted("share"), weighted("low"), weighted("high"), naive, first.confidence, first.method,
                         sum(e.rows for e in parts), sum(e.unknown for e in parts),
                         sum(e.reference_rows for e in parts) if first.reference_source == "own" else first.reference_rows,
                         first.ai_reference_rows, known_human=sum(e.known_human for e in parts),
                         known_synthetic=sum(e.known_synthetic for e in parts), reference_source=first.reference_source,
                         check=unfit, basis=first.basis)


def pct(x: float | None) -> str:
    """A share as a percentage (one decimal below 10%), ``n/a`` for none."""
    if x is None or np.isnan(x):
        return "n/a"
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def _check_scores(name: str, values: Any) -> np.ndarray:
    """Finite scores of ``values`` as float64 (NaN, i.e. unscored, rows dropped)."""
    try:
        a = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numeric detector scores, got {type(values).__name__}") from None
    return a[np.isfinite(a)]


def estimate_scores(corpus: Any, human: Any, ai: Any = None, *, naive: float = float("nan"), unknown: int = 0,
                    confidence: float = 0.9, seed: int = 0, method: str = "auto", n_boot: int = 200,
                    reference_source: str = "reference", strict: bool = False) -> ShareEstimate:
    """Estimate the synthetic share of ``corpus`` scores against reference scores.

    Parameters
    ----------
    corpus, human, ai:
        Detector scores (higher = more likely AI) of the corpus, of known-human text
        and optionally of known-AI text; NaN scores are ignored.
    naive, unknown:
        The label-count share and the number of unscored rows, carried into the result.
    confidence:
        Coverage of the bootstrap interval, in ``(0, 1)``. Default 0.9.
    seed:
        Seed of the bootstrap. Default 0.
    method:
        ``"auto"`` (default: ``"mle"`` when ``ai`` is given, else ``"bbe"``), ``"bbe"`` or ``"mle"``.
    n_boot:
        Bootstrap replicates. Default 200.
    reference_source:
        ``"reference"`` or ``"own"``, for the result's messages. Default ``"reference"``.
    strict:
        Raise :class:`~synthfilter.quota.reference_check.UnfitReference` when the human
        reference is unfit (fewer than :data:`~synthfilter.quota.reference_check.MIN_REFERENCE_ROWS`
        rows, or scoring higher than the corpus); by default the estimate is NaN and
        ``check`` says why. Default ``False``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    corpus, human = _check_scores("corpus", corpus), _check_scores("reference", human)
    ai = None if ai is None else _check_scores("ai_reference", ai)
    method = choose_method(method, ai is not None)
    if ai is not None and len(ai) < MIN_REFERENCE_ROWS:
        raise UnfitReference(f"ai_reference has {len(ai)} scored rows; at least {MIN_REFERENCE_ROWS} are needed")
    nan = float("nan")
    check = check_reference(corpus, human)
    base = dict(naive=naive, confidence=confidence, method=method, rows=len(corpus), unknown=unknown,
                reference_rows=len(human), ai_reference_rows=0 if ai is None else len(ai),
                reference_source=reference_source, check=check)
    if not check.ok:
        result = ShareEstimate(nan, nan, nan, **base)
        if strict:
            raise UnfitReference(result.why_not())
        return result
    if len(corpus) == 0:
        return ShareEstimate(nan, nan, nan, **base)
    bins = ScoreBins.of(corpus, human, ai)
    groups = likelihood_bins(bins.human, bins.ai) if method == "mle" else None
    point = np.atleast_1d(point_estimate(method, bins.corpus, bins.human, bins.ai, groups))
    reps = point_estimate(method, *bootstrap_counts(bins, method, n_boot, seed), groups)[:, None]
    low, high = interval_bounds(point, reps, confidence)
    share = float(point[0]) if np.isfinite(point[0]) else nan
    return ShareEstimate(share, float(low[0]), float(high[0]), separation=auroc_of_counts(bins.human, bins.corpus),
                         reference_auroc=nan if ai is None else auroc_of_counts(bins.human, bins.ai), **base)
