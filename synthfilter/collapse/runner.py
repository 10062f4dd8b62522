"""Run recursive training: scenario x policies x seeds x generations, resumable.

Every (policy, seed) cell is independent and deterministic: its random numbers come
from ``numpy.random.default_rng([seed, generation, stream])``, the same across
policies (common random numbers), so policies are compared on the same real data.
Finished cells are appended to ``RUN_DIR/results.jsonl`` one line per generation; an
interrupted run started again with the same config skips finished cells and gives
exactly the rows an uninterrupted run gives.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..hashing import hash_keys
from .policies import Policy, parse_policy
from .scenarios import Scenario, make_scenario

__all__ = ["RunConfig", "run", "run_cell", "load_results"]


@dataclass
class RunConfig:
    """What to run.

    Parameters
    ----------
    scenario:
        Scenario name (``gaussian``, ``gmm``, ``linreg``, ``categorical``, ``digits``, ``text``).
    policies:
        Policy specs (see :mod:`synthfilter.collapse.policies`).
    generations:
        Generations after the initial fit on real data (>= 1). Default 10.
    seeds:
        Independent repetitions per policy (>= 1). Default 20.
    options:
        Scenario options, for example ``{"n": 100, "dim": 1}``.
    reference_size:
        Known-real samples the ``filter`` detector may use each generation. Default 200.
    detector_fpr:
        False-positive rate the ``filter`` detector is calibrated to. Default 0.05.
    """

    scenario: str
    policies: list[str]
    generations: int = 10
    seeds: int = 20
    options: dict[str, Any] = field(default_factory=dict)
    reference_size: int = 200
    detector_fpr: float = 0.05

    def validate(self) -> "RunConfig":
        make_scenario(self.scenario, **self.options)
        if not self.policies:
            raise ValueError("policies: give at least one policy")
        for spec in self.policies:
            parse_policy(spec)
        if not isinstance(self.generations, int) or self.generations < 1:
            raise ValueError(f"generations must be a positive integer, got {self.generations!r}")
        if not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds must be a positive integer, got {self.seeds!r}")
        if not 0.0 < self.detector_fpr < 1.0:
            raise ValueError(f"detector_fpr must be in (0, 1), got {self.detector_fpr!r}")
        return self


def _rng(seed: int, generation: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, generation, stream])


class _Pool:
    """Candidate rows with provenance: data, is_synthetic flags and unique integer ids."""

    def __init__(self, data: np.ndarray, synthetic: np.ndarray, ids: np.ndarray) -> None:
        self.data, self.synthetic, self.ids = data, synthetic.astype(bool), ids.astype(np.int64)

    @staticmethod
    def concat(pools: list["_Pool"]) -> "_Pool":
        return _Pool(np.concatenate([p.data for p in pools]), np.concatenate([p.synthetic for p in pools]),
                     np.concatenate([p.ids for p in pools]))

    def take(self, index: np.ndarray) -> "_Pool":
        index = np.asarray(index, dtype=np.int64)
        return _Pool(self.data[index], self.synthetic[index], self.ids[index])

    def __len__(self) -> int:
        return len(self.data)


def _ids(generation: int, n: int) -> np.ndarray:
    return generation * 10_000_000 + np.arange(n, dtype=np.int64)


def _kept(pool: _Pool, ids) -> _Pool:
    """The rows of ``pool`` whose id is in ``ids`` (a transform's output), in pool order."""
    return pool.take(np.flatnonzero(np.isin(pool.ids, np.asarray(ids, dtype=np.int64))))


def _hash_subsample(pool: _Pool, n: int, seed: int) -> _Pool:
    if len(pool) <= n:
        return pool
    keep = np.sort(np.argsort(hash_keys(pool.ids, seed), kind="stable")[:n])
    return pool.take(keep)


def _detector_filter(scn: Scenario, pool: _Pool, model: Any, cfg: RunConfig, seed: int, gen: int,
                     args: tuple) -> tuple[_Pool, dict[str, float]]:
    """Drop rows a detector labels synthetic; returns the survivors and the detector's TPR/FPR on the pool."""
    import synthfilter as sf

    if args:  # simulated detector with given rates, decided per row by hash
        tpr, fpr = args
        u = hash_keys(pool.ids, seed * 7919 + gen) / 2.0**64
        flagged = np.where(pool.synthetic, u < tpr, u < fpr)
    else:
        rng = _rng(seed, gen, 5)
        known_real = scn.real(rng, cfg.reference_size)
        calib_real = scn.real(rng, max(cfg.reference_size, int(np.ceil(1 / cfg.detector_fpr))))
        generated = scn.sample(model, cfg.reference_size, rng)
        ds = scn.to_dataset(pool.data, pool.synthetic, pool.ids)
        if scn.name == "text":
            det = sf.load_detector("fast", fitted=False).set_params(n_features=2**16)
            det.fit([str(t) for t in known_real] + [str(t) for t in generated],
                    ["human"] * len(known_real) + ["ai"] * len(generated))
            det.calibrate([str(t) for t in calib_real], target_fpr=cfg.detector_fpr)
            tagged = ds.map(sf.Tagger(detector=det), batched=True, batch_size=1000)
        else:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import PolynomialFeatures, StandardScaler
            X = np.vstack([scn.features(known_real), scn.features(generated)])
            # the log density ratio of two Gaussians is quadratic: give low-dimensional data quadratic terms
            degree = 2 if X.shape[1] <= 20 else 1
            clf = make_pipeline(StandardScaler(), PolynomialFeatures(degree), LogisticRegression(C=1.0, max_iter=2000))
            clf.fit(X, np.r_[np.zeros(len(known_real)), np.ones(len(generated))])
            threshold = np.quantile(clf.predict_proba(scn.features(calib_real))[:, 1], 1 - cfg.detector_fpr)
            scores = clf.predict_proba(scn.features(pool.data))[:, 1]
            tagged = ds.add_column("sf_label", np.where(scores > threshold, "synthetic", "human").tolist())
        kept = sf.enforce_quota(tagged, 0.0, id_column="id")  # at most 0% synthetic: drop every flagged row
        flagged = ~np.isin(pool.ids, np.asarray(kept["id"], dtype=np.int64))
    stats = {"detector_tpr": float(flagged[pool.synthetic].mean()) if pool.synthetic.any() else float("nan"),
             "detector_fpr": float(flagged[~pool.synthetic].mean()) if (~pool.synthetic).any() else float("nan")}
    survivors = pool.take(np.flatnonzero(~flagged))
    if len(survivors) < 10:  # a model cannot be fitted on nothing: keep the least suspicious rows by hash
        survivors = _hash_subsample(pool, 10, seed)
    return survivors, stats


def _tail(scn: Scenario, pool: _Pool, real: _Pool, size: int, args: tuple, seed: int) -> _Pool:
    import synthfilter as sf

    if len(pool) <= size:
        return pool
    if scn.name == "categorical":
        ds = scn.to_dataset(pool.data, pool.synthetic, pool.ids)
        if "ref" in args:
            ref_counts = np.bincount(real.data.astype(np.int64), minlength=scn.categories)
            present = set(np.unique(pool.data.astype(np.int64)).tolist())
            target = {c: float(ref_counts[c]) for c in present if ref_counts[c] > 0} or None
            out = sf.resample_tails(ds, size, by="category", target=target, id_column="id", seed=seed)
        else:
            out = sf.resample_tails(ds, size, by="category", id_column="id", seed=seed)
    else:
        def embed(p: _Pool):
            ds = scn.to_dataset(p.data, p.synthetic, p.ids)
            return ds.add_column("sf_embedding", scn.features(p.data).astype(np.float32).tolist()) \
                if scn.name in ("text", "linreg") else ds
        ds = embed(pool)
        kwargs: dict[str, Any] = {}
        if scn.name not in ("text", "linreg"):
            kwargs["feature_columns"] = scn.feature_names(pool.data)
        if "ref" in args:
            kwargs["reference"] = embed(real)
        out = sf.resample_tails(ds, size, id_column="id", seed=seed, **kwargs)
    return _kept(pool, out["id"])


def run_cell(cfg: RunConfig, policy_spec: str, seed: int) -> list[dict[str, Any]]:
    """Run one (policy, seed) cell; one metrics row per generation 0..G."""
    import synthfilter as sf

    scn = make_scenario(cfg.scenario, **cfg.options)
    policy: Policy = parse_policy(policy_spec)
    scn.setup(_rng(seed, 0, 0))
    n = scn.n
    real0 = _Pool(scn.real(_rng(seed, 0, 1), n), np.zeros(n, bool), _ids(0, n))
    model = scn.fit(real0.data, _rng(seed, 0, 2))
    rows = [{"policy": policy_spec, "seed": seed, "generation": 0, "train_rows": n, "synthetic_share": 0.0,
             **scn.evaluate(model, _rng(seed, 0, 3))}]
    history: list[_Pool] = []
    per_gen = 2 * n if policy.selects else n
    for gen in range(1, cfg.generations + 1):
        samples = _Pool(scn.sample(model, per_gen, _rng(seed, gen, 1)), np.ones(per_gen, bool), _ids(gen, per_gen))
        history.append(samples)
        if policy.base == "replace":
            pool = samples
        elif policy.base == "accumulate":
            pool = _Pool.concat([real0] + history)
        elif policy.base == "accumulate-subsample":
            pool = _hash_subsample(_Pool.concat([real0] + history), n, seed + gen)
        else:
            k_real = int(round(policy.base_fraction * n))
            if policy.base == "keep-real":
                real_part = real0.take(np.arange(k_real))
            else:
                real_part = _Pool(scn.real(_rng(seed, gen, 4), k_real), np.zeros(k_real, bool),
                                  _ids(gen, k_real) + 5_000_000)
            gen_part = samples.take(np.arange(per_gen - k_real))
            pool = _Pool.concat([real_part, gen_part])
        stats: dict[str, float] = {}
        for name, args in policy.steps:
            if name == "quota":
                ds = scn.to_dataset(pool.data, pool.synthetic, pool.ids)
                kept = sf.enforce_quota(ds, args[0], synthetic_column="is_synthetic", id_column="id")
                pool = _kept(pool, kept["id"])
            elif name == "filter":
                pool, det_stats = _detector_filter(scn, pool, model, cfg, seed, gen, args)
                stats.update(det_stats)
            elif name == "tail":
                pool = _tail(scn, pool, real0, n, args, seed + gen)
            elif name == "select-likely":
                if len(pool) > n:
                    ll = scn.log_likelihood(model, pool.data)
                    pool = pool.take(np.sort(np.argsort(-ll, kind="stable")[:n]))
        if policy.base == "replace" and policy.selects and len(pool) > n:
            pool = _hash_subsample(pool, n, seed + gen)
        model = scn.fit(pool.data, _rng(seed, gen, 2))
        rows.append({"policy": policy_spec, "seed": seed, "generation": gen, "train_rows": len(pool),
                     "synthetic_share": float(pool.synthetic.mean()), **stats,
                     **scn.evaluate(model, _rng(seed, gen, 3))})
    return rows


def _worker_init() -> None:
    """One BLAS/OpenMP thread per worker: the workers already use every core."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


def load_results(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every row of ``RUN_DIR/results.jsonl`` (a truncated last line is ignored)."""
    path = Path(run_dir) / "results.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def run(cfg: RunConfig, run_dir: str | os.PathLike, workers: int | None = None, progress: bool = True) -> Path:
    """Run (or resume) every missing (policy, seed) cell of ``cfg``, writing to ``run_dir``."""
    cfg.validate()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / "config.json"
    config = asdict(cfg)
    if config_path.exists():
        old = json.loads(config_path.read_text())
        if old != config:
            raise ValueError(f"{run_dir} holds a run with a different config; use a new folder")
    else:
        config_path.write_text(json.dumps(config, indent=2) + "\n")
    done: dict[tuple[str, int], set[int]] = {}
    existing = load_results(run_dir)
    for row in existing:
        done.setdefault((row["policy"], row["seed"]), set()).add(row["generation"])
    full = set(range(cfg.generations + 1))
    todo = [(p, s) for p in cfg.policies for s in range(cfg.seeds) if done.get((p, s), set()) != full]
    # an interrupted run can leave a truncated last line and unfinished cells: keep only the
    # complete cells' rows, so new lines never join a broken one and unfinished cells rerun whole
    keep = [r for r in existing if done[(r["policy"], r["seed"])] == full]
    (run_dir / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
    workers = workers or min(os.cpu_count() or 1, 2)
    bar = tqdm(total=len(todo), desc=f"collapse {cfg.scenario}", unit="cell", disable=not progress)
    with open(run_dir / "results.jsonl", "a", encoding="utf-8") as out:
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
    return run_dir
