"""Human/synthetic mix quotas: exact, deterministic, per group, streaming and sharded.

Which rows go is decided by ``hash64(seed, row_key)``, never by a random generator:
within every stratum (group x class) the rows with the smallest ``(hash, row index)``
are kept. The result is the same for any ``num_proc``, batch size or sharding, and for
a dataset that was shuffled and sorted back.

Counting and selection are separate steps over mergeable per-shard summaries
(:class:`ShardSummary`): a first pass counts rows and histograms the hash per stratum
on each shard, the sums give the exact number of rows to keep per stratum and the
hash bucket where the cut falls; a small second pass collects the hashes in that
bucket only, which fixes the exact cut-off; the last pass keeps the rows under it.
The in-memory path and ``sharded=True`` give identical rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from .hashing import hash_column, hash_keys

__all__ = ["QuotaConfig", "QuotaReport", "enforce_quota", "mix", "quota_report", "ShardSummary"]

HUMAN, SYNTHETIC, UNKNOWN = 0, 1, 2
CLASS_NAMES = ("human", "synthetic", "unknown")
_BUCKET_BITS = 16


@dataclass(frozen=True)
class QuotaConfig:
    """How rows are classified and what mix is enforced (see :func:`enforce_quota`)."""

    max_synthetic: float
    mode: Literal["cap", "exact"] = "cap"
    by: str | None = None
    label_column: str = "sf_label"
    synthetic_column: str | None = None
    score_column: str | None = None
    score_threshold: float | None = None
    unknown: Literal["human", "synthetic", "drop"] = "human"
    id_column: str | None = None
    text_column: str = "text"
    seed: int = 0
    min_rows: int = 1

    def __post_init__(self) -> None:
        f = self.max_synthetic
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= float(f) < 1.0:
            raise ValueError(f"max_synthetic must be a share in [0, 1), got {f!r}")
        if self.mode not in ("cap", "exact"):
            raise ValueError(f"mode must be 'cap' or 'exact', got {self.mode!r}")
        if self.unknown not in ("human", "synthetic", "drop"):
            raise ValueError(f"unknown must be 'human', 'synthetic' or 'drop', got {self.unknown!r}")
        if self.score_column is not None and self.score_threshold is None:
            raise ValueError("score_column needs score_threshold (rows with score >= threshold are synthetic)")
        if self.score_threshold is not None and self.score_column is None:
            object.__setattr__(self, "score_column", "sf_score")
        if not isinstance(self.min_rows, int) or self.min_rows < 0:
            raise ValueError(f"min_rows must be a non-negative integer, got {self.min_rows!r}")

    @property
    def share(self) -> Fraction:
        """The target as an exact fraction (``0.1`` is exactly 1/10)."""
        return Fraction(repr(float(self.max_synthetic)))

    def key_column(self, columns: list[str]) -> str:
        if self.id_column is not None:
            if self.id_column not in columns:
                raise KeyError(f"id_column {self.id_column!r} not found; columns present: {columns}")
            return self.id_column
        if self.text_column not in columns:
            raise KeyError(
                f"no row key: pass id_column=... (text column {self.text_column!r} not found; "
                f"columns present: {columns})"
            )
        return self.text_column


# --------------------------------------------------------------------------- classification
def _classify(table: pa.Table, cfg: QuotaConfig) -> np.ndarray:
    """Class per row: 0 human, 1 synthetic, 2 unknown (before the ``unknown`` policy)."""
    columns = table.column_names
    if cfg.synthetic_column is not None:
        if cfg.synthetic_column not in columns:
            raise KeyError(f"synthetic_column {cfg.synthetic_column!r} not found; columns present: {columns}")
        return _classify_flags(table.column(cfg.synthetic_column), f"synthetic_column {cfg.synthetic_column!r}")
    if cfg.score_column is not None:
        if cfg.score_column not in columns:
            raise KeyError(f"score column {cfg.score_column!r} not found (columns present: {columns}); "
                           "run ds.map(synthfilter.tag, batched=True) first")
        scores = pc.fill_null(table.column(cfg.score_column).cast(pa.float64()), math.nan).to_numpy(zero_copy_only=False)
        cls = (scores >= cfg.score_threshold).astype(np.int8)
        cls[np.isnan(scores)] = UNKNOWN
        return cls
    if cfg.label_column not in columns:
        raise KeyError(f"label column {cfg.label_column!r} not found (columns present: {columns}); "
                       "run ds.map(synthfilter.tag, batched=True) first, or pass synthetic_column=... "
                       "or score_column=/score_threshold=")
    col = table.column(cfg.label_column)
    if pa.types.is_boolean(col.type) or pa.types.is_integer(col.type) or pa.types.is_null(col.type):
        return _classify_flags(col, f"label column {cfg.label_column!r}")
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise TypeError(f"label column {cfg.label_column!r} must hold 'human'/'synthetic'/'unknown' strings, "
                        f"booleans or 0/1, got {col.type}")
    is_syn = pc.fill_null(pc.equal(col, "synthetic"), False).to_numpy(zero_copy_only=False)
    is_hum = pc.fill_null(pc.equal(col, "human"), False).to_numpy(zero_copy_only=False)
    is_unk = pc.fill_null(pc.equal(col, "unknown"), True).to_numpy(zero_copy_only=False)
    if not (is_syn | is_hum | is_unk).all():
        bad = pc.unique(pc.filter(col, pc.invert(pc.is_in(col, pa.array(["synthetic", "human", "unknown"]))))).to_pylist()
        raise ValueError(f"label column {cfg.label_column!r} holds {bad[:5]}; expected 'human', 'synthetic' or 'unknown'")
    return np.where(is_syn, SYNTHETIC, np.where(is_hum, HUMAN, UNKNOWN)).astype(np.int8)


def _classify_flags(col: pa.ChunkedArray, what: str) -> np.ndarray:
    """Class per row of a boolean or 0/1 column: true/1 synthetic, false/0 human, null unknown."""
    if pa.types.is_null(col.type):  # every value null, e.g. a provenance column null in this batch
        return np.full(len(col), UNKNOWN, dtype=np.int8)
    if pa.types.is_integer(col.type):
        bad = pc.unique(pc.filter(col, pc.invert(pc.is_in(col, pa.array([0, 1], col.type))))).to_pylist()
        bad = [b for b in bad if b is not None]
        if bad:
            raise ValueError(f"{what} holds {bad[:5]}; expected booleans or 0/1 (1 = synthetic)")
        col = pc.equal(col, pa.scalar(1, col.type))
    elif not pa.types.is_boolean(col.type):
        raise TypeError(f"{what} must be boolean (or 0/1), got {col.type}")
    values = pc.fill_null(col, False).to_numpy(zero_copy_only=False)
    nulls = col.is_null().to_numpy(zero_copy_only=False)
    return np.where(nulls, UNKNOWN, values.astype(np.int8)).astype(np.int8)


def _row_class(row: dict[str, Any], cfg: QuotaConfig) -> int:
    """:func:`_classify` for one row of a stream."""
    column = cfg.synthetic_column or cfg.score_column or cfg.label_column
    if column not in row:
        hint = "" if cfg.synthetic_column else "; run ds.map(synthfilter.tag, batched=True) first"
        raise KeyError(f"column {column!r} not found (columns present: {list(row)}){hint}")
    value = row[column]
    if value is None:
        return UNKNOWN
    flags = isinstance(value, (bool, np.bool_, int, np.integer))
    if cfg.synthetic_column is not None or (cfg.score_column is None and flags):
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value not in (0, 1):
            raise ValueError(f"column {column!r} holds {value!r}; expected booleans or 0/1 (1 = synthetic)")
        if not isinstance(value, (bool, np.bool_, int, np.integer)):
            raise TypeError(f"synthetic_column {column!r} must be boolean (or 0/1), got {value!r}")
        return SYNTHETIC if value else HUMAN
    if cfg.score_column is not None:
        value = float(value)
        return UNKNOWN if math.isnan(value) else int(value >= cfg.score_threshold)
    try:
        return CLASS_NAMES.index(value)
    except ValueError:
        raise ValueError(f"label column {column!r} holds {value!r}; expected 'human', 'synthetic' or 'unknown'") from None


#: How a null (or NaN) group value is named in reports; such rows form one group of their own.
NULL_GROUP = "<null>"


def _groups(table: pa.Table, cfg: QuotaConfig) -> tuple[np.ndarray, list]:
    """Group code per row and the group values; null and NaN values form one group, ``NULL_GROUP``."""
    if cfg.by is None:
        return np.zeros(table.num_rows, dtype=np.int64), [None]
    if cfg.by not in table.column_names:
        raise KeyError(f"by: group column {cfg.by!r} not found; columns present: {table.column_names}")
    col = table.column(cfg.by)
    if pa.types.is_floating(col.type):
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
    if pa.types.is_null(col.type):
        return np.zeros(table.num_rows, dtype=np.int64), [NULL_GROUP]
    encoded = pc.dictionary_encode(col, null_encoding="encode").combine_chunks()
    names = [NULL_GROUP if v is None else v for v in encoded.dictionary.to_pylist()]
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), names


def _hashes(table: pa.Table, key: str, seed: int) -> np.ndarray:
    return hash_column(table.column(key), seed)


# --------------------------------------------------------------------------- shard summaries
@dataclass
class ShardSummary:
    """Mergeable per-shard counts: rows per (group, class) and hash histograms per stratum."""

    counts: dict[tuple[Any, int], int] = field(default_factory=dict)
    histograms: dict[tuple[Any, int], np.ndarray] = field(default_factory=dict)

    def merge(self, other: "ShardSummary") -> "ShardSummary":
        out = ShardSummary(dict(self.counts), {k: v.copy() for k, v in self.histograms.items()})
        for key, n in other.counts.items():
            out.counts[key] = out.counts.get(key, 0) + n
        for key, hist in other.histograms.items():
            out.histograms[key] = out.histograms[key] + hist if key in out.histograms else hist.copy()
        return out


def summarise(groups: np.ndarray, names: list, classes: np.ndarray, hashes: np.ndarray) -> ShardSummary:
    """The first-pass summary of one shard (``groups`` are codes into ``names``)."""
    summary = ShardSummary()
    buckets = (hashes >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
    stratum = groups * 3 + classes
    for code in np.unique(stratum):
        mask = stratum == code
        key = (names[int(code) // 3], int(code) % 3)
        summary.counts[key] = int(mask.sum())
        summary.histograms[key] = np.bincount(buckets[mask], minlength=1 << _BUCKET_BITS).astype(np.int64)
    return summary


# --------------------------------------------------------------------------- the quota arithmetic
def plan_keep(counts: dict[tuple[Any, int], int], cfg: QuotaConfig) -> dict[tuple[Any, int], int]:
    """Rows to keep per (group, class) so every group meets the quota."""
    share = cfg.share
    keep: dict[tuple[Any, int], int] = {}
    for group in sorted({g for g, _ in counts}, key=repr):
        n = {c: counts.get((group, c), 0) for c in (HUMAN, SYNTHETIC, UNKNOWN)}
        unk_as = {"human": HUMAN, "synthetic": SYNTHETIC, "drop": None}[cfg.unknown]
        n_h = n[HUMAN] + (n[UNKNOWN] if unk_as == HUMAN else 0)
        n_s = n[SYNTHETIC] + (n[UNKNOWN] if unk_as == SYNTHETIC else 0)
        if cfg.mode == "cap":
            h = n_h
            s = min(n_s, math.floor(share * n_h / (1 - share)))
        else:
            # largest total T with floor(share*T) <= n_s and T - floor(share*T) <= n_h
            total = min(n_h + n_s, math.floor(n_h / (1 - share)))
            if share > 0:
                total = min(total, math.ceil((n_s + 1) / share) - 1)
            s = math.floor(share * total)
            h = total - s
            if h + s < cfg.min_rows:
                where = f" in group {group!r}" if cfg.by else ""
                raise ValueError(
                    f"min_rows: an exact share of {cfg.max_synthetic} would leave {h + s} rows{where} "
                    f"({n_h} human, {n_s} synthetic available), fewer than min_rows={cfg.min_rows}"
                )
        # split the kept human/synthetic budget back over the original classes
        if unk_as == HUMAN:
            keep[(group, HUMAN)] = min(n[HUMAN], h)
            keep[(group, UNKNOWN)] = h - keep[(group, HUMAN)]
            keep[(group, SYNTHETIC)] = s
        elif unk_as == SYNTHETIC:
            keep[(group, SYNTHETIC)] = min(n[SYNTHETIC], s)
            keep[(group, UNKNOWN)] = s - keep[(group, SYNTHETIC)]
            keep[(group, HUMAN)] = h
        else:
            keep[(group, HUMAN)], keep[(group, SYNTHETIC)], keep[(group, UNKNOWN)] = h, s, 0
    return keep


def _cutoffs_from_histograms(summary: ShardSummary, keep: dict) -> dict[tuple[Any, int], tuple[int, int]]:
    """Per stratum: (bucket where the cut falls, rows still to take from that bucket)."""
    out = {}
    for key, n in summary.counts.items():
        k = keep.get(key, 0)
        if k >= n:
            out[key] = (1 << _BUCKET_BITS, 0)  # keep all
            continue
        cum = np.cumsum(summary.histograms[key])
        bucket = int(np.searchsorted(cum, k, side="right"))
        before = int(cum[bucket - 1]) if bucket > 0 else 0
        out[key] = (bucket, k - before)
    return out


def _select(groups, names, classes, hashes, index, cutoffs, exact_cut) -> np.ndarray:
    """Boolean keep mask for one shard given the global cut per stratum."""
    buckets = (hashes >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
    keep = np.zeros(len(hashes), dtype=bool)
    stratum = groups * 3 + classes
    for code in np.unique(stratum):
        key = (names[int(code) // 3], int(code) % 3)
        mask = stratum == code
        bucket, _ = cutoffs[key]
        below = mask & (buckets < bucket)
        keep |= below
        cut = exact_cut.get(key)
        if cut is not None:
            in_bucket = mask & (buckets == bucket)
            h, i = hashes[in_bucket], index[in_bucket]
            keep[np.flatnonzero(in_bucket)[(h < cut[0]) | ((h == cut[0]) & (i <= cut[1]))]] = True
    return keep


def _exact_cuts(boundary: dict[tuple[Any, int], list[tuple[int, int]]], cutoffs: dict) -> dict:
    """From the (hash, index) pairs in each stratum's boundary bucket, the last one kept."""
    cuts = {}
    for key, (bucket, remaining) in cutoffs.items():
        if remaining > 0:
            cuts[key] = sorted(boundary.get(key, []))[remaining - 1]
    return cuts


