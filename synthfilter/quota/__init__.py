"""Human/synthetic mix quotas: exact, deterministic, per group, streaming and sharded.

* :mod:`~synthfilter.quota.config`: :class:`QuotaConfig`, the one source of quota options.
* :mod:`~synthfilter.quota.classify`: the class and group of every row.
* :mod:`~synthfilter.quota.plan`: the engine-neutral algorithm (summarise -> plan -> keep).
* :mod:`~synthfilter.quota.sample`: :func:`plan_sample`, sizes per group and class under the quota.
* :mod:`~synthfilter.quota.datasets`: :func:`enforce_quota` and :func:`quota_report` on
  ``datasets`` (in memory, sharded, ``num_proc``, streaming).
* :mod:`~synthfilter.quota.estimate`: true-share estimators (best-bin, two-reference MLE), intervals.
* :mod:`~synthfilter.quota.share`: :func:`estimate_share` on a tagged ``datasets.Dataset``.
* :mod:`~synthfilter.quota.reference`: reference scores from datasets, paths, reservoirs, texts.
* :mod:`~synthfilter.quota.estimate_plan`: the quota on the estimated share (``basis="estimated"``).
* :mod:`~synthfilter.quota.mix`: :func:`mix`.
* :mod:`~synthfilter.quota.report`: :class:`QuotaReport`.
"""

from .config import CLASS_NAMES, HUMAN, NULL_GROUP, SYNTHETIC, UNKNOWN, QuotaConfig
from .datasets import enforce_quota, quota_report
from .estimate import ShareEstimate
from .share import estimate_share
from .mix import mix
from .plan import QuotaPlan, RowKeys, Summary, make_plan, plan_keep, row_keys
from .sample import plan_sample
from .report import QuotaReport

__all__ = ["QuotaConfig", "QuotaReport", "ShareEstimate", "estimate_share", "QuotaPlan", "RowKeys", "Summary", "enforce_quota", "quota_report", "mix",
           "make_plan", "plan_keep", "plan_sample", "row_keys", "CLASS_NAMES", "NULL_GROUP", "HUMAN", "SYNTHETIC",
           "UNKNOWN"]
