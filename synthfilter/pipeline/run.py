"""Run (or resume) ``clean``: the steps in order, each written, checked and reusable.

Each step reads the previous step's output and writes its own to
``OUT/steps/<n>-<step>/`` (Parquet) with its report, checksums, a fingerprint of the
input and of the options it depends on, and a ``_SUCCESS`` marker; a rerun reuses every
valid step and recomputes from the first one that is missing, changed or configured
differently. The final rows go to ``OUT/output.jsonl`` or ``OUT/output.parquet``, with
``OUT/report.json`` and ``OUT/manifest.json``. Steps run on the engine the configuration
names (:mod:`synthfilter.engines`); those that need every row in one place run on the
driver, so both engines give the same output for the same input and seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import warnings
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import datasets
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from ..columns import EMBEDDING, LABEL
from ..engines import LocalEngine, make_engine
from ..engines.base import Engine
from ..io import (RunLock, atomic_write_text, check_output, data_format, input_files, input_fingerprints, read_dataset,
                  recorded_files, sha256_file, verify_checksums, write_checksums, write_dataset)
from .config import CleanConfig
from .audit import reasons_of
from .html_report import write_html_report
from ..io.read import datasets_progress
from ..io.write import naming
from .outdir import check_out_folder, owned, remove_leftovers
from .steps import STEPS

__all__ = ["clean"]


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
        fields.update({name: getattr(config, name) for name in step.fields})
        blob = json.dumps({"inputs": [(f["sha256"], f["bytes"]) for f in inputs], "config": fields},
                          sort_keys=True, default=str)
        out[step.name] = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return out


def _written_label_counts(folder: Path) -> dict[str, int]:
    """Rows per ``sf_label`` value in the Parquet files an engine wrote to ``folder`` (the label column only)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for path in sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_"))):
        column = pq.read_table(path, columns=[LABEL.name]).column(LABEL.name)
        for item in pc.value_counts(pc.fill_null(column.cast(pa.string()), "None")).to_pylist():
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return dict(sorted(counts.items()))


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
          progress: bool = True, command: str | None = None) -> dict[str, Any]:
    """Run (or resume) the pipeline; returns the report that is written to ``OUT/report.json``.

    ``input_path`` is a data file or a folder of them (see :func:`synthfilter.io.read_dataset`).
    ``output_dir`` holds the step outputs, the final ``output.jsonl``/``output.parquet``,
    the report and the manifest; it may not be the input, inside it or contain it, and a
    second run into it while one runs is refused. A rerun reuses every completed step
    whose input and configuration are unchanged and whose files pass their checksums; a
    changed or truncated step file is recomputed, never used. ``command`` (the command line
    that started the run, if any) is recorded in the manifest and shown in ``report.html``.

    Every input row ends in the output (with ``sf_row``, its input position, and
    ``sf_copies``) or in ``OUT/dropped/`` with ``sf_drop_reason``; ``OUT/report.html`` is a
    self-contained page of the run.

    The output meets every target by its own labels: at most ``max_synthetic`` synthetic
    (per group with ``by``) after every step, and exactly ``resample`` rows. A target that
    cannot be met raises ``ValueError`` as soon as it is known: before any work when the
    input is too small, right after the quota (before embedding) otherwise.
    """
    input_path, out = Path(input_path), Path(output_dir)
    check_output([input_path, config.reference, config.ai_reference], out)
    check_out_folder(out)
    files = input_files(input_path)
    fmt = "parquet" if all(data_format(p)[0] == "parquet" for p in files) else "jsonl"
    with datasets_progress(False):  # clean shows one bar per step, none of datasets' own
        rows_in = read_dataset(input_path).num_rows
    if config.resample > rows_in:
        raise ValueError(f"--resample {config.resample} but the input has only {rows_in} rows")
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        check_out_folder(out)  # again, holding the lock
        remove_leftovers(out)
        inputs = input_fingerprints(input_path)
        fingerprints = _step_fingerprints(config, inputs)
        manifest = {"config": asdict(config), "config_fingerprint": config.fingerprint(), "seed": config.seed,
                    "steps": [s.name for s in STEPS], "step_fingerprints": fingerprints, "input": str(input_path),
                    "input_fingerprints": inputs, "versions": _versions(config.engine), "command": command}
        atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
        with datasets_progress(False):
            return _run(input_path, out, config, fingerprints, fmt, progress)