# --------------------------------------------------------------------------- report
@dataclass
class QuotaReport:
    """Target vs realised mix, overall and per group, and rows dropped per reason."""

    target: float
    mode: str
    by: str | None
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]
    dropped: dict[str, int]
    unknown_as: str = "human"

    def _share(self, c: dict[str, int]) -> float:
        """Synthetic share with unknown rows counted as ``unknown_as`` says."""
        total = c.get("human", 0) + c.get("synthetic", 0) + c.get("unknown", 0)
        synthetic = c.get("synthetic", 0) + (c.get("unknown", 0) if self.unknown_as == "synthetic" else 0)
        return synthetic / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        groups = {g: {"before": self.before[g], "after": self.after.get(g, {}),
                      "share_before": round(self._share(self.before[g]), 6),
                      "share_after": round(self._share(self.after.get(g, {})), 6)} for g in self.before}
        return {"target_max_synthetic": self.target, "mode": self.mode, "by": self.by, "unknown_as": self.unknown_as,
                "rows_before": sum(sum(c.values()) for c in self.before.values()),
                "rows_after": sum(sum(c.values()) for c in self.after.values()),
                "realised_share": round(self._share(_total(self.after)), 6),
                "dropped": self.dropped, "groups": groups}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), indent=kwargs.pop("indent", 2), default=str, **kwargs)

    def __str__(self) -> str:
        d = self.to_dict()
        lines = [f"quota ({self.mode}) target synthetic share <= {self.target}: "
                 f"{d['rows_before']} -> {d['rows_after']} rows, realised share {d['realised_share']:.4f}",
                 "dropped: " + (", ".join(f"{k}={v}" for k, v in self.dropped.items()) or "nothing")]
        if self.by:
            lines.append(f"{'group':<20} {'before':>9} {'after':>9} {'share before':>12} {'share after':>11}")
            for g, x in d["groups"].items():
                lines.append(f"{str(g):<20} {sum(x['before'].values()):>9} {sum(x['after'].values()):>9} "
                             f"{x['share_before']:>12.4f} {x['share_after']:>11.4f}")
        return "\n".join(lines)


