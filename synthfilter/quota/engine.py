"""The quota on any engine (:mod:`synthfilter.engines`): the plan's passes as ``reduce``/``filter``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..columns import DETECTOR
from .basis import settle_basis, warn_labels
from .config import QuotaConfig
from .estimate_plan import make_estimated_plan
from .keys import keys_from_tables, keys_table, own_reference_rows, row_keys
from .plan import Summary, make_plan
from .reference import corpus_detector, quota_references

__all__ = ["enforce_quota_on", "corpus_tag_on"]


def corpus_tag_on(engine: Any, data: Any) -> str | None:
    """The ``name@version`` of the detector that tagged ``data`` (its ``sf_detector``), if any."""
    if DETECTOR.name not in engine.columns(data):
        return None
    names = engine.reduce(data, lambda t, p: pa.table({"d": pc.unique(t.column(DETECTOR.name))}), [DETECTOR.name])
    return corpus_detector([d for t in names for d in t.column("d").to_pylist()])


def enforce_quota_on(engine: Any, data: Any, cfg: QuotaConfig, *, reference: Any = None, ai_reference: Any = None,
                     detector: Any = None, prior: Mapping[str, Mapping[str, float]] | None = None,
                     return_dropped: bool = False) -> tuple[Any, ...]:
    """Keep the rows :func:`synthfilter.enforce_quota` keeps, with ``engine`` doing the passes.

    ``engine`` is a :class:`synthfilter.engines.Engine`; ``data`` is in its form. The basis
    is settled as :func:`synthfilter.enforce_quota` settles it (a pass counting the rows
    that can be the corpus's own reference, when needed). With ``basis="labels"``: pass 1
    reduces per-batch summaries; pass 2 (only when a cut falls inside a hash bucket)
    collects each stratum's boundary rows; pass 3 filters with the plan's keep mask. With
    ``basis="estimated"``: pass 1 collects every row's group, class, score, provenance flag
    and hash (about 20 bytes and the group per row) and the detector name, the plan is made
    on the driver against ``reference``/``ai_reference`` (text tagged with ``detector``,
    default: the registry detector the corpus's ``sf_detector`` names) or the corpus's own
    known-human rows (or, with ``prior``, an earlier pass's certification carried over, see
    :func:`~synthfilter.quota.estimate_plan.make_estimated_plan`), and pass 2 filters. Returns the kept rows (order kept) and the report,
    and with ``return_dropped=True`` also the dropped rows (order kept; a third, inverted filter).
    """
    all_columns = engine.columns(data)
    explicit_labels = cfg.basis == "labels"

    def own_rows() -> int:
        wanted = [c for c in dict.fromkeys([cfg.score_column or "sf_score", cfg.label_column, "sf_reason",
                                            *(cfg.provenance.columns if cfg.provenance else ())]) if c in all_columns]
        counts = engine.reduce(data, lambda t, p: pa.table({"n": [own_reference_rows(t, cfg)]}), wanted)
        return sum(sum(t.column("n").to_pylist()) for t in counts)

    cfg = settle_basis(cfg, all_columns, reference=reference is not None, own_rows=own_rows)
    columns = cfg.needed_columns(all_columns)
    tag = corpus_tag_on(engine, data)
    note = warn_labels(cfg, all_columns, tag, explicit_labels)
    if cfg.basis == "estimated":
        keys = keys_from_tables(engine.reduce(data, lambda t, p: keys_table(row_keys(t, cfg, p)), columns))
        plan = make_estimated_plan(keys, cfg, *quota_references(reference, ai_reference, cfg, tag, detector),
                                   prior=prior)
    else:
        summary = Summary.from_tables(engine.reduce(data, lambda t, p: Summary.of(row_keys(t, cfg, p)).to_arrow(), columns))
        plan = make_plan(summary, cfg)
        if plan.needs_boundary:
            resolving = plan
            plan = plan.resolve_tables(engine.reduce(data, lambda t, p: resolving.boundary_table(row_keys(t, cfg, p)),
                                                     columns))
    final = plan
    report = plan.report()
    if note:
        report.notes.append(note)
    kept = engine.filter(data, lambda t, p: final.keep(row_keys(t, cfg, p)), columns)
    if not return_dropped:
        return kept, report
    return kept, report, engine.filter(data, lambda t, p: ~final.keep(row_keys(t, cfg, p)), columns)
