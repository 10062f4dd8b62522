"""Run recursive training: scenario x policies x seeds x generations, resumable.

Every (policy, seed) cell is independent and deterministic: its random numbers come
from ``numpy.random.default_rng([seed, generation, stream])``, the same across
policies (common random numbers), so policies are compared on the same real data.
Finished cells are appended to ``RUN_DIR/results.jsonl`` one line per generation; an
interrupted run started again with the same config skips finished cells and gives
exactly the rows an uninterrupted run gives: every (policy, seed, generation) once.
Resuming drops unreadable lines (a truncated last line), rows repeated by an earlier
run and the rows of unfinished cells, then reruns those cells whole. A lock file keeps
two runs from appending to the same folder at once.

Every result row also counts the real (non-synthetic) rows the policy read that
generation, reference and detector rows included, and the distinct real rows the cell has
read so far (:data:`REAL_ROW_FIELDS`, defined at
:meth:`~synthfilter.collapse.policies.Policy.real_budget`); :func:`real_budget` gives
their expected values without running.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..io import RunLock, atomic_write_text
from ._checks import check_int
from .config import RunConfig
from .policies import REAL_ROW_FIELDS, Policy, kept_real_rows, parse_policy
from .results import ROW_KEY, dedupe_rows, load_results
from .scenarios import make_scenario
from .steps import Pool, cell_rng, cell_seed, detector_filter, hash_subsample, keep_ids, row_ids, tail

__all__ = ["RunConfig", "run", "run_cell", "load_results", "dedupe_rows", "real_budget", "ROW_KEY", "REAL_ROW_FIELDS"]


def run_cell(cfg: RunConfig, policy_spec: str, seed: int) -> list[dict[str, Any]]:
    """Run one (policy, seed) cell; one metrics row per generation 0..G."""
    import synthfilter as sf

    cfg.validate()
    check_int(seed, ("seed",), "seed", 0, "a cell's random seed")
    scn = make_scenario(cfg.scenario, **cfg.options)
    policy: Policy = parse_policy(policy_spec).check_for(scn.n, scn.min_train_rows, scn.name)
    scn.setup(cell_rng(seed, 0, 0))
    n = scn.n
    real0 = Pool(scn.real(cell_rng(seed, 0, 1), n), np.zeros(n, bool), row_ids(0, n))
    model = scn.fit(real0.data, cell_rng(seed, 0, 2))
    rows = [{"policy": policy_spec, "seed": seed, "generation": 0, "train_rows": n, "synthetic_share": 0.0,
             **policy.real_budget(n, reference_size=cfg.reference_size, detector_fpr=cfg.detector_fpr, generation=0),
             **scn.evaluate(model, cell_rng(seed, 0, 3))}]
    for key in ("real_rows_max", "exact"):
        del rows[0][key]
    history: list[Pool] = []
    per_gen = 2 * n if policy.selects else n
    distinct = n  # distinct real rows read so far: generation 0's, then every fresh draw
    for gen in range(1, cfg.generations + 1):
        fresh = detector = 0  # real rows drawn new this generation; of them, the detector's
        if policy.base == "real-only":  # the control: no generated sample is ever drawn or used
            samples = Pool(real0.data[:0], np.ones(0, bool), row_ids(gen, 0))
        else:
            samples = Pool(scn.sample(model, per_gen, cell_rng(seed, gen, 1)), np.ones(per_gen, bool),
                            row_ids(gen, per_gen))
        history.append(samples)
        if policy.base == "real-only":
            pool = real0
        elif policy.base == "replace":
            pool = samples
        elif policy.base == "accumulate":
            pool = Pool.concat([real0] + history)
        elif policy.base == "accumulate-subsample":
            pool = hash_subsample(Pool.concat([real0] + history), n, cell_seed(seed, gen, 0))
        else:
            k_real = int(round(policy.base_fraction * n))
            if policy.base == "keep-real":  # a new hash-chosen subset each generation
                real_part = real0.take(kept_real_rows(real0.ids, k_real, seed, gen))
            elif policy.base == "keep-real-fixed":  # the same hash-chosen subset every generation
                real_part = real0.take(kept_real_rows(real0.ids, k_real, seed, None))
            else:
                real_part = Pool(scn.real(cell_rng(seed, gen, 4), k_real), np.zeros(k_real, bool),
                                  row_ids(gen, k_real) + 5_000_000)
                fresh += k_real
            gen_part = samples.take(np.arange(per_gen - k_real))
            pool = Pool.concat([real_part, gen_part])
        offered = int((~pool.synthetic).sum())
        # real rows read this generation: the pool's, and tail:ref's reference (generation 0's), each once
        read = np.union1d(pool.ids[~pool.synthetic], real0.ids if policy.reads_reference else real0.ids[:0])
        stats: dict[str, float] = {}
        for name, args in policy.steps:
            if name == "quota":
                ds = scn.to_dataset(pool.data, pool.synthetic, pool.ids)
                kept = sf.enforce_quota(ds, args[0], synthetic_column="is_synthetic", id_column="id")
                pool = keep_ids(pool, kept["id"])
            elif name == "filter":
                pool, det_stats, drawn = detector_filter(scn, pool, model, cfg, seed, gen, args)
                stats.update(det_stats)
                detector += drawn  # a fitted detector's known-real reference and calibration rows
            elif name == "tail":
                pool = tail(scn, pool, real0, n, args, cell_seed(seed, gen, 0))
            elif name == "select-likely":
                if len(pool) > n:
                    ll = scn.log_likelihood(model, pool.data)
                    pool = pool.take(np.sort(np.argsort(-ll, kind="stable")[:n]))
        if policy.base == "replace" and policy.selects and len(pool) > n:
            pool = hash_subsample(pool, n, cell_seed(seed, gen, 0))
        if len(pool) < scn.min_train_rows:
            raise ValueError(f"policy {policy_spec!r} (seed {seed}) left {len(pool)} training row(s) at generation "
                             f"{gen}; the {scn.name} model needs at least {scn.min_train_rows}: give the policy "
                             "more real data or a larger quota share, or raise option n")
        model = scn.fit(pool.data, cell_rng(seed, gen, 2))
        trained = int((~pool.synthetic).sum())
        distinct += fresh + detector
        rows.append({"policy": policy_spec, "seed": seed, "generation": gen, "train_rows": len(pool),
                     "synthetic_share": float(pool.synthetic.mean()), "real_rows": len(read) + detector,
                     "real_rows_offered": offered, "real_rows_trained": trained, "real_rows_detector": detector,
                     "real_rows_reference": n if policy.reads_reference else 0, "real_rows_fresh": fresh + detector,
                     "real_rows_distinct": distinct, **stats,
                     **scn.evaluate(model, cell_rng(seed, gen, 3))})
    return rows


def real_budget(policy: str | Policy, n: int | None = None, cfg: RunConfig | None = None,
                generation: int = 1) -> dict[str, Any]:
    """The real rows one generation of ``policy`` is expected to use, without running it.

    :meth:`Policy.real_budget <synthfilter.collapse.policies.Policy.real_budget>` with
    ``cfg``'s ``reference_size`` and ``detector_fpr`` (:class:`RunConfig`'s defaults when
    ``cfg`` is ``None``); ``n=None`` takes the generation size from ``cfg``'s scenario.
    For example, with n = 100 and the default config, ``keep-real:0.1`` reads 10 real rows a
    generation, ``quota:0.1`` and ``tail:ref`` 100 (``tail:ref`` reads all of generation 0's
    as its reference), ``fresh-real:0.1`` 10, all of them new, and ``filter`` 100 plus 400
    new known-real rows for its detector.
    """
    policy = parse_policy(policy) if isinstance(policy, str) else policy
    if n is None:
        if cfg is None:
            raise ValueError("real_budget needs the generation size n or a cfg whose scenario gives it")
        n = make_scenario(cfg.scenario, **cfg.options).n
    source = RunConfig if cfg is None else cfg  # the class holds the defaults
    return policy.real_budget(n, reference_size=source.reference_size, detector_fpr=source.detector_fpr,
                              generation=generation)


def _worker_init() -> None:
    """One BLAS/OpenMP thread per worker: the workers already use every core."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