def _total(per_group: dict[str, dict[str, int]]) -> dict[str, int]:
    out = {"human": 0, "synthetic": 0, "unknown": 0}
    for c in per_group.values():
        for k, v in c.items():
            out[k] += v
    return out


def _counts_by_group(groups, names, classes, mask=None) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    g = groups if mask is None else groups[mask]
    c = classes if mask is None else classes[mask]
    codes, n = np.unique(g * 3 + c, return_counts=True)
    for code, count in zip(codes, n):
        name = "all" if names[int(code) // 3] is None else str(names[int(code) // 3])
        out.setdefault(name, {"human": 0, "synthetic": 0, "unknown": 0})[CLASS_NAMES[int(code) % 3]] = int(count)
    return out


def _report(cfg: QuotaConfig, before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> QuotaReport:
    """The report from per-group class counts before and after: what went, per reason."""
    for g in before:
        after.setdefault(g, {"human": 0, "synthetic": 0, "unknown": 0})
    tb, ta = _total(before), _total(after)
    unknown_reason = {"human": "surplus-human", "synthetic": "surplus-synthetic", "drop": "unknown"}[cfg.unknown]
    dropped = {"surplus-synthetic": tb["synthetic"] - ta["synthetic"], "surplus-human": tb["human"] - ta["human"]}
    dropped[unknown_reason] = dropped.get(unknown_reason, 0) + tb["unknown"] - ta["unknown"]
    return QuotaReport(float(cfg.max_synthetic), cfg.mode, cfg.by, before, after,
                       {k: v for k, v in dropped.items() if v}, cfg.unknown)


# --------------------------------------------------------------------------- public API
def _arrow(ds: datasets.Dataset, columns: list[str]) -> pa.Table:
    table = ds.with_format("arrow").select_columns(columns)[:] if ds.num_rows else ds.data.table.select(columns)
    return table


def _needed_columns(ds: datasets.Dataset, cfg: QuotaConfig) -> list[str]:
    cols = ds.column_names
    wanted = [cfg.key_column(cols)]
    for c in (cfg.synthetic_column, cfg.score_column if cfg.synthetic_column is None else None,
              cfg.label_column if cfg.synthetic_column is None and cfg.score_column is None else None, cfg.by):
        if c is not None and c not in wanted:
            wanted.append(c)
    return wanted


def _shard_arrays(ds: datasets.Dataset, cfg: QuotaConfig, offset: int) -> dict[str, Any]:
    table = _arrow(ds, [c for c in _needed_columns(ds, cfg) if c in ds.column_names])
    classes = _classify(table, cfg)
    groups, names = _groups(table, cfg)
    hashes = _hashes(table, cfg.key_column(ds.column_names), cfg.seed)
    return {"classes": classes, "groups": groups, "names": names, "hashes": hashes,
            "index": np.arange(offset, offset + ds.num_rows, dtype=np.int64)}


def _recode(arrays: dict[str, Any], names: list) -> np.ndarray:
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup[n] for n in arrays["names"]], dtype=np.int64)[arrays["groups"]] if len(arrays["groups"]) else arrays["groups"]


