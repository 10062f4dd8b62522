"""``synthfilter clean``: tag, quota, embed, dedup and tail-resample in one resumable run.

Each step reads the previous step's output and writes its own to
``OUT/steps/<n>-<step>/`` (Parquet) with a ``_SUCCESS`` marker and the step's
report; a rerun with the same configuration skips completed steps, so an interrupted
run resumes from the last completed one. The final rows go to ``OUT/output.jsonl`` or
``OUT/output.parquet`` (the input's format), with ``OUT/report.json`` (rows per step
and reason, realised mix, cluster coverage) and ``OUT/manifest.json`` (configuration,
package versions, seeds, input fingerprints).

Engines: ``local`` runs the ``datasets`` transforms with ``num_proc`` workers;
``ray`` runs tagging, the quota and embedding on Ray Data through
:mod:`synthfilter.integrations.ray` (the same batch functions). Dedup and the final
tail selection run on the driver in both engines over the embeddings, so both give
the same output for the same input and seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import warnings
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import datasets
import numpy as np
from tqdm.auto import tqdm

from .dedup import dedup_semantic
from .diversity import resample_tails, row_features
from .embed import EMBEDDING_COLUMN, Embedder
from .io import (RunLock, atomic_write_text, check_output, data_format, input_files, input_fingerprints, read_dataset,
                 verify_checksums, write_checksums, write_dataset)
from .quota import CLASS_NAMES, NULL_GROUP, QuotaConfig, enforce_quota, plan_sample, quota_report
from .tag import LABEL_COLUMN, Tagger

__all__ = ["CleanConfig", "clean", "STEPS"]

STEPS = ("tag", "quota", "embed", "dedup", "resample")
#: Steps that run on the driver with the ``datasets`` code in every engine.
DRIVER_STEPS = ("dedup", "resample")


@dataclass
class CleanConfig:
    """What ``clean`` does; every field is written to the manifest.

    Attributes
    ----------
    max_synthetic: target synthetic share of the quota step, in [0, 1).
    resample: rows the tail-resampling step keeps (all rows when fewer remain).
    engine: ``"local"`` (default) or ``"ray"``.
    workers: processes (local) or actors (Ray) for tagging and embedding. Default 2.
    detector: tagging detector (registry name or ``.npz``). Default ``"fast"``.
    embedder: ``"minilm"`` (default), ``"hashing"`` or a sentence-transformers path.
    dedup_threshold: cosine similarity above which rows are near-duplicates (default 0.95);
        ``None`` skips dedup.
    by: optional group column for the quota.
    text_column / id_column: the text, and the row key for hashing (default: the text).
    unknown: what unscorable rows count as in the quota (default ``"human"``).
    seed: seed of every hash and k-means fit. Default 0.
    keep_embeddings: keep ``sf_embedding`` in the output. Default ``False``.
    batch_size: rows per batch of the tagging and embedding maps. Default 1000.
    """

    max_synthetic: float
    resample: int
    engine: Literal["local", "ray"] = "local"
    workers: int = 2
    detector: str = "fast"
    embedder: str = "minilm"
    dedup_threshold: float | None = 0.95
    by: str | None = None
    text_column: str = "text"
    id_column: str | None = None
    unknown: Literal["human", "synthetic", "drop"] = "human"
    seed: int = 0
    keep_embeddings: bool = False
    batch_size: int = 1000

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_synthetic < 1.0:
            raise ValueError(f"max_synthetic must be in [0, 1), got {self.max_synthetic!r}")
        if isinstance(self.resample, bool) or not isinstance(self.resample, int) or self.resample < 1:
            raise ValueError(f"resample must be a positive number of rows, got {self.resample!r}")
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be positive, got {self.workers!r}")
        if self.dedup_threshold is not None and not 0.0 < self.dedup_threshold <= 1.0:
            raise ValueError(f"dedup_threshold must be in (0, 1], got {self.dedup_threshold!r}")

    def quota_config(self) -> QuotaConfig:
        """The quota step's :class:`~synthfilter.quota.QuotaConfig` (cap mode)."""
        return QuotaConfig(self.max_synthetic, by=self.by, unknown=self.unknown, id_column=self.id_column,
                           text_column=self.text_column, seed=self.seed)

    def fingerprint(self) -> str:
        """Hash of everything that changes the output (not the engine or worker count)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in ("engine", "workers", "batch_size")}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- engines
class _LocalEngine:
    def __init__(self, cfg: CleanConfig) -> None:
        self.cfg = cfg

    def read(self, path: Path) -> datasets.Dataset:
        return datasets.load_dataset("parquet", data_files=sorted(str(p) for p in path.glob("*.parquet")), split="train")

    def load_input(self, path: Path) -> datasets.Dataset:
        return read_dataset(path)

    def write(self, ds: datasets.Dataset, path: Path) -> int:
        ds.to_parquet(str(path / "part-00000.parquet"))
        return ds.num_rows

    def tag(self, ds: datasets.Dataset) -> datasets.Dataset:
        tagger = Tagger(text_column=self.cfg.text_column, detector=self.cfg.detector)
        return ds.map(tagger, batched=True, batch_size=self.cfg.batch_size, num_proc=_procs(self.cfg, ds),
                      desc="clean: tag")

    def quota(self, ds: datasets.Dataset) -> tuple[datasets.Dataset, Any]:
        return enforce_quota(ds, config=self.cfg.quota_config(), return_report=True)

    def embed(self, ds: datasets.Dataset) -> datasets.Dataset:
        embedder = Embedder(text_column=self.cfg.text_column, model=self.cfg.embedder)
        return ds.map(embedder, batched=True, batch_size=self.cfg.batch_size, num_proc=_procs(self.cfg, ds),
                      features=embedder.output_features(ds.features), desc="clean: embed")


def _procs(cfg: CleanConfig, ds: datasets.Dataset) -> int | None:
    return cfg.workers if cfg.workers > 1 and ds.num_rows >= 2 * cfg.batch_size else None


class _RayEngine(_LocalEngine):
    def __init__(self, cfg: CleanConfig) -> None:
        super().__init__(cfg)
        from .integrations import ray as sfr

        ray = sfr.start_local(num_cpus=max(cfg.workers, 1))
        self.ray, self.sfr = ray, sfr

    def read(self, path: Path) -> Any:
        return self.ray.data.read_parquet(sorted(str(p) for p in path.glob("*.parquet")))

    def load_input(self, path: Path) -> Any:
        files = input_files(path)
        if all(data_format(p)[0] == "parquet" for p in files):
            return self.ray.data.read_parquet([str(p) for p in files])
        return self.ray.data.from_arrow(read_dataset(path).data.table)

    def write(self, ds: Any, path: Path) -> int:
        import pyarrow.parquet as pq

        with self.sfr._ordered():
            tables = [t for t in ds.iter_batches(batch_format="pyarrow", batch_size=None)]
        n = 0
        for i, table in enumerate(tables):
            pq.write_table(table, path / f"part-{i:05d}.parquet")
            n += table.num_rows
        return n

    def tag(self, ds: Any) -> Any:
        with self.sfr._ordered():
            return self.sfr.tag(ds, text_column=self.cfg.text_column, detector=self.cfg.detector,
                                concurrency=self.cfg.workers, batch_size=self.cfg.batch_size).materialize()

    def quota(self, ds: Any) -> tuple[Any, Any]:
        return self.sfr.enforce_quota(ds, config=self.cfg.quota_config(), return_report=True)

    def embed(self, ds: Any) -> Any:
        with self.sfr._ordered():
            return self.sfr.embed(ds, text_column=self.cfg.text_column, model=self.cfg.embedder,
                                  concurrency=self.cfg.workers, batch_size=self.cfg.batch_size).materialize()


# --------------------------------------------------------------------------- the run
#: Configuration fields each step's output depends on (with those of every earlier step).
STEP_FIELDS = {
    "tag": ("text_column", "detector"),
    "quota": ("max_synthetic", "by", "unknown", "id_column", "seed"),
    "embed": ("embedder",),
    "dedup": ("dedup_threshold",),
    "resample": ("resample",),
}
#: Command-line spelling of the configuration fields, for messages.
OPTION = {"max_synthetic": "--max-synthetic", "resample": "--resample", "dedup_threshold": "--dedup-threshold",
          "by": "--by", "unknown": "--unknown"}


def _versions(engine: str) -> dict[str, str]:
    names = ["synthfilter", "datasets", "numpy", "scikit-learn", "torch", "transformers", "sentence-transformers",
             "pyarrow"] + (["ray"] if engine == "ray" else [])
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _step_fingerprints(config: CleanConfig, inputs: list[dict[str, Any]]) -> dict[str, str]:
    """Per step: a hash of the input files and of the configuration of that step and every earlier one."""
    out, fields = {}, {}
    for step in STEPS:
        fields.update({name: getattr(config, name) for name in STEP_FIELDS[step]})
        blob = json.dumps({"inputs": [(f["sha256"], f["bytes"]) for f in inputs], "config": fields},
                          sort_keys=True, default=str)
        out[step] = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return out


def _label_counts(ds: Any) -> dict[str, int]:
    """Rows per ``sf_label`` value of a ``datasets.Dataset`` or a Ray dataset."""
    if isinstance(ds, datasets.Dataset):
        labels = ds.select_columns([LABEL_COLUMN]).with_format("numpy")[LABEL_COLUMN]
        values, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts)}
    counts: dict[str, int] = {}
    for batch in ds.select_columns([LABEL_COLUMN]).iter_batches(batch_format="pyarrow", batch_size=None):
        values, n = np.unique(np.asarray(batch.column(LABEL_COLUMN).to_pylist(), dtype=str), return_counts=True)
        for v, c in zip(values, n):
            counts[str(v)] = counts.get(str(v), 0) + int(c)
    return counts


def _share(labels: dict[str, int], unknown: str) -> float:
    """Synthetic share by the labels, unknown rows counted as ``unknown`` says (``drop``: not counted)."""
    synthetic = labels.get("synthetic", 0) + (labels.get("unknown", 0) if unknown == "synthetic" else 0)
    total = labels.get("human", 0) + labels.get("synthetic", 0) + (labels.get("unknown", 0) if unknown != "drop" else 0)
    return round(synthetic / total, 6) if total else 0.0


def _valid_step(folder: Path, fingerprint: str) -> str | None:
    """Why the step folder cannot be reused, or ``None`` if it can."""
    if not (folder / "_SUCCESS").exists():
        return "not completed"
    problems = verify_checksums(folder)
    if problems:
        return "changed since it was written: " + "; ".join(problems[:3])
    try:
        meta = json.loads((folder / "report.json").read_text())
    except (OSError, ValueError):
        return "report unreadable"
    if meta.get("fingerprint") != fingerprint:
        return "made with another configuration or input"
    return None


def clean(input_path: str | os.PathLike, output_dir: str | os.PathLike, config: CleanConfig, *,
          progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the pipeline; returns the report that is written to ``OUT/report.json``.

    ``input_path`` is a data file or a folder of them (see :func:`synthfilter.io.read_dataset`).
    ``output_dir`` holds the step outputs, the final ``output.jsonl``/``output.parquet``,
    the report and the manifest; it may not be the input, inside it or contain it, and a
    second run into it while one runs is refused. A rerun reuses every completed step
    whose input and configuration are unchanged and whose files pass their checksums; a
    changed or truncated step file is recomputed, never used.

    The output meets every target by its own labels: at most ``max_synthetic`` synthetic
    (per group with ``by``) after every step, and exactly ``resample`` rows. A target that
    cannot be met raises ``ValueError`` as soon as it is known: before any work when the
    input is too small, right after the quota (before embedding) otherwise.
    """
    input_path, out = Path(input_path), Path(output_dir)
    check_output(input_path, out)
    files = input_files(input_path)
    fmt = "parquet" if all(data_format(p)[0] == "parquet" for p in files) else "jsonl"
    rows_in = read_dataset(input_path).num_rows
    if config.resample > rows_in:
        raise ValueError(f"--resample {config.resample} but the input has only {rows_in} rows")
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        inputs = input_fingerprints(input_path)
        fingerprints = _step_fingerprints(config, inputs)
        manifest = {"config": asdict(config), "config_fingerprint": config.fingerprint(), "seed": config.seed,
                    "steps": list(STEPS), "step_fingerprints": fingerprints, "input": str(input_path),
                    "input_fingerprints": inputs, "versions": _versions(config.engine)}
        atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
        return _run(input_path, out, config, fingerprints, fmt, progress)