def run(cfg: RunConfig, run_dir: str | os.PathLike, workers: int | None = None, progress: bool = True) -> Path:
    """Run (or resume) every missing (policy, seed) cell of ``cfg``, writing to ``run_dir``."""
    cfg.validate()
    if workers is not None:
        workers = check_int(workers, ("workers",), "workers", 1, "worker processes")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir):
        _run_locked(cfg, run_dir, workers or min(os.cpu_count() or 1, 2), progress)
    return run_dir


def _run_locked(cfg: RunConfig, run_dir: Path, workers: int, progress: bool) -> None:
    config_path = run_dir / "config.json"
    config = json.loads(json.dumps(asdict(cfg)))  # as it reads back from config.json (tuples become lists)
    if config_path.exists():
        try:
            old = json.loads(config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise ValueError(f"{config_path} is not valid JSON; remove the folder or use a new one") from None
        if old != config:
            raise ValueError(f"{run_dir} holds a run with a different config; use a new folder")
    else:
        atomic_write_text(config_path, json.dumps(config, indent=2) + "\n")
    results = run_dir / "results.jsonl"
    # the rows of this config's cells, each (policy, seed, generation) once (load_results drops
    # unreadable lines such as a truncated last line, and repeats)
    gens = set(range(cfg.generations + 1))
    cells = {(p, s) for p in cfg.policies for s in range(cfg.seeds)}
    existing = [r for r in load_results(run_dir) if (r["policy"], r["seed"]) in cells and r["generation"] in gens]
    done: dict[tuple[str, int], set[int]] = {}
    for row in existing:
        done.setdefault((row["policy"], row["seed"]), set()).add(row["generation"])
    todo = [(p, s) for p in dict.fromkeys(cfg.policies) for s in range(cfg.seeds) if done.get((p, s)) != gens]
    # keep only complete cells' rows, each once: unfinished cells rerun whole, new lines never join a
    # broken one, and no row that is kept is appended again
    keep = [r for r in existing if done[(r["policy"], r["seed"])] == gens]
    atomic_write_text(results, "".join(json.dumps(r) + "\n" for r in keep))
    bar = tqdm(total=len(todo), desc=f"collapse {cfg.scenario}", unit="cell", disable=not progress)
    with open(results, "a", encoding="utf-8") as out:
        def write(rows: list[dict[str, Any]]) -> None:
            out.write("".join(json.dumps(r) + "\n" for r in rows))
            out.flush()
            bar.update(1)
        if workers <= 1 or len(todo) <= 1:
            for p, s in todo:
                write(run_cell(cfg, p, s))
        else:
            # spawn, not fork: forking after BLAS/OpenMP threads exist can deadlock
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init) as pool:
                futures = [pool.submit(run_cell, cfg, p, s) for p, s in todo]
                for fut in as_completed(futures):
                    write(fut.result())
    bar.close()