def enforce_quota(ds: datasets.Dataset | datasets.IterableDataset, max_synthetic: float, *,
                  mode: Literal["cap", "exact"] = "cap", by: str | None = None,
                  label_column: str = "sf_label", synthetic_column: str | None = None,
                  score_column: str | None = None, score_threshold: float | None = None,
                  unknown: Literal["human", "synthetic", "drop"] = "human",
                  id_column: str | None = None, text_column: str = "text", seed: int = 0,
                  min_rows: int = 1, num_shards: int = 1, num_proc: int | None = None,
                  return_report: bool = False, progress: bool = False):
    """Drop rows so the synthetic share is at most ``max_synthetic``; keep the rest in order.

    Parameters
    ----------
    ds:
        A ``datasets.Dataset`` (exact, two-pass) or ``IterableDataset`` (streaming: the
        running synthetic share of what has been yielded stays at or below the target at
        every prefix; O(1) memory per group; no ``mode="exact"``).
    max_synthetic:
        Target synthetic share in ``[0, 1)``.
    mode:
        ``"cap"`` (default) drops surplus synthetic rows only; the share is then exactly
        the largest value ``<= max_synthetic`` reachable with all human rows kept.
        ``"exact"`` hits ``synthetic = floor(max_synthetic * total)`` with as many rows as
        possible, dropping human rows when synthetic rows are too few.
    by:
        Group column; the quota then holds within every group. Default ``None``.
    label_column, synthetic_column, score_column, score_threshold:
        Where the class comes from. Default: ``sf_label`` from :func:`synthfilter.tag`.
        ``synthetic_column`` names a boolean provenance column (wins over detection);
        ``score_column``/``score_threshold`` classify by score ``>=`` threshold
        (``score_column`` defaults to ``sf_score`` when only a threshold is given).
    unknown:
        What unscorable rows (``sf_label="unknown"``, NaN score, null provenance) count
        as: ``"human"`` (default), ``"synthetic"``, or ``"drop"`` (removed, reported).
    id_column, text_column:
        Row key for the per-row hash: ``id_column`` if given, else ``text_column``
        (default ``"text"``). Rows with equal keys are ordered by position.
    seed:
        Seed of the per-row hash. Default 0.
    min_rows:
        ``mode="exact"`` raises ``ValueError`` if fewer rows would remain (per group).
        Default 1.
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
    cfg = QuotaConfig(max_synthetic=max_synthetic, mode=mode, by=by, label_column=label_column,
                      synthetic_column=synthetic_column, score_column=score_column,
                      score_threshold=score_threshold, unknown=unknown, id_column=id_column,
                      text_column=text_column, seed=seed, min_rows=min_rows)
    if isinstance(ds, datasets.IterableDataset):
        if mode == "exact":
            raise ValueError("mode='exact' needs the whole dataset; use a datasets.Dataset or mode='cap'")
        if return_report:
            raise ValueError("return_report is not available for a stream; use quota_report on the output")
        return _stream_quota(ds, cfg)
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(f"ds must be a datasets.Dataset or IterableDataset, got {type(ds).__name__}")
    if not isinstance(num_shards, int) or num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}")
    _needed_columns(ds, cfg)  # fail fast on a missing key column
    shards, offset = [], 0
    num_shards = min(num_shards, max(ds.num_rows, 1))
    for i in tqdm(range(num_shards), desc="quota: count", unit="shard", disable=not progress):
        part = ds.shard(num_shards, i, contiguous=True) if num_shards > 1 else ds
        if num_proc and num_proc > 1 and part.num_rows:
            arrays = _parallel_arrays(part, cfg, offset, num_proc)
        else:
            arrays = _shard_arrays(part, cfg, offset)
        shards.append(arrays)
        offset += part.num_rows
    kept_mask = _two_pass(shards, cfg)
    kept_idx = np.flatnonzero(kept_mask)
    out = ds.select(kept_idx) if len(kept_idx) < ds.num_rows else ds
    if not return_report:
        return out
    names = _all_names(shards)
    groups = np.concatenate([_recode(s, names) for s in shards]) if shards else np.zeros(0, np.int64)
    classes = np.concatenate([s["classes"] for s in shards]) if shards else np.zeros(0, np.int8)
    return out, _report(cfg, _counts_by_group(groups, names, classes),
                        _counts_by_group(groups, names, classes, kept_mask))


def _all_names(shards) -> list:
    names: list = []
    seen = set()
    for s in shards:
        for n in s["names"]:
            if n not in seen:
                seen.add(n)
                names.append(n)
    return names or [None]


def _two_pass(shards: list[dict[str, Any]], cfg: QuotaConfig) -> np.ndarray:
    # pass 1: per-shard summaries, merged by summing
    total = ShardSummary()
    for s in shards:
        total = total.merge(summarise(s["groups"], s["names"], s["classes"], s["hashes"]))
    keep = plan_keep(total.counts, cfg)
    cutoffs = _cutoffs_from_histograms(total, keep)
    # pass 2: (hash, index) pairs in the boundary bucket of each stratum, merged
    boundary: dict[tuple[Any, int], list[tuple[int, int]]] = {}
    for s in shards:
        buckets = (s["hashes"] >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
        for code in np.unique(s["groups"] * 3 + s["classes"]):
            key = (s["names"][int(code) // 3], int(code) % 3)
            bucket, remaining = cutoffs[key]
            if remaining:
                m = ((s["groups"] * 3 + s["classes"]) == code) & (buckets == bucket)
                boundary.setdefault(key, []).extend(zip(s["hashes"][m].tolist(), s["index"][m].tolist()))
    cuts = _exact_cuts(boundary, cutoffs)
    # pass 3: keep rows under the cut
    masks = [_select(s["groups"], s["names"], s["classes"], s["hashes"], s["index"], cutoffs, cuts) for s in shards]
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


def _parallel_arrays(ds: datasets.Dataset, cfg: QuotaConfig, offset: int, num_proc: int) -> dict[str, Any]:
    """The classification/hash pass with ``datasets.map(num_proc=...)``; same arrays as serial."""
    key = cfg.key_column(ds.column_names)

    def per_batch(table: pa.Table) -> pa.Table:
        out = {"_sf_class": pa.array(_classify(table, cfg)), "_sf_hash": pa.array(_hashes(table, key, cfg.seed))}
        if cfg.by is not None:
            out[cfg.by] = table.column(cfg.by)
        return pa.table(out)

    cols = [c for c in _needed_columns(ds, cfg) if c in ds.column_names]
    mapped = ds.select_columns(cols).with_format("arrow").map(
        per_batch, batched=True, num_proc=num_proc, remove_columns=cols, desc="quota: classify and hash")
    table = mapped.with_format("arrow")[:]
    groups, names = _groups(table, cfg)
    return {"classes": table.column("_sf_class").to_numpy().astype(np.int8), "groups": groups, "names": names,
            "hashes": table.column("_sf_hash").to_numpy().astype(np.uint64),
            "index": np.arange(offset, offset + ds.num_rows, dtype=np.int64)}


# --------------------------------------------------------------------------- streaming
def _stream_quota(ds: datasets.IterableDataset, cfg: QuotaConfig) -> datasets.IterableDataset:
    share = cfg.share

    def generate(source: datasets.IterableDataset) -> Iterator[dict[str, Any]]:
        counts: dict[Any, list[int]] = {}
        for row in source:
            cls = _row_class(row, cfg)
            if cls == UNKNOWN:
                if cfg.unknown == "drop":
                    continue
                cls = HUMAN if cfg.unknown == "human" else SYNTHETIC
            group = None
            if cfg.by is not None:
                if cfg.by not in row:
                    raise KeyError(f"by: group column {cfg.by!r} not found; columns present: {list(row)}")
                group = row[cfg.by]
                if group is None or (isinstance(group, float) and math.isnan(group)):
                    group = NULL_GROUP
            n = counts.setdefault(group, [0, 0])  # [rows yielded, synthetic yielded]
            if cls == SYNTHETIC and Fraction(n[1] + 1, n[0] + 1) > share:
                continue
            n[0] += 1
            n[1] += cls == SYNTHETIC
            yield row

    return datasets.IterableDataset.from_generator(generate, gen_kwargs={"source": ds}, features=ds.features)


# --------------------------------------------------------------------------- report & mix
def quota_report(before: datasets.Dataset, after: datasets.Dataset, max_synthetic: float, *,
                 mode: str = "cap", by: str | None = None, **classify: Any) -> QuotaReport:
    """Compare two datasets' mixes (same classification options as :func:`enforce_quota`)."""
    cfg = QuotaConfig(max_synthetic=max_synthetic, mode=mode, by=by, **classify)  # type: ignore[arg-type]

    def counts(ds: datasets.Dataset) -> dict[str, dict[str, int]]:
        table = _arrow(ds, [c for c in _needed_columns(ds, cfg) if c in ds.column_names])
        groups, names = _groups(table, cfg)
        return _counts_by_group(groups, names, _classify(table, cfg))

    return _report(cfg, counts(before), counts(after))


