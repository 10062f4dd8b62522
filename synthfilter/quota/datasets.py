"""Quotas on Hugging Face ``datasets``: in memory, sharded, with ``num_proc``, and streaming.

Adapters over the engine-neutral plan (:mod:`synthfilter.quota.plan`): every shard's
rows are keyed once (:func:`~synthfilter.quota.keys.row_keys`), then summarised,
planned and selected by the same functions the Ray path calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from ..columns import SCORE
from .config import HUMAN, SYNTHETIC, UNKNOWN, QuotaConfig, group_name
from .classify import classify, group_codes, row_class
from .basis import settle_basis, warn_labels
from .estimate_plan import make_estimated_plan
from .keys import RowKeys, keys_from_tables, keys_table, own_reference_rows, row_keys
from .plan import Summary, make_plan
from .report import QuotaReport, counts_by_group, make_report

__all__ = ["enforce_quota", "quota_report"]


def _arrow(ds: datasets.Dataset, columns: list[str]) -> pa.Table:
    return ds.with_format("arrow").select_columns(columns)[:] if ds.num_rows else ds.data.table.select(columns)


def enforce_quota(ds: datasets.Dataset | datasets.IterableDataset, max_synthetic: float | None = None, *,
                  config: QuotaConfig | None = None, reference: Any = None, ai_reference: Any = None,
                  detector: Any = None, num_shards: int = 1, num_proc: int | None = None, return_report: bool = False,
                  progress: bool = False, **options: Any):
    """Drop rows so the synthetic share is at most ``max_synthetic``; keep the rest in order.

    By default (``basis="auto"``) the quota holds the *estimated true* share whenever there
    is known-human text of the same kind to estimate it against: ``reference=``, or the
    corpus's own rows known human by provenance (``provenance=``/``first_seen_column=``
    rules, or rows a :class:`~synthfilter.Tagger` with such rules decided). Otherwise it
    holds the share counted from labels; counted from detector labels that is a lower
    bound on unseen sources, which the report says (and a
    :class:`~synthfilter.quota.basis.LabelsUnderstate` warning, unless ``basis="labels"``
    was asked for).

    Parameters
    ----------
    ds:
        A ``datasets.Dataset`` (exact, two-pass) or ``IterableDataset`` (streaming: the
        running synthetic share of what has been yielded stays at or below the target at
        every prefix; O(1) memory per group; labels only, no ``mode="exact"``).
    max_synthetic, options:
        The target share and any other :class:`QuotaConfig` field by name (``mode``,
        ``by``, ``label_column``, ``synthetic_column``, ``score_column``,
        ``score_threshold``, ``unknown``, ``id_column``, ``text_column``, ``seed``,
        ``min_rows``, ``basis``, ``confidence``, ``method``, ``provenance``,
        ``first_seen_column``, ``human_before``); see :class:`QuotaConfig` for their
        meaning and defaults.
    config:
        A ready :class:`QuotaConfig` instead of ``max_synthetic``/``options``.
    reference, ai_reference:
        Known-human (and optionally known-AI) text of the same kind, in any form
        :func:`synthfilter.estimate_share` takes. A reference is used instead of the
        corpus's own known-human rows. With ``basis="labels"`` it only adds the estimated
        share before and after to the report.
    detector:
        The detector that tagged ``ds`` (registry name, ``.npz`` path or object), to tag a
        reference given as text. Default: the registry detector its ``sf_detector`` names.
    num_shards:
        Run the sharded two-pass algorithm over this many contiguous shards (what runs on
        a cluster); the result is identical to ``num_shards=1``. Default 1.
    num_proc:
        Processes for the per-row classification and hashing pass. Default ``None``.
    return_report:
        Also return a :class:`QuotaReport`. Default ``False``.
    progress:
        Show a progress bar over shards in the counting pass. Default ``False``.
    """
    cfg = QuotaConfig.build(max_synthetic, config, options)
    if isinstance(ds, datasets.IterableDataset):
        if cfg.basis == "estimated" or reference is not None:
            raise ValueError("basis='estimated' and reference= need the whole dataset; use a datasets.Dataset")
        if cfg.mode == "exact":
            raise ValueError("mode='exact' needs the whole dataset; use a datasets.Dataset or mode='cap'")
        if return_report:
            raise ValueError("return_report is not available for a stream; use quota_report on the output")
        return _stream_quota(ds, cfg.resolved(False))
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(f"ds must be a datasets.Dataset or IterableDataset, got {type(ds).__name__}")
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}")
    explicit_labels = cfg.basis == "labels"
    cfg = settle_basis(cfg, ds.column_names, reference=reference is not None,
                       own_rows=lambda: own_reference_rows(_arrow(ds, _probe_columns(ds, cfg)), cfg))
    cfg.needed_columns(ds.column_names)  # fail fast on a missing key column
    tag = _corpus_tag(ds)
    note = warn_labels(cfg, ds.column_names, tag, explicit_labels)
    shards, offset = [], 0
    num_shards = min(num_shards, max(ds.num_rows, 1))
    for i in tqdm(range(num_shards), desc="quota: count", unit="shard", disable=not progress):
        part = ds.shard(num_shards, i, contiguous=True) if num_shards > 1 else ds
        parallel = num_proc and num_proc > 1 and part.num_rows
        shards.append(_parallel_keys(part, cfg, offset, num_proc) if parallel else _keys(part, cfg, offset))
        offset += part.num_rows
    if cfg.basis == "estimated":
        from .reference import quota_references

        refs = quota_references(reference, ai_reference, cfg, tag, detector, num_proc)
        plan = make_estimated_plan(keys_from_tables(keys_table(k) for k in shards), cfg, *refs)
    else:
        plan = make_plan(Summary.merge_all(Summary.of(k) for k in shards), cfg)
        if plan.needs_boundary:
            plan = plan.resolve(row for k in shards for row in plan.boundary(k))
    kept = np.flatnonzero(np.concatenate([plan.keep(k) for k in shards])) if shards else np.zeros(0, np.int64)
    out = ds.select(kept) if len(kept) < ds.num_rows else ds
    if not return_report:
        return out
    report = plan.report()
    if note:
        report.notes.append(note)
    if cfg.basis == "labels" and reference is not None:
        from .share import estimate_share

        shared = dict(ai_reference=ai_reference, by=cfg.by, confidence=cfg.confidence, seed=cfg.seed, method=cfg.method,
                      label_column=cfg.label_column, text_column=cfg.text_column, num_proc=num_proc,
                      score_column=cfg.score_column or SCORE.name, detector=detector)
        report.estimate_before = estimate_share(ds, reference, **shared)
        report.estimate_after = estimate_share(out, reference, **shared)
    return out, report


def _corpus_tag(ds: datasets.Dataset) -> str | None:
    """The ``name@version`` of the detector that tagged ``ds`` (its ``sf_detector``), if any."""
    from ..columns import DETECTOR
    from .reference import corpus_detector

    return corpus_detector(ds.unique(DETECTOR.name)) if DETECTOR.name in ds.column_names else None


def _probe_columns(ds: datasets.Dataset, cfg: QuotaConfig) -> list[str]:
    """The columns that say whether rows can be the corpus's own reference (those present)."""
    from ..columns import REASON

    wanted = [cfg.score_column or SCORE.name, cfg.label_column, REASON.name]
    wanted += list(cfg.provenance.columns) if cfg.provenance is not None else []
    return [c for c in dict.fromkeys(wanted) if c in ds.column_names]