def _run(input_path: Path, out: Path, config: CleanConfig, fingerprints: dict[str, str], fmt: str,
         progress: bool) -> dict[str, Any]:
    local = LocalEngine(workers=config.workers, batch_size=config.batch_size)
    engine = make_engine(config.engine, config.workers, config.batch_size, config.verbose) \
        if config.engine != "local" else local
    report: dict[str, Any] = {"engine": config.engine, "steps": {}}
    last: Path | None = None
    reuse = True
    for n, step in enumerate(STEPS, start=1):
        with tqdm(total=1, desc=f"clean {n}/{len(STEPS)} {step.name}", unit="step", disable=not progress,
                  bar_format="{desc}: {bar} {elapsed}{postfix}") as bar:
            last, reuse = _step(n, step, last, reuse, out, input_path, config, fingerprints, local, engine, report)
            rows = report["steps"][step.name].get("rows_out")
            resumed = " (resumed)" if report["steps"][step.name].get("resumed") else ""
            bar.set_postfix_str(f"{rows} rows{resumed}" if rows is not None else resumed.strip())
            bar.update(1)
    final = local.read(last)
    report["realised_mix"] = report["steps"][STEPS[-1].name]["labels"]
    report["realised_synthetic_share"] = _share(report["realised_mix"], config.unknown)
    report["synthetic_share_after"] = {s: r["synthetic_share"] for s, r in report["steps"].items()}
    report["rows_in"] = report["steps"]["tag"]["rows_out"]
    report["rows_out"] = final.num_rows
    report["quota_basis"] = report["steps"]["quota"]["basis"]
    report["notes"] = list(dict.fromkeys(n for step in ("quota", "dedup") for n in _notes(report["steps"][step])))
    if config.reference is not None or report["quota_basis"] == "estimated":
        report["estimated_synthetic_share"] = _estimates(local.read(out / "steps" / f"2-{STEPS[1].name}"), final, config,
                                                         report["steps"])
    if not config.keep_embeddings and EMBEDDING.name in final.column_names:
        final = final.remove_columns(EMBEDDING.name)
    report["dropped"] = _gather_dropped(out, fmt, report)
    report["output_files"] = _write_output(final, out, fmt, config.shard_size)
    report["output"] = report["output_files"][0]["path"] if len(report["output_files"]) == 1 else str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["output"] = {"rows": final.num_rows, "files": report["output_files"], "dropped": report["dropped"]}
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    report["html_report"] = str(write_html_report(out, report, local.read(out / "steps" / f"1-{STEPS[0].name}"),
                                                  by=config.by))
    return report


def _step(n: int, step: Any, last: Path | None, reuse: bool, out: Path, input_path: Path, config: CleanConfig,
          fingerprints: dict[str, str], local: Any, engine: Any, report: dict[str, Any]) -> tuple[Path, bool]:
    """Run (or resume) step ``n``; return its folder and whether later steps may still be resumed."""
    folder = out / "steps" / f"{n}-{step.name}"
    why = _valid_step(folder, fingerprints[step.name]) if reuse else "an earlier step was recomputed"
    if why is None:
        report["steps"][step.name] = {**json.loads((folder / "report.json").read_text()), "resumed": True}
        step.check(report["steps"][step.name], config)
        return folder, reuse
    if reuse and why != "not completed" and folder.exists():
        warnings.warn(f"clean: step folder {folder} {why}; recomputing it and every later step", stacklevel=4)
    runner = local if step.on_driver else engine
    data = runner.load(input_path) if last is None else runner.read(last)
    started = time.perf_counter()
    data, step_report, *dropped = _run_step(step, data, runner, config, report["steps"])
    step_report["fingerprint"] = fingerprints[step.name]
    _write_step(runner, data, folder, step_report, config, dropped[0] if dropped else None, started)
    report["steps"][step.name] = step_report
    del data
    step.check(step_report, config)
    return folder, False


