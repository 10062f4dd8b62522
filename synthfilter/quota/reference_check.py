"""Is a reference fit to estimate a corpus's synthetic share? Its size, and the one mismatch that shows.

A share is estimated against known-human text *of the same kind* as the corpus. Two
ways it can be unfit are visible in the scores, and both are checked before a share is
reported or a quota certified:

* **Too small.** Below :data:`MIN_REFERENCE_ROWS` scored rows the bootstrap cannot show
  how uncertain the low-score tail is (a 1-row reference gives a narrow, confident and
  wrong interval): refused.
* **Its humans score higher than the corpus's.** The corpus is a mixture
  ``(1 - a) H + a S``; where AI text scores at least as high as human text (what a
  detector that ranks at all does), the corpus has *no more* low-score mass than the
  reference: ``F_corpus(t) <= F_reference(t)`` at every score ``t``. A reference whose
  humans score higher than the corpus's breaks this over the low scores, and it is the
  unsafe direction: the share then looks smaller than it is. :func:`check_reference`
  tests ``F_corpus(t) - F_reference(t)`` at the reference's low quantiles
  (:data:`CHECK_QUANTILES`), one-sided, Bonferroni-corrected at level
  :data:`MISMATCH_LEVEL`, and calls the reference a mismatch when some point exceeds it.

What cannot be detected: a reference whose humans score *lower* than the corpus's (the
share then looks larger than it is and a quota over-cuts, keeping less human text than
it could), and AI text that scores like human text (no human reference can reveal it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

__all__ = ["MIN_REFERENCE_ROWS", "CHECK_QUANTILES", "MISMATCH_LEVEL", "ReferenceCheck", "check_reference",
           "UnfitReference"]

#: Fewest scored reference rows a share is estimated (or a quota certified) against.
MIN_REFERENCE_ROWS = 50
#: Reference quantiles at which the corpus's low-score mass is compared with the reference's.
CHECK_QUANTILES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
#: Family-wise false-alarm level of the mismatch test (same-kind references flagged by chance).
MISMATCH_LEVEL = 0.01


class UnfitReference(ValueError):
    """A reference unfit for the estimate (too small, or its humans score higher than the corpus's)."""


@dataclass(frozen=True)
class ReferenceCheck:
    """The outcome of :func:`check_reference`.

    Attributes
    ----------
    rows:
        Scored reference rows.
    verdict:
        ``"ok"``, ``"too_small"`` or ``"mismatch"``.
    z:
        Largest standardised excess of corpus over reference low-score mass (``nan`` when
        not computed); a mismatch when above ``critical``.
    critical:
        The Bonferroni-corrected one-sided critical value.
    quantile, corpus_mass, reference_mass:
        Where the largest excess is: the reference quantile, and the corpus's and the
        reference's share of rows below it.
    """

    rows: int
    verdict: str
    z: float = float("nan")
    critical: float = float("nan")
    quantile: float = float("nan")
    corpus_mass: float = float("nan")
    reference_mass: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def message(self, what: str = "reference") -> str:
        """Why the reference is unfit, in words (``""`` when it is fit); ``what`` names the reference."""
        if self.verdict == "too_small":
            return (f"the {what} has {self.rows} scored rows; at least {MIN_REFERENCE_ROWS} known-human rows of the "
                    "same kind as the corpus are needed to estimate the synthetic share")
        if self.verdict == "mismatch":
            return (f"the {what} does not match the corpus: {self.corpus_mass:.1%} of the corpus scores below the "
                    f"{what}'s {self.quantile:.0%} quantile, where the {what} has {self.reference_mass:.1%} "
                    f"(z = {self.z:.1f} > {self.critical:.1f}). Its human texts score higher than the corpus's, which "
                    "makes the synthetic share look smaller than it is; use known-human text of the same kind "
                    "(rows of the corpus itself dated before generators existed, or from its own human sources)")
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in self.__dict__.items()}


def check_reference(corpus: np.ndarray, reference: np.ndarray, *, level: float = MISMATCH_LEVEL,
                    quantiles: tuple[float, ...] = CHECK_QUANTILES) -> ReferenceCheck:
    """Check that ``reference`` (known-human scores) can serve ``corpus`` (scores); NaNs must be removed.

    Parameters
    ----------
    corpus, reference:
        Finite detector scores (higher = more likely AI).
    level:
        False-alarm level of the mismatch test over all quantiles. Default :data:`MISMATCH_LEVEL`.
    quantiles:
        Reference quantiles compared. Default :data:`CHECK_QUANTILES`.
    """
    m, n = len(reference), len(corpus)
    if m < MIN_REFERENCE_ROWS:
        return ReferenceCheck(m, "too_small")
    if n == 0:
        return ReferenceCheck(m, "ok")
    ref, cor = np.sort(reference), np.sort(corpus)
    critical = float(norm.isf(level / len(quantiles)))
    best = ReferenceCheck(m, "ok", -np.inf, critical)
    for q in quantiles:
        t = np.quantile(ref, q, method="higher")
        fr = np.searchsorted(ref, t, side="right") / m
        fc = np.searchsorted(cor, t, side="right") / n
        pooled = (fr * m + fc * n) / (m + n)
        se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / m + 1 / n))
        z = float((fc - fr) / se)
        if z > best.z:
            best = ReferenceCheck(m, "mismatch" if z > critical else "ok", z, critical, q, float(fc), float(fr))
    return best