def _keys(ds: datasets.Dataset, cfg: QuotaConfig, offset: int) -> RowKeys:
    return row_keys(_arrow(ds, cfg.needed_columns(ds.column_names)), cfg, offset)


def _parallel_keys(ds: datasets.Dataset, cfg: QuotaConfig, offset: int, num_proc: int) -> RowKeys:
    """:func:`_keys` with ``datasets.map(num_proc=...)`` doing the classification and hashing."""

    def per_batch(table: pa.Table) -> pa.Table:
        keys = row_keys(table, cfg)
        out = {"_sf_class": pa.array(keys.classes), "_sf_hash": pa.array(keys.hashes)}
        if keys.scores is not None:
            out["_sf_score"] = pa.array(keys.scores, pa.float64())
            out["_sf_known"] = pa.array(keys.known, pa.bool_())
        if cfg.by is not None:
            out[cfg.by] = table.column(cfg.by)
        return pa.table(out)

    cols = cfg.needed_columns(ds.column_names)
    mapped = ds.select_columns(cols).with_format("arrow").map(
        per_batch, batched=True, num_proc=num_proc, remove_columns=cols, desc="quota: classify and hash")
    table = mapped.with_format("arrow")[:]
    groups, names = group_codes(table, cfg)
    scored = "_sf_score" in table.column_names
    scores = table.column("_sf_score").to_numpy(zero_copy_only=False) if scored else None
    known = table.column("_sf_known").to_numpy(zero_copy_only=False).astype(bool) if scored else None
    return RowKeys(groups, names, table.column("_sf_class").to_numpy().astype(np.int8),
                   table.column("_sf_hash").to_numpy().astype(np.uint64),
                   np.arange(offset, offset + ds.num_rows, dtype=np.int64), scores, known)


# --------------------------------------------------------------------------- streaming
def _stream_quota(ds: datasets.IterableDataset, cfg: QuotaConfig) -> datasets.IterableDataset:
    share = cfg.share

    def generate(source: datasets.IterableDataset) -> Iterator[dict[str, Any]]:
        counts: dict[Any, list[int]] = {}
        for row in source:
            cls = row_class(row, cfg)
            if cls == UNKNOWN:
                if cfg.unknown == "drop":
                    continue
                cls = HUMAN if cfg.unknown == "human" else SYNTHETIC
            group = None
            if cfg.by is not None:
                if cfg.by not in row:
                    raise KeyError(f"by: group column {cfg.by!r} not found; columns present: {list(row)}")
                group = group_name(row[cfg.by])
            n = counts.setdefault(group, [0, 0])  # [rows yielded, synthetic yielded]
            if cls == SYNTHETIC and Fraction(n[1] + 1, n[0] + 1) > share:
                continue
            n[0] += 1
            n[1] += cls == SYNTHETIC
            yield row

    return datasets.IterableDataset.from_generator(generate, gen_kwargs={"source": ds}, features=ds.features)


# --------------------------------------------------------------------------- report
def quota_report(before: datasets.Dataset, after: datasets.Dataset, max_synthetic: float, *,
                 mode: str = "cap", by: str | None = None, **options: Any) -> QuotaReport:
    """Compare two datasets' mixes (``options``: the classification fields of :class:`QuotaConfig`)."""
    cfg = QuotaConfig(max_synthetic=max_synthetic, mode=mode, by=by, **options)  # type: ignore[arg-type]

    def counts(ds: datasets.Dataset) -> dict[str, dict[str, int]]:
        table = _arrow(ds, cfg.needed_columns(ds.column_names))
        groups, names = group_codes(table, cfg)
        return counts_by_group(groups, names, classify(table, cfg))

    return make_report(cfg, counts(before), counts(after))
