"""Policies: how each generation's training set is built, composable with ``+``.

A policy is a *base* that says where the candidate pool comes from, then optional
*steps* that transform it with the library's own functions on real ``datasets.Dataset``
objects:

bases
    ``replace`` (only the last generation's samples), ``accumulate`` (the real data and
    every generation so far), ``accumulate-subsample`` (the same, subsampled by hash to
    the generation size), ``keep-real:F`` (k = round(F * n) rows of the original real data,
    a fresh subset each generation, plus generated samples), ``keep-real-fixed:F`` (the
    same, but one fixed subset of k original real rows in every generation), ``fresh-real:F``
    (k = round(F * n) fresh real samples each generation, plus generated samples); F is in
    [0, 1]. ``real-only`` is the control: the generation-0 real data alone, every generation
    (no generated sample at all), so it reads exactly the real rows ``replace``,
    ``accumulate``, ``keep-real:F`` and ``quota``/``tail:ref`` on them read.

    ``keep-real:F`` chooses its k rows of the generation-0 real data by hash of (seed,
    generation, row id): deterministic for a seed, the same whatever other policies run,
    and different each generation, so every real row (a rare class included) keeps coming
    back. ``keep-real-fixed:F`` chooses them once by hash of (seed, row id) and reuses them:
    the fixed-subset set-up of Kazdan et al. / Gerstgrasser et al., where a rare class
    absent from those k rows can be lost for good (with k = 10 and a 10% class, in about
    a third of seeds the fixed rows hold none of it).
steps
    ``quota:F`` (:func:`synthfilter.enforce_quota` with at most a share F in [0, 1) of
    synthetic rows, by provenance), ``filter`` (a detector fitted each generation on a
    small known-real slice and generated samples drops likely-synthetic rows;
    ``filter:TPR:FPR`` uses a simulated detector with those rates in [0, 1] instead), ``tail`` / ``tail:ref``
    (:func:`synthfilter.resample_tails` down to the generation size, an unbiased draw inside each cluster
    (``within="hash"``), ``ref`` anchored to
    the real data's cluster proportions), ``select-likely`` (keep the samples the current
    model finds most likely: a negative control).

A spec that starts with a step uses ``accumulate`` as its base: ``"filter"`` is
``"accumulate+filter"``. When a spec has a step that selects rows, the model generates
twice the generation size so there is something to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..hashing import hash64, hash_keys
from ._checks import check_int

__all__ = ["Policy", "parse_policy", "kept_real_rows", "detector_real_rows", "BASES", "STEPS", "REAL_ROW_FIELDS"]

BASES = ("replace", "accumulate", "accumulate-subsample", "keep-real", "keep-real-fixed", "fresh-real", "real-only")
STEPS = ("quota", "filter", "tail", "select-likely")
#: bases that take a fraction F of the generation size as real rows: ``base:F``
_FRACTION_BASES = ("keep-real", "keep-real-fixed", "fresh-real")
#: the real-data columns of every result row (see :meth:`Policy.real_budget`)
REAL_ROW_FIELDS = ("real_rows", "real_rows_offered", "real_rows_trained", "real_rows_detector", "real_rows_reference",
                   "real_rows_fresh", "real_rows_distinct")


def kept_real_rows(real0_ids: np.ndarray, k: int, seed: int, generation: int | None) -> np.ndarray:
    """Positions (sorted) in the generation-0 real data of the ``k`` rows ``keep-real`` keeps at ``generation``.

    The k rows with the smallest ``hash_keys(ids, hash64(seed, f"keep-real/generation={generation}"))``,
    a hash of (seed, generation, row id); with ``generation=None`` the k rows with the smallest
    ``hash_keys(ids, hash64(seed, "keep-real-fixed"))``, a hash of (seed, row id), which
    ``keep-real-fixed`` keeps in every generation. Nothing else, such as which other policies
    run, changes the choice.
    """
    ids = np.asarray(real0_ids, dtype=np.int64)
    if k >= len(ids):
        return np.arange(len(ids))
    key = "keep-real-fixed" if generation is None else f"keep-real/generation={generation}"
    return np.sort(np.argsort(hash_keys(ids, hash64(seed, key)), kind="stable")[:k])


def detector_real_rows(reference_size: int, detector_fpr: float) -> int:
    """Known-real rows a fitted ``filter`` step draws per generation.

    ``reference_size`` rows to fit the detector, then ``max(reference_size, ceil(1 / detector_fpr))``
    to calibrate its threshold (the run's ``RunConfig.reference_size`` and ``detector_fpr``).
    """
    return reference_size + max(reference_size, int(np.ceil(1 / detector_fpr)))


def _fraction(text: str, where: str, what: str, high_open: bool = False) -> float:
    """Parse ``text`` as ``what`` in [0, 1] (or [0, 1) with ``high_open``); raises ``ValueError`` naming it."""
    expected = "[0, 1)" if high_open else "[0, 1]"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"policy {where!r}: {what} must be a number in {expected}, "
                         f"got {text!r} (not a number)") from None
    if not (0.0 <= value < 1.0 if high_open else 0.0 <= value <= 1.0):  # NaN fails both
        raise ValueError(f"policy {where!r}: {what} must be in {expected}, got {value!r} (outside {expected})")
    return value


@dataclass(frozen=True)
class Policy:
    """A parsed policy: ``base`` (with ``base_fraction``) and ``steps`` as (name, args)."""

    spec: str
    base: str
    base_fraction: float | None = None
    steps: tuple[tuple[str, tuple[Any, ...]], ...] = field(default_factory=tuple)

    @property
    def selects(self) -> bool:
        return any(name in ("filter", "tail", "select-likely") for name, _ in self.steps)

    @property
    def reads_reference(self) -> bool:
        """Whether a step reads the generation-0 real data as a reference (``tail:ref``)."""
        return any(name == "tail" and "ref" in args for name, args in self.steps)

    def real_rows(self, n: int) -> int | None:
        """Real rows in each generation's candidate pool for sample size ``n`` (``None``: varies by generation).

        This is the pool before the steps; :func:`synthfilter.collapse.runner.real_budget`
        gives what a generation consumes (after the steps, with the ``filter`` detector's
        reference data).
        """
        if self.base == "replace":
            return 0
        if self.base in _FRACTION_BASES:
            return int(round(self.base_fraction * n))
        if self.base in ("accumulate", "real-only"):
            return n
        return None

    def real_budget(self, n: int, *, reference_size: int, detector_fpr: float, generation: int = 1) -> dict[str, Any]:
        """The real rows one generation is expected to use, as the runner reports them in every result row.

        ``n`` is the generation size; ``reference_size`` and ``detector_fpr`` are the run's
        (what a fitted ``filter`` draws); ``generation`` is 0 for the initial fit, else any
        generation >= 1 (``accumulate-subsample`` and ``real_rows_distinct`` depend on which).
        Every real row a policy *reads* counts, whether or not the model trains on it:

        ``real_rows_offered``
            real rows in the candidate pool the base built, before the steps (the steps read them all);
        ``real_rows_trained``
            real rows in the training set after the steps (what the model was fitted on);
        ``real_rows_detector``
            known-real rows drawn for fitted ``filter`` detectors (:func:`detector_real_rows`
            per such step; 0 for ``filter:TPR:FPR``, a simulated detector);
        ``real_rows_reference``
            real rows a ``tail:ref`` step reads as its reference: the n generation-0 rows (else 0);
        ``real_rows``
            the distinct real rows read this generation: the offered rows and the reference
            (counted once where they overlap: ``accumulate``, ``keep-real:F`` and
            ``real-only`` offer generation-0 rows, which are the reference) plus
            ``real_rows_detector``;
        ``real_rows_fresh``
            real rows drawn new this generation: ``fresh-real:F``'s k = round(F * n) plus
            ``real_rows_detector`` (every other base reuses the generation-0 data);
        ``real_rows_distinct``
            the distinct real rows the run has read up to and including this generation: n plus
            every earlier generation's ``real_rows_fresh``. Policies with equal
            ``real_rows_distinct`` had the same real data to learn from.

        Generation 0 (the fit on n real rows) has n in every field but ``real_rows_detector``
        and ``real_rows_reference``.

        Returns those fields as expected values, plus ``real_rows_max`` (the same as
        ``real_rows``: steps never add real rows) and ``exact`` (``True`` when every value is
        what each row will report). ``real_rows_offered`` and ``real_rows`` are exact except for
        ``accumulate-subsample`` (their mean); ``real_rows_trained`` assumes a ``filter`` keeps
        a real row with probability 1 - FPR (its FPR, or ``detector_fpr`` for a fitted
        detector) and ``quota`` keeps every real row; after ``tail`` or ``select-likely``,
        which choose rows by value, it is ``None``.
        """
        check_int(n, ("n",), "n", 1, "the generation size")
        check_int(generation, ("generation",), "generation", 0, "a generation (0: the initial fit)")
        if generation == 0:
            return {"real_rows": n, "real_rows_offered": n, "real_rows_trained": n, "real_rows_detector": 0,
                    "real_rows_reference": 0, "real_rows_fresh": n, "real_rows_distinct": n, "real_rows_max": n,
                    "exact": True}
        exact, fresh = True, 0
        if self.base == "accumulate-subsample":  # n rows by hash from n real and generation * per_gen synthetic
            offered: float = n * n / (n + generation * (2 * n if self.selects else n))
            exact = False
        else:
            offered = self.real_rows(n)
            fresh = offered if self.base == "fresh-real" else 0
        trained: float | None = offered
        detector = 0
        for name, args in self.steps:
            if name == "filter":  # inexact: its flags are random, and it keeps >= 10 rows whatever it flags
                exact = False
                detector += 0 if args else detector_real_rows(reference_size, detector_fpr)
                if trained is not None:
                    trained *= 1.0 - (args[1] if args else detector_fpr)
            elif name in ("tail", "select-likely") and self.base != "replace":
                trained, exact = None, False
        reference = n if self.reads_reference else 0
        # the reference is the generation-0 data: every base but fresh-real offers rows from it
        read = (offered + reference if self.base == "fresh-real" else max(offered, reference)) + detector
        return {"real_rows": read, "real_rows_offered": offered, "real_rows_trained": trained,
                "real_rows_detector": detector, "real_rows_reference": reference, "real_rows_fresh": fresh + detector,
                "real_rows_distinct": n + generation * (fresh + detector), "real_rows_max": read, "exact": exact}

    def check_for(self, n: int, min_rows: int, scenario: str = "the") -> "Policy":
        """Reject a policy that leaves fewer than ``min_rows`` training rows whatever the data.

        A ``quota:F`` step keeps at most a share F of synthetic rows, so a pool with R real
        rows keeps at most R / (1 - F) rows in all; with R = 0 (``replace``,
        ``keep-real:0``, ``keep-real-fixed:0``) it keeps nothing.
        """
        real = self.real_rows(n)
        quotas = [args[0] for name, args in self.steps if name == "quota"]
        if real is None or not quotas:
            return self
        share = min(quotas)
        most = int(np.floor(real / (1.0 - share) + 1e-9))
        if most < min_rows:
            base = self.base if self.base_fraction is None else f"{self.base}:{self.base_fraction:g}"
            raise ValueError(
                f"policy {self.spec!r}: quota:{share:g} keeps at most a {share:g} share of synthetic rows, and base "
                f"{base!r} has {real} real row(s) per generation (n={n}), so at most {most} row(s) are left to "
                f"train on; the {scenario} model needs at least {min_rows}. Use a base with more real data "
                "(accumulate, keep-real:F, keep-real-fixed:F or fresh-real:F with a larger F) or a larger quota share")
        return self


def parse_policy(spec: str) -> Policy:
    """Parse ``"accumulate+quota:0.1"``-style specs; raises ``ValueError`` naming what is wrong."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"policy must be a non-empty string, got {spec!r}")
    parts = [p.strip() for p in spec.split("+")]
    if any(not p for p in parts):
        raise ValueError(f"policy {spec!r} has an empty part: join a base and steps with single '+', "
                         "e.g. accumulate+quota:0.1")
    base, base_fraction = "accumulate", None
    head = [h.strip() for h in parts[0].split(":")]
    if head[0] in BASES:
        base = head[0]
        if base in _FRACTION_BASES:
            if len(head) != 2:
                raise ValueError(f"policy {parts[0]!r}: {base} needs a fraction, exactly one, e.g. {base}:0.1")
            base_fraction = _fraction(head[1], parts[0], f"the {base} fraction")
        elif len(head) > 1:
            raise ValueError(f"policy {parts[0]!r}: {base} takes no argument")
        parts = parts[1:]
    steps = []
    for part in parts:
        name, *args = [a.strip() for a in part.split(":")]
        if name in BASES:
            raise ValueError(f"policy {spec!r}: base {name!r} must come first")
        if name not in STEPS:
            raise ValueError(f"unknown policy step {name!r} in {spec!r}; bases: {list(BASES)}, steps: {list(STEPS)}")
        if name == "quota":
            if len(args) != 1:
                raise ValueError(f"policy {part!r}: quota needs one share, e.g. quota:0.1")
            value = _fraction(args[0], part, "the quota share (the most synthetic share kept)",
                              high_open=True)
            steps.append((name, (value,)))
        elif name == "filter":
            if args and len(args) != 2:
                raise ValueError(f"policy {part!r}: filter takes no argument or TPR:FPR, e.g. filter:0.8:0.05")
            steps.append((name, (_fraction(args[0], part, "the filter's true-positive rate TPR"),
                                 _fraction(args[1], part, "the filter's false-positive rate FPR")) if args else ()))
        elif name == "tail":
            if args and args != ["ref"]:
                raise ValueError(f"policy {part!r}: tail takes no argument or 'ref'")
            steps.append((name, tuple(args)))
        else:
            if args:
                raise ValueError(f"policy {part!r}: {name} takes no argument")
            steps.append((name, ()))
    return Policy(spec, base, base_fraction, tuple(steps))
