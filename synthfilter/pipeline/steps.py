"""The steps of ``clean``: each declares the options it depends on, the columns it writes and
where it runs, and does its work through the engine interface (:mod:`synthfilter.engines`).

Adding a step means adding a class here and putting an instance in :data:`STEPS`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import datasets
import numpy as np

from ..batches import EmbedColumn, TagColumns
from ..columns import CLUSTER, COPIES, EMBEDDING, LANG, REASON, ROW, TAG_COLUMNS, Column
from ..diversity import Embedder, dedup_semantic, resample_tails, row_features
from ..engines.base import Engine
from ..provenance import REASON_PREFIX
from ..quota import CLASS_NAMES, plan_sample
from ..quota.calibrate import calibrate_on
from ..quota.classify import group_values
from ..quota.engine import enforce_quota_on
from ..tag import LABEL_COLUMN, Tagger
from .audit import QuotaDropReason, duplicates_dropped, not_selected, with_copies
from .config import OPTION, CleanConfig

__all__ = ["Step", "TagStep", "CalibrateStep", "QuotaStep", "EmbedStep", "DedupStep", "ResampleStep", "STEPS", "step_folder"]


class Step:
    """One step of ``clean``.

    ``fields`` are the :class:`CleanConfig` fields its output depends on (with those of
    every earlier step: they make its fingerprint), ``writes`` the columns it adds,
    ``global_pass`` whether it needs a pass over all rows before deciding any (done through
    the engine's ``reduce``), ``on_driver`` whether it needs every row in one
    ``datasets.Dataset`` on the driver.
    """

    name: ClassVar[str] = "step"
    fields: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[Column, ...]] = ()
    global_pass: ClassVar[bool] = False
    on_driver: ClassVar[bool] = False

    def run(self, data: Any, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:  # pragma: no cover
        """The step's output rows, its report, and (for a step that drops rows) the dropped rows
        with ``sf_drop_reason`` (in the engine's form). ``earlier`` holds the reports of the steps
        before it, by name."""
        raise NotImplementedError

    def check(self, report: dict[str, Any], cfg: CleanConfig) -> None:
        """Raise ``ValueError`` (in command-line terms) when a stated target can no longer be met."""

    def __repr__(self) -> str:
        return f"<step {self.name}>"


class TagStep(Step):
    """Numbers the input rows (``sf_row``, for the audit trail) and tags them (provenance rules first)."""

    name = "tag"
    fields = ("text_column", "detector", "detector_digest", "provenance_column", "human_values", "synthetic_values",
              "first_seen_column", "human_before")
    writes = (ROW,) + TAG_COLUMNS

    def run(self, data: Any, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        if ROW.name in engine.columns(data):
            raise ValueError(f"the input already has a {ROW.name!r} column, which clean writes; rename it")
        tagger = Tagger(text_column=cfg.text_column, detector=cfg.detector, provenance=cfg.provenance)
        return engine.map_batches(engine.number_rows(data, ROW.name), TagColumns(tagger), desc="clean: tag"), {}


class CalibrateStep(Step):
    """``sf_label`` from a threshold calibrated on the reference, or the input's own known-human rows
    (:func:`synthfilter.calibrate_labels`); without either the detector's labels are kept."""

    name = "calibrate"
    fields = ("target_fpr", "reference_digest")
    global_pass = True

    def run(self, data: Any, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        out, report = calibrate_on(engine, data, cfg.quota_config(), cfg.reference, target_fpr=cfg.target_fpr,
                                   detector=cfg.detector)
        return out, ({"skipped": True, "text": "no reference: the detector's own labels are kept"} if report is None
                     else report.to_dict())


class QuotaStep(Step):
    name = "quota"
    fields = ("max_synthetic", "by", "unknown", "id_column", "seed", "basis", "confidence")
    global_pass = True

    def run(self, data: Any, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        quota = cfg.quota_config()
        kept, report, dropped = enforce_quota_on(engine, data, quota, return_dropped=True, **_references(cfg))
        dropped = engine.map_batches(dropped, QuotaDropReason(quota), desc="clean: quota drop reasons")
        return kept, {**report.to_dict(), "strata": report.after}, dropped

    def check(self, report: dict[str, Any], cfg: CleanConfig) -> None:
        _check_targets(self.name, report, cfg)


class EmbedStep(Step):
    name = "embed"
    fields = ("embedder", "embedder_digest")
    writes = (EMBEDDING,)

    def run(self, data: Any, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        embedder = Embedder(text_column=cfg.text_column, model=cfg.embedder)
        return engine.map_batches(data, EmbedColumn(embedder), desc="clean: embed"), {"model": cfg.embedder}


class DedupStep(Step):
    """Near-duplicate removal, then the quota again (dropping human duplicates can raise the share; on the
    estimated basis the quota step's certified share of the scored rows it kept is carried over, and scored
    rows go only where fewer known-human rows now dilute it past the target).

    Only rows in a language of the embedder (``sf_lang`` in :attr:`Embedder.languages`) are
    compared; the others are kept uncompared (counted as ``not_compared``): with an English
    model, texts of other scripts embed close together whatever they say.
    """

    name = "dedup"
    fields = ("dedup_threshold",)
    global_pass = True
    on_driver = True

    def run(self, ds: datasets.Dataset, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        info: dict[str, Any] = {"skipped": True}
        dropped = []
        if cfg.dedup_threshold is not None:
            before = ds
            languages = Embedder(model=cfg.embedder).languages
            compare = None
            if languages is not None and LANG.name in ds.column_names:
                compare = np.isin(np.asarray(ds[LANG.name], dtype=object), list(languages))
            ds, dedup_report = dedup_semantic(ds, cfg.dedup_threshold, seed=cfg.seed, invalid="keep",
                                              compare=compare, return_report=True, progress=False)
            info = dedup_report.to_dict()
            dropped.append(duplicates_dropped(before, dedup_report.duplicate_of))
        quota = cfg.quota_config()
        prior = ((earlier or {}).get("quota") or {}).get("certification")  # the estimated basis: carried over
        kept, requota, requota_dropped = enforce_quota_on(engine, ds, quota, return_dropped=True, prior=prior,
                                                          **_references(cfg))
        dropped.append(engine.map_batches(requota_dropped, QuotaDropReason(quota), desc="clean: quota drop reasons"))
        dropped = datasets.concatenate_datasets([d.cast(dropped[-1].features) for d in dropped])
        return kept, {**info, "quota_again": requota.to_dict(), "strata": requota.after}, dropped

    def check(self, report: dict[str, Any], cfg: CleanConfig) -> None:
        _check_targets(self.name, report, cfg)


class ResampleStep(Step):
    """Tail resampling to exactly ``--resample`` rows, per group and class, so the quota still holds."""

    name = "resample"
    fields = ("resample", "max_copies", "junk", "min_words", "boilerplate_min_repeats")
    writes = (CLUSTER, COPIES)
    global_pass = True
    on_driver = True

    def run(self, ds: datasets.Dataset, engine: Engine, cfg: CleanConfig,
            earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
        strata = _row_strata(ds, cfg)
        # rows that cannot be embedded (no text) cannot be drawn (invalid="drop"): plan over the others only
        usable = row_features(ds, EMBEDDING.name)[1]
        counts = Counter(name for name, ok in zip(strata, usable) if ok)
        by_code = {(group, CLASS_NAMES.index(label)): n for (group, label), n in
                   ((name.rsplit("\x1f", 1), n) for name, n in counts.items())}
        plan = plan_sample(by_code, cfg.resample, cfg.quota_config("labels"))
        sizes = {f"{group}\x1f{CLASS_NAMES[c]}": k for (group, c), k in plan.items() if k}
        kept, report = resample_tails(ds, cfg.resample, config=cfg.resample_config(), return_report=True,
                                      strata=strata, stratum_sizes=sizes, progress=False)
        dropped = not_selected(ds, kept, "resample_cap")
        return with_copies(kept), {**report.to_dict(), "requested": cfg.resample,
                                   "plan": {k.replace("\x1f", "/"): v for k, v in sizes.items()}}, dropped


#: The steps of ``clean``, in order.
STEPS: tuple[Step, ...] = (TagStep(), CalibrateStep(), QuotaStep(), EmbedStep(), DedupStep(), ResampleStep())


def step_folder(name: str) -> str:
    """The folder a step writes under ``OUT/steps/`` (``"3-quota"`` for ``"quota"``): its place in :data:`STEPS`."""
    names = [step.name for step in STEPS]
    if name not in names:
        raise ValueError(f"step must be one of {names}, got {name!r}")
    return f"{names.index(name) + 1}-{name}"


def _check_targets(step: str, step_report: dict[str, Any], config: CleanConfig) -> None:
    """Fail as soon as ``--resample`` cannot be met under ``--max-synthetic`` (in command-line terms)."""
    counts = _strata_counts(step_report["strata"])
    try:
        plan_sample(counts, config.resample, config.quota_config("labels"))
    except ValueError as err:
        after = f"{OPTION['max_synthetic']} {config.max_synthetic}"
        if step == "dedup":
            after = f"near-duplicate removal ({OPTION['dedup_threshold']} {config.dedup_threshold}) and {after}"
        if config.by:
            after += f" {OPTION['by']} {config.by}"
        remain = sum(counts.values())
        detail = "" if remain < config.resample else f" ({str(err).removeprefix('size: ')})"
        raise ValueError(f"{OPTION['resample']} {config.resample} but only {remain} rows remain after {after}"
                         f"{detail}; lower {OPTION['resample']} or raise {OPTION['max_synthetic']}") from None


def _references(cfg: CleanConfig) -> dict[str, Any]:
    """The quota's reference arguments (paths read by :func:`synthfilter.estimate_share`, text tagged by ``--detector``)."""
    return {"reference": cfg.reference, "ai_reference": cfg.ai_reference, "detector": cfg.detector}


def _strata_counts(strata: dict[str, dict[str, int]]) -> dict[tuple[Any, int], int]:
    """``{group: {class name: rows}}`` (as in the step report) -> ``{(group, class code): rows}``."""
    return {(group, CLASS_NAMES.index(name)): n for group, classes in strata.items() for name, n in classes.items()}


def _row_strata(ds: datasets.Dataset, cfg: CleanConfig) -> list[str]:
    """Per row, ``"group\x1fclass"``: the group as the quota reports it (rows known by provenance apart, as
    ``"<group> (known)"``, so tail resampling keeps the share of known-human rows the quota's bound counted on),
    the class as the label says."""
    labels = ds[LABEL_COLUMN]
    if cfg.by is None:
        groups = ["all"] * len(labels)
    else:  # named as the quota names them (its report's strata), so the plan below matches them
        groups = [str(g) for g in group_values(ds.select_columns([cfg.by]).with_format("arrow")[:], cfg.by)]
    reasons = ds[REASON.name] if REASON.name in ds.column_names else [""] * len(labels)
    return [f"{group}{' (known)' if reason and reason.startswith(REASON_PREFIX) else ''}"
            f"\x1f{label if label in CLASS_NAMES else 'unknown'}"
            for group, label, reason in zip(groups, labels, reasons)]