def _run(input_path: Path, out: Path, config: CleanConfig, fingerprints: dict[str, str], fmt: str,
         progress: bool) -> dict[str, Any]:
    local = _LocalEngine(config)
    engine = _RayEngine(config) if config.engine == "ray" else local
    report: dict[str, Any] = {"engine": config.engine, "steps": {}}
    last: Path | None = None
    reuse = True
    bar = tqdm(STEPS, desc="clean", unit="step", disable=not progress)
    for n, step in enumerate(bar, start=1):
        bar.set_postfix_str(step)
        folder = out / "steps" / f"{n}-{step}"
        why = _valid_step(folder, fingerprints[step]) if reuse else "an earlier step was recomputed"
        if why is None:
            report["steps"][step] = {**json.loads((folder / "report.json").read_text()), "resumed": True}
            last = folder
            _check_targets(step, report["steps"][step], config)
            continue
        if reuse and why != "not completed" and folder.exists():
            warnings.warn(f"clean: step folder {folder} {why}; recomputing it and every later step", stacklevel=2)
        reuse = False
        runner = local if step in DRIVER_STEPS else engine
        ds = runner.load_input(input_path) if last is None else runner.read(last)
        ds, step_report = _run_step(step, ds, runner, config)
        step_report["labels"] = _label_counts(ds)
        step_report["synthetic_share"] = _share(step_report["labels"], config.unknown)
        step_report["fingerprint"] = fingerprints[step]
        _write_step(runner, ds, folder, step_report)
        report["steps"][step] = step_report
        last = folder
        del ds
        _check_targets(step, step_report, config)
    final = local.read(last)
    report["realised_mix"] = _label_counts(final)
    report["realised_synthetic_share"] = _share(report["realised_mix"], config.unknown)
    report["synthetic_share_after"] = {s: r["synthetic_share"] for s, r in report["steps"].items()}
    report["rows_in"] = report["steps"]["tag"]["rows_out"]
    report["rows_out"] = final.num_rows
    if not config.keep_embeddings and EMBEDDING_COLUMN in final.column_names:
        final = final.remove_columns(EMBEDDING_COLUMN)
    target = out / f"output.{fmt}"
    write_dataset(final, target)
    report["output"] = str(target)
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    return report