def _write_output(final: Any, out: Path, fmt: str, shard_size: int | None) -> list[dict[str, Any]]:
    """Write the output (``output.<fmt>``, or ``output-00000-of-000NN.<fmt>`` shards of at most
    ``shard_size`` rows); stale outputs of an earlier run are removed first. Returns what was written."""
    for name in os.listdir(out):
        if name.startswith("output") and owned(name):
            (out / name).unlink()
    if shard_size is None:
        parts = [(out / f"output.{fmt}", final)]
    else:
        n = max(1, -(-final.num_rows // shard_size))
        parts = [(out / f"output-{i:05d}-of-{n:05d}.{fmt}", final.select(range(i * shard_size,
                                                                             min((i + 1) * shard_size, final.num_rows))))
                 for i in range(n)]
    files = []
    for path, part in parts:
        write_dataset(part, path)
        files.append({"path": str(path), "rows": part.num_rows, "bytes": path.stat().st_size,
                      "sha256": sha256_file(path)})
    return files


def _gather_dropped(out: Path, fmt: str, report: dict[str, Any]) -> dict[str, Any]:
    """Copy each step's dropped rows to ``OUT/dropped/<n>-<step>.<fmt>``; rows per step and reason."""
    target = out / "dropped"
    if target.is_dir():
        for name in os.listdir(target):
            if owned(name, "dropped"):
                (target / name).unlink()
    summary: dict[str, Any] = {}
    for n, step in enumerate(STEPS, start=1):
        folder = out / "steps" / f"{n}-{step.name}"
        if not (folder / "dropped").is_dir():
            continue
        files = [f for f in recorded_files(folder, ".parquet") if f.parent.name == "dropped"]
        tables = [pq.read_table(f) for f in files]
        rows = sum(t.num_rows for t in tables)
        summary[step.name] = {"rows": rows, "reasons": reasons_of(tables)}
        if rows:  # (an engine may write no file for no rows)
            target.mkdir(exist_ok=True)
            table = pa.concat_tables(tables, promote_options="permissive")
            if EMBEDDING.name in table.column_names:
                table = table.drop_columns([EMBEDDING.name])
            write_dataset(datasets.Dataset(datasets.table.InMemoryTable(table)), target / f"{n}-{step.name}.{fmt}")
    return summary


def _notes(step_report: dict[str, Any]) -> list[str]:
    """The notes of a quota pass in a step report (the dedup step's second pass is under ``quota_again``)."""
    return list(step_report.get("notes") or []) + list((step_report.get("quota_again") or {}).get("notes") or [])


def _estimates(labelled: Any, final: Any, config: CleanConfig, steps: dict[str, Any]) -> dict[str, Any]:
    """The estimated true synthetic share of the input, and what can be said of the output's, beside the label counts.

    On the estimated basis, ``after`` is the quota's certified share of what it kept (measured
    on the half of the rows that did not choose its cut), carried through near-duplicate
    removal (:class:`~synthfilter.pipeline.steps.DedupStep`); tail resampling then draws
    known-human and other rows, and each label, in the proportions the quota left. On the
    labels basis with a reference, ``after`` is the output's estimate.
    """
    from ..quota import estimate_share

    options = dict(ai_reference=config.ai_reference, by=config.by, confidence=config.confidence, seed=config.seed,
                   text_column=config.text_column, detector=config.detector, provenance=config.provenance,
                   id_column=config.id_column)
    before = estimate_share(labelled, config.reference, **options)
    out: dict[str, Any] = {"before": before.to_dict(), "before_text": before.describe()}
    if steps["quota"]["basis"] == "estimated":
        last = steps["dedup"]["quota_again"]
        after = last["estimated_share_after"]
        out["after"] = after
        out["after_text"] = (f"the quota's output held to at most {100 * after['high']:.0f}% by a certified cut "
                             f"(estimate {100 * after['share']:.1f}%, measured on the half of the rows that did not "
                             "choose the cut; it holds where the lowest-scoring rows are human)")
    else:
        after = estimate_share(final, config.reference, **options)
        out.update(after=after.to_dict(), after_text=after.describe())
    return out


def _run_step(step: Any, data: Any, engine: Engine, cfg: CleanConfig,
              earlier: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The step's output, report and (for a dropping step) dropped rows; a seam for tests."""
    return step.run(data, engine, cfg, earlier)


def _write_step(runner: Engine, data: Any, folder: Path, step_report: dict[str, Any], config: CleanConfig,
                dropped: Any = None, started: float | None = None) -> None:
    """Write a step's rows (and the rows it dropped, into ``dropped/``), report, checksums and
    ``_SUCCESS`` into a temporary folder, then rename it.

    The label counts are read back from the written files: on a lazy engine (Ray), counting
    ``data`` itself would run the step a second time.
    """
    tmp = folder.with_name(f".tmp-{folder.name}")
    for stale in (tmp, folder):
        if stale.exists():
            shutil.rmtree(stale)
    try:
        with naming(folder):
            tmp.mkdir(parents=True)
            step_report["rows_out"] = runner.write(data, tmp)
            step_report["labels"] = _written_label_counts(tmp)
            if dropped is not None:
                (tmp / "dropped").mkdir()
                step_report["dropped_rows"] = runner.write(dropped, tmp / "dropped")
            if started is not None:  # on a lazy engine the work happens while writing
                step_report["seconds"] = round(time.perf_counter() - started, 3)
            step_report["synthetic_share"] = _share(step_report["labels"], config.unknown)
            (tmp / "report.json").write_text(json.dumps(step_report, indent=2, default=str) + "\n")
            write_checksums(tmp)  # every file, dropped/ included
            (tmp / "_SUCCESS").touch()
            os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk: give the space back
        raise
