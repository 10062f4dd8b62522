"""The quota on any engine (:mod:`synthfilter.engines`): the plan's passes as ``reduce``/``filter``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..columns import DETECTOR
from .config import QuotaConfig
from .estimate_plan import keys_from_tables, keys_table, make_estimated_plan
from .plan import Summary, make_plan, row_keys
from .reference import corpus_detector, quota_references

__all__ = ["enforce_quota_on"]


def enforce_quota_on(engine: Any, data: Any, cfg: QuotaConfig, *, reference: Any = None, ai_reference: Any = None,
                     detector: str | None = None, return_dropped: bool = False) -> tuple[Any, ...]:
    """Keep the rows :func:`synthfilter.enforce_quota` keeps, with ``engine`` doing the passes.

    ``engine`` is a :class:`synthfilter.engines.Engine`; ``data`` is in its form.
    With ``basis="labels"``: pass 1 reduces per-batch summaries; pass 2 (only when a cut
    falls inside a hash bucket) collects each stratum's boundary rows; pass 3 filters
    with the plan's keep mask. With ``basis="estimated"``: pass 1 collects every row's
    group, class, score and hash (16 bytes and the group per row) and the detector
    name, the plan is made on the driver against ``reference``/``ai_reference``
    (scored with ``detector``, default: the corpus's ``sf_detector``), and pass 2
    filters. Returns the kept rows (order kept) and the report, and with
    ``return_dropped=True`` also the dropped rows (order kept; a third, inverted filter).
    """
    all_columns = engine.columns(data)
    columns = cfg.needed_columns(all_columns)
    if cfg.basis == "estimated":
        if reference is None:
            raise ValueError("basis='estimated' needs reference= (known-human text of the same kind)")
        if detector is None and DETECTOR.name in all_columns:
            names = engine.reduce(data, lambda t, p: pa.table({"d": pc.unique(t.column(DETECTOR.name))}), [DETECTOR.name])
            detector = corpus_detector([d for t in names for d in t.column("d").to_pylist()])
        keys = keys_from_tables(engine.reduce(data, lambda t, p: keys_table(row_keys(t, cfg, p)), columns))
        plan = make_estimated_plan(keys, cfg, *quota_references(reference, ai_reference, cfg, detector))
    else:
        summary = Summary.from_tables(engine.reduce(data, lambda t, p: Summary.of(row_keys(t, cfg, p)).to_arrow(), columns))
        plan = make_plan(summary, cfg)
        if plan.needs_boundary:
            resolving = plan
            plan = plan.resolve_tables(engine.reduce(data, lambda t, p: resolving.boundary_table(row_keys(t, cfg, p)),
                                                     columns))
    final = plan
    kept = engine.filter(data, lambda t, p: final.keep(row_keys(t, cfg, p)), columns)
    if not return_dropped:
        return kept, plan.report()
    return kept, plan.report(), engine.filter(data, lambda t, p: ~final.keep(row_keys(t, cfg, p)), columns)