def _write_step(runner: _LocalEngine, ds: Any, folder: Path, step_report: dict[str, Any]) -> None:
    """Write a step's rows, report, checksums and ``_SUCCESS`` into a temporary folder, then rename it."""
    tmp = folder.with_name(f".tmp-{folder.name}")
    for stale in (tmp, folder):
        if stale.exists():
            shutil.rmtree(stale)
    tmp.mkdir(parents=True)
    step_report["rows_out"] = runner.write(ds, tmp)
    (tmp / "report.json").write_text(json.dumps(step_report, indent=2, default=str) + "\n")
    write_checksums(tmp, sorted(p.name for p in tmp.iterdir() if p.is_file()))  # names: relative to tmp
    (tmp / "_SUCCESS").touch()
    os.replace(tmp, folder)


def _check_targets(step: str, step_report: dict[str, Any], config: CleanConfig) -> None:
    """Fail as soon as ``--resample`` cannot be met under ``--max-synthetic`` (in command-line terms)."""
    if step not in ("quota", "dedup"):
        return
    counts = _strata_counts(step_report["strata"])
    try:
        plan_sample(counts, config.resample, config.quota_config())
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


def _strata_counts(strata: dict[str, dict[str, int]]) -> dict[tuple[Any, int], int]:
    """``{group: {class name: rows}}`` (as in the step report) -> ``{(group, class code): rows}``."""
    return {(group, CLASS_NAMES.index(name)): n for group, classes in strata.items() for name, n in classes.items()}


