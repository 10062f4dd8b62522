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
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import datasets
import numpy as np
from tqdm.auto import tqdm

from .dedup import dedup_semantic
from .diversity import resample_tails
from .embed import EMBEDDING_COLUMN, Embedder
from .io import input_files, read_dataset
from .quota import enforce_quota
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
        return enforce_quota(ds, self.cfg.max_synthetic, by=self.cfg.by, unknown=self.cfg.unknown,
                             id_column=self.cfg.id_column, text_column=self.cfg.text_column, seed=self.cfg.seed,
                             return_report=True)

    def embed(self, ds: datasets.Dataset) -> datasets.Dataset:
        embedder = Embedder(text_column=self.cfg.text_column, model=self.cfg.embedder)
        return ds.map(embedder, batched=True, batch_size=self.cfg.batch_size, num_proc=_procs(self.cfg, ds),
                      desc="clean: embed")

    def to_local(self, ds: datasets.Dataset) -> datasets.Dataset:
        return ds


def _procs(cfg: CleanConfig, ds: datasets.Dataset) -> int | None:
    return cfg.workers if cfg.workers > 1 and ds.num_rows >= 2 * cfg.batch_size else None


class _RayEngine(_LocalEngine):
    def __init__(self, cfg: CleanConfig) -> None:
        super().__init__(cfg)
        from .integrations import ray as sfr

        ray = sfr.require_ray()
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):  # join an existing cluster
                ray.init(log_to_driver=False)
            else:
                ray.init(num_cpus=max(cfg.workers, 1), include_dashboard=False, log_to_driver=False)
        self.ray, self.sfr = ray, sfr

    def read(self, path: Path) -> Any:
        return self.ray.data.read_parquet(sorted(str(p) for p in path.glob("*.parquet")))

    def load_input(self, path: Path) -> Any:
        files = input_files(path)
        if files[0].suffix == ".parquet":
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
        return self.sfr.enforce_quota(ds, self.cfg.max_synthetic, by=self.cfg.by, unknown=self.cfg.unknown,
                                      id_column=self.cfg.id_column, text_column=self.cfg.text_column,
                                      seed=self.cfg.seed, return_report=True)

    def embed(self, ds: Any) -> Any:
        with self.sfr._ordered():
            return self.sfr.embed(ds, text_column=self.cfg.text_column, model=self.cfg.embedder,
                                  concurrency=self.cfg.workers, batch_size=self.cfg.batch_size).materialize()


# --------------------------------------------------------------------------- the run
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


def _fingerprints(path: Path) -> list[dict[str, Any]]:
    out = []
    for file in input_files(path):
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        out.append({"path": str(file), "bytes": file.stat().st_size, "sha256": digest.hexdigest()})
    return out


def _label_counts(ds: Any) -> dict[str, int]:
    labels = ds.select_columns([LABEL_COLUMN]).with_format("numpy")[LABEL_COLUMN]
    values, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts)}


