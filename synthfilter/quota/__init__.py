"""Human/synthetic mix quotas: exact, deterministic, per group, streaming and sharded.

* :mod:`~synthfilter.quota.config`: :class:`QuotaConfig`, the one source of quota options.
* :mod:`~synthfilter.quota.classify`: the class and group of every row.
* :mod:`~synthfilter.quota.keys`: what a quota needs of each row (:class:`RowKeys`).
* :mod:`~synthfilter.quota.plan`: the engine-neutral algorithm (summarise -> plan -> keep).
* :mod:`~synthfilter.quota.sample`: :func:`plan_sample`, sizes per group and class under the quota.
* :mod:`~synthfilter.quota.datasets`: :func:`enforce_quota` and :func:`quota_report` on
  ``datasets`` (in memory, sharded, ``num_proc``, streaming).
* :mod:`~synthfilter.quota.estimators`: true-share estimators (best-bin, two-reference MLE) and their bootstrap.
* :mod:`~synthfilter.quota.estimate`: :class:`ShareEstimate` and the estimate from arrays of scores.
* :mod:`~synthfilter.quota.share`: :func:`estimate_share` on a tagged ``datasets.Dataset``.
* :mod:`~synthfilter.quota.reference`: reference scores from datasets, paths, reservoirs, texts, or the corpus itself.
* :mod:`~synthfilter.quota.reference_check`: is a reference fit (size; humans scoring higher than the corpus's)?
* :mod:`~synthfilter.quota.certify`: a quota's score cut, chosen on half of the rows and certified on the other.
* :mod:`~synthfilter.quota.estimate_plan`: the quota on the estimated share (``basis="estimated"``).
* :mod:`~synthfilter.quota.calibrate`: :func:`calibrate_labels`, ``sf_label`` thresholds from known-human rows.
* :mod:`~synthfilter.quota.basis`, :mod:`~synthfilter.quota.notes`: which basis, and what labels alone understate.
* :mod:`~synthfilter.quota.mix`: :func:`mix`.
* :mod:`~synthfilter.quota.report`: :class:`QuotaReport`.
"""

from .._face import lazy_face


__all__ = ["QuotaConfig", "QuotaReport", "ShareEstimate", "estimate_share", "QuotaPlan", "RowKeys", "Summary", "enforce_quota", "quota_report", "mix",
           "make_plan", "plan_keep", "plan_sample", "row_keys", "CLASS_NAMES", "NULL_GROUP", "HUMAN", "SYNTHETIC",
           "UNKNOWN", "LabelsUnderstate", "UnfitReference", "calibrate_labels", "LabelCalibration"]

__getattr__, __dir__ = lazy_face(__name__, {
    ".config": ["CLASS_NAMES", "HUMAN", "NULL_GROUP", "SYNTHETIC", "UNKNOWN", "QuotaConfig"],
    ".datasets": ["enforce_quota", "quota_report"],
    ".estimate": ["ShareEstimate"],
    ".share": ["estimate_share"],
    ".calibrate": ["LabelCalibration", "calibrate_labels"],
    ".mix": ["mix"],
    ".keys": ["RowKeys", "row_keys"],
    ".plan": ["QuotaPlan", "Summary", "make_plan", "plan_keep"],
    ".basis": ["LabelsUnderstate"],
    ".reference_check": ["UnfitReference"],
    ".sample": ["plan_sample"],
    ".report": ["QuotaReport"],
})