def _run_step(step: str, ds: Any, engine: _LocalEngine, cfg: CleanConfig) -> tuple[Any, dict[str, Any]]:
    if step == "tag":
        return engine.tag(ds), {}
    if step == "quota":
        kept, report = engine.quota(ds)
        return kept, {**report.to_dict(), "strata": report.after}
    if step == "embed":
        return engine.embed(ds), {"model": cfg.embedder}
    if step == "dedup":
        info: dict[str, Any] = {"skipped": True}
        if cfg.dedup_threshold is not None:
            ds, dedup_report = dedup_semantic(ds, cfg.dedup_threshold, seed=cfg.seed, invalid="keep",
                                              return_report=True)
            info = dedup_report.to_dict()
        # near-duplicate removal can drop human rows and so raise the synthetic share: enforce it again
        kept, requota = enforce_quota(ds, config=cfg.quota_config(), return_report=True)
        return kept, {**info, "quota_again": requota.to_dict(), "strata": requota.after}
    if step == "resample":
        qcfg = cfg.quota_config()
        strata = _row_strata(ds, cfg)
        # rows that cannot be embedded (no text) cannot be drawn (invalid="drop"): plan over the others only
        usable = row_features(ds, EMBEDDING_COLUMN)[1]
        planned = ds if usable.all() else ds.select(np.flatnonzero(usable))
        plan = plan_sample(_strata_counts(_strata(planned, cfg)), cfg.resample, qcfg)
        sizes = {f"{group}\x1f{CLASS_NAMES[c]}": k for (group, c), k in plan.items() if k}
        kept, resample_report = resample_tails(ds, cfg.resample, invalid="drop", id_column=cfg.id_column,
                                               text_column=cfg.text_column, seed=cfg.seed, return_report=True,
                                               strata=strata, stratum_sizes=sizes)
        return kept, {**resample_report.to_dict(), "requested": cfg.resample,
                      "plan": {k.replace("\x1f", "/"): v for k, v in sizes.items()}}
    raise ValueError(f"unknown step {step!r}")  # pragma: no cover


def _strata(ds: datasets.Dataset, cfg: CleanConfig) -> dict[str, dict[str, int]]:
    """Rows per group and class (``{group: {"human": n, ...}}``) as the quota counts them."""
    return quota_report(ds, ds, cfg.max_synthetic, by=cfg.by, unknown=cfg.unknown, id_column=cfg.id_column,
                        text_column=cfg.text_column).before


def _row_strata(ds: datasets.Dataset, cfg: CleanConfig) -> list[str]:
    """Per row, ``"group\x1fclass"`` as :func:`plan_sample` keys it (class as the quota counts it)."""
    labels = ds[LABEL_COLUMN]
    groups = ds[cfg.by] if cfg.by else [None] * len(labels)
    names = []
    for group, label in zip(groups, labels):
        name = "all" if cfg.by is None else (NULL_GROUP if group is None or group != group else str(group))
        names.append(f"{name}\x1f{label if label in CLASS_NAMES else 'unknown'}")
    return names