def mix(human: datasets.Dataset, synthetic: datasets.Dataset, synthetic_fraction: float, size: int, *,
        seed: int = 0, replace: bool = False, id_column: str | None = None, text_column: str = "text",
        source_column: str | None = "sf_source") -> datasets.Dataset:
    """A dataset of exactly ``size`` rows, ``floor(synthetic_fraction * size)`` of them synthetic.

    Rows are chosen from each source by smallest ``hash64(seed, key)`` (key: ``id_column``
    or ``text_column``) and interleaved in a deterministic hash order. With
    ``replace=True`` a source smaller than its share is repeated (every row the same
    number of times, give or take one) instead of raising. ``source_column`` (default
    ``"sf_source"``, ``None`` to omit) records ``"human"``/``"synthetic"``.
    """
    if not 0.0 <= synthetic_fraction <= 1.0:
        raise ValueError(f"synthetic_fraction must be in [0, 1], got {synthetic_fraction!r}")
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}")
    if set(human.column_names) != set(synthetic.column_names):
        raise ValueError(f"human and synthetic must have the same columns: {human.column_names} vs {synthetic.column_names}")
    n_syn = math.floor(Fraction(repr(float(synthetic_fraction))) * size)
    picks = []
    for name, src, need in (("human", human, size - n_syn), ("synthetic", synthetic, n_syn)):
        if need > src.num_rows and not replace:
            raise ValueError(f"{name}: {need} rows needed but only {src.num_rows} available; pass replace=True to upsample")
        if need and not src.num_rows:
            raise ValueError(f"{name}: empty, but {need} rows are needed")
        key = QuotaConfig(0.0, id_column=id_column, text_column=text_column).key_column(src.column_names)
        h = _hashes(_arrow(src, [key]), key, seed) if src.num_rows else np.zeros(0, np.uint64)
        order = np.lexsort((np.arange(src.num_rows), h))
        reps, rest = divmod(need, max(src.num_rows, 1))
        idx = np.concatenate([np.tile(np.arange(src.num_rows), reps), order[:rest]]).astype(np.int64)
        copy = np.concatenate([np.repeat(np.arange(reps), src.num_rows), np.full(rest, reps)]).astype(np.int64)
        part = src.select(idx)
        if source_column:
            part = part.add_column(source_column, [name] * len(idx), feature=datasets.Value("string"))
        mix_keys = hash_keys((h[idx] ^ np.uint64(len(name))).astype(np.int64) + copy, seed + 1) if len(idx) else np.zeros(0, np.uint64)
        picks.append((part, mix_keys))
    parts = [p for p, _ in picks]
    features = parts[0].features
    combined = datasets.concatenate_datasets([parts[0], parts[1].cast(features)])
    order = np.lexsort((np.arange(combined.num_rows), np.concatenate([k for _, k in picks])))
    return combined.select(order).flatten_indices()


