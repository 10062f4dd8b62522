"""The quota on any engine (:mod:`synthfilter.engines`): the plan's three passes as ``reduce``/``filter``."""

from __future__ import annotations

from typing import Any

from .config import QuotaConfig
from .plan import Summary, make_plan, row_keys
from .report import QuotaReport

__all__ = ["enforce_quota_on"]


def enforce_quota_on(engine: Any, data: Any, cfg: QuotaConfig) -> tuple[Any, QuotaReport]:
    """Keep the rows :func:`synthfilter.enforce_quota` keeps, with ``engine`` doing the passes.

    ``engine`` is a :class:`synthfilter.engines.Engine`; ``data`` is in its form. Pass 1
    reduces per-batch summaries; pass 2 (only when a cut falls inside a hash bucket)
    collects each stratum's boundary rows; pass 3 filters with the plan's keep mask.
    Returns the kept rows (order kept) and the report.
    """
    columns = cfg.needed_columns(engine.columns(data))
    summary = Summary.from_tables(engine.reduce(data, lambda t, p: Summary.of(row_keys(t, cfg, p)).to_arrow(), columns))
    plan = make_plan(summary, cfg)
    if plan.needs_boundary:
        resolving = plan
        plan = plan.resolve_tables(engine.reduce(data, lambda t, p: resolving.boundary_table(row_keys(t, cfg, p)),
                                                 columns))
    final = plan
    return engine.filter(data, lambda t, p: final.keep(row_keys(t, cfg, p)), columns), plan.report()