def clean(input_path: str | os.PathLike, output_dir: str | os.PathLike, config: CleanConfig, *,
          progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the pipeline; returns the report that is written to ``OUT/report.json``.

    ``input_path`` is a JSONL or Parquet file or a folder of them. ``output_dir`` holds
    the step outputs, the final ``output.jsonl``/``output.parquet``, the report and the
    manifest. A previous run into the same folder with a different configuration or
    input is refused (``ValueError``) rather than mixed; delete the folder to start over.
    """
    input_path, out = Path(input_path), Path(output_dir)
    files = input_files(input_path)
    fmt = "parquet" if files[0].suffix == ".parquet" else "jsonl"
    manifest = {"config": asdict(config), "config_fingerprint": config.fingerprint(), "seed": config.seed,
                "steps": list(STEPS), "input": str(input_path), "input_fingerprints": _fingerprints(input_path),
                "versions": _versions(config.engine)}
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "manifest.json"
    if previous.exists():
        old = json.loads(previous.read_text())
        if (old.get("config_fingerprint"), old.get("input_fingerprints")) != (manifest["config_fingerprint"],
                                                                                manifest["input_fingerprints"]):
            raise ValueError(f"{out}: holds a run with another configuration or input; choose a new folder or delete it")
    previous.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    local = _LocalEngine(config)
    engine = _RayEngine(config) if config.engine == "ray" else local
    report: dict[str, Any] = {"engine": config.engine, "steps": {}}
    last: Path | None = None
    bar = tqdm(STEPS, desc="clean", unit="step", disable=not progress)
    for n, step in enumerate(bar, start=1):
        bar.set_postfix_str(step)
        folder = out / "steps" / f"{n}-{step}"
        if (folder / "_SUCCESS").exists():
            report["steps"][step] = {**json.loads((folder / "report.json").read_text()), "resumed": True}
            last = folder
            continue
        runner = local if step in DRIVER_STEPS else engine
        ds = runner.load_input(input_path) if last is None else runner.read(last)
        ds, step_report = _run_step(step, ds, runner, config)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        step_report["rows_out"] = runner.write(ds, folder)
        (folder / "report.json").write_text(json.dumps(step_report, indent=2, default=str) + "\n")
        (folder / "_SUCCESS").touch()
        report["steps"][step] = step_report
        last = folder
        del ds
    final = _LocalEngine(config).read(last)
    report["realised_mix"] = _label_counts(final)
    total = sum(report["realised_mix"].values())
    report["realised_synthetic_share"] = round(report["realised_mix"].get("synthetic", 0) / total, 6) if total else 0.0
    report["rows_in"] = report["steps"]["tag"]["rows_out"]
    report["rows_out"] = final.num_rows
    if not config.keep_embeddings and EMBEDDING_COLUMN in final.column_names:
        final = final.remove_columns(EMBEDDING_COLUMN)
    target = out / f"output.{fmt}"
    if fmt == "parquet":
        final.to_parquet(str(target))
    else:
        final.to_json(str(target), lines=True)
    report["output"] = str(target)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report


def _run_step(step: str, ds: Any, engine: _LocalEngine, cfg: CleanConfig) -> tuple[Any, dict[str, Any]]:
    if step == "tag":
        tagged = engine.tag(ds)
        return tagged, {"labels": _label_counts_any(tagged)}
    if step == "quota":
        kept, quota_report = engine.quota(ds)
        return kept, quota_report.to_dict()
    if step == "embed":
        return engine.embed(ds), {"model": cfg.embedder}
    if step == "dedup":
        if cfg.dedup_threshold is None:
            return ds, {"skipped": True}
        kept, dedup_report = dedup_semantic(ds, cfg.dedup_threshold, seed=cfg.seed, invalid="keep",
                                            return_report=True)
        return kept, dedup_report.to_dict()
    if step == "resample":
        size = min(cfg.resample, ds.num_rows)
        if size == 0:
            return ds, {"skipped": True, "reason": "no rows left"}
        kept, resample_report = resample_tails(ds, size, invalid="drop", id_column=cfg.id_column,
                                               text_column=cfg.text_column, seed=cfg.seed, return_report=True)
        return kept, {**resample_report.to_dict(), "requested": cfg.resample}
    raise ValueError(f"unknown step {step!r}")  # pragma: no cover


def _label_counts_any(ds: Any) -> dict[str, int]:
    if isinstance(ds, datasets.Dataset):
        return _label_counts(ds)
    counts: dict[str, int] = {}
    for batch in ds.select_columns([LABEL_COLUMN]).iter_batches(batch_format="pyarrow", batch_size=None):
        values, n = np.unique(np.asarray(batch.column(LABEL_COLUMN).to_pylist(), dtype=str), return_counts=True)
        for v, c in zip(values, n):
            counts[str(v)] = counts.get(str(v), 0) + int(c)
    return counts