# --------------------------------------------------------------------------- sampling under the quota
def plan_sample(counts: dict[tuple[Any, int], int], size: int, cfg: QuotaConfig) -> dict[tuple[Any, int], int]:
    """Rows to draw per (group, class) so a sample of ``size`` rows still meets the quota.

    ``counts`` are rows per (group, class) of data that already meets it (the output of
    :func:`enforce_quota` in ``"cap"`` mode). Groups keep their shares (largest
    remainder, ties by the hash of the group); inside a group the synthetic rows keep
    their share but never more than ``floor(max_synthetic * group size)``. Raises
    ``ValueError`` when fewer than ``size`` rows are available.
    """
    counted = (HUMAN, SYNTHETIC) if cfg.unknown == "drop" else (HUMAN, SYNTHETIC, UNKNOWN)
    groups = sorted({g for g, _ in counts}, key=repr)
    n_group = [sum(counts.get((g, c), 0) for c in counted) for g in groups]
    total = sum(n_group)
    if size > total:
        raise ValueError(f"size: {size} rows asked for but only {total} are available")
    exact = [Fraction(size * int(n), total) if total else Fraction(0) for n in n_group]
    take = [math.floor(x) for x in exact]
    order = sorted(range(len(groups)), key=lambda i: (-(exact[i] - take[i]), hash_keys([repr(groups[i])], cfg.seed)[0]))
    for i in order[:size - sum(take)]:
        take[i] += 1
    unk_as = {"human": HUMAN, "synthetic": SYNTHETIC, "drop": None}[cfg.unknown]
    plan: dict[tuple[Any, int], int] = {}
    for g, r in zip(groups, take):
        n = {c: counts.get((g, c), 0) for c in (HUMAN, SYNTHETIC, UNKNOWN)}
        n_s = n[SYNTHETIC] + (n[UNKNOWN] if unk_as == SYNTHETIC else 0)
        n_h = n[HUMAN] + (n[UNKNOWN] if unk_as == HUMAN else 0)
        n_all = n_h + n_s
        s = min(math.floor(cfg.share * r), (r * n_s) // n_all if n_all else 0)
        s = max(s, r - n_h)  # never more human rows than there are
        if s > min(n_s, math.floor(cfg.share * r)) or r > n_all:
            where = f" in group {g!r}" if cfg.by else ""
            raise ValueError(f"size: {r} rows{where} cannot keep a synthetic share <= {cfg.max_synthetic} "
                             f"({n_h} human, {n_s} synthetic available)")
        h = r - s
        for budget, main, cls_as in ((h, HUMAN, HUMAN), (s, SYNTHETIC, SYNTHETIC)):
            extra = n[UNKNOWN] if unk_as == cls_as else 0
            pool = n[main] + extra
            from_unknown = (budget * extra) // pool if pool else 0
            plan[(g, main)] = budget - from_unknown
            if extra:
                plan[(g, UNKNOWN)] = from_unknown
        plan.setdefault((g, UNKNOWN), 0)
    return plan
