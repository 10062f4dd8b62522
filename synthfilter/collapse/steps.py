"""The candidate pool of a generation and the policy steps that choose from it with the library's transforms.

A :class:`Pool` holds candidate rows with their provenance (``is_synthetic``) and unique
integer ids; the steps (:func:`detector_filter`, :func:`tail`) turn it into a real
``datasets.Dataset``, call ``synthfilter``'s public functions (``enforce_quota``,
``Tagger``, ``resample_tails``) and keep the rows whose ids come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..columns import EMBEDDING, LABEL
from ..hashing import hash_keys
from .scenarios import Scenario

if TYPE_CHECKING:
    from .config import RunConfig

__all__ = ["Pool", "cell_rng", "cell_seed", "row_ids", "keep_ids", "hash_subsample", "detector_filter", "tail"]


def cell_rng(seed: int, generation: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, generation, stream])


def cell_seed(seed: int, generation: int, stream: int) -> int:
    """One 32-bit hash seed per (seed, generation, stream), without collisions such as seed + generation has."""
    return int(np.random.SeedSequence([seed, generation, stream]).generate_state(1)[0])


class Pool:
    """Candidate rows with provenance: data, is_synthetic flags and unique integer ids."""

    def __init__(self, data: np.ndarray, synthetic: np.ndarray, ids: np.ndarray) -> None:
        self.data, self.synthetic, self.ids = data, synthetic.astype(bool), ids.astype(np.int64)

    @staticmethod
    def concat(pools: list["Pool"]) -> "Pool":
        return Pool(np.concatenate([p.data for p in pools]), np.concatenate([p.synthetic for p in pools]),
                     np.concatenate([p.ids for p in pools]))

    def take(self, index: np.ndarray) -> "Pool":
        index = np.asarray(index, dtype=np.int64)
        return Pool(self.data[index], self.synthetic[index], self.ids[index])

    def __len__(self) -> int:
        return len(self.data)


def row_ids(generation: int, n: int) -> np.ndarray:
    return generation * 10_000_000 + np.arange(n, dtype=np.int64)


def keep_ids(pool: Pool, ids) -> Pool:
    """The rows of ``pool`` whose id is in ``ids`` (a transform's output), in pool order."""
    return pool.take(np.flatnonzero(np.isin(pool.ids, np.asarray(ids, dtype=np.int64))))


def hash_subsample(pool: Pool, n: int, seed: int) -> Pool:
    if len(pool) <= n:
        return pool
    keep = np.sort(np.argsort(hash_keys(pool.ids, seed), kind="stable")[:n])
    return pool.take(keep)


def detector_filter(scn: Scenario, pool: Pool, model: Any, cfg: "RunConfig", seed: int, gen: int,
                     args: tuple) -> tuple[Pool, dict[str, float], int]:
    """Drop rows a detector labels synthetic; returns the survivors, its TPR/FPR and the known-real rows it drew."""
    import synthfilter as sf

    if args:  # simulated detector with given rates, decided per row by hash
        tpr, fpr = args
        u = hash_keys(pool.ids, cell_seed(seed, gen, 1)) / 2.0**64
        flagged = np.where(pool.synthetic, u < tpr, u < fpr)
        drawn = 0
    else:
        rng = cell_rng(seed, gen, 5)
        known_real = scn.real(rng, cfg.reference_size)
        calib_real = scn.real(rng, max(cfg.reference_size, int(np.ceil(1 / cfg.detector_fpr))))
        drawn = len(known_real) + len(calib_real)
        generated = scn.sample(model, cfg.reference_size, rng)
        ds = scn.to_dataset(pool.data, pool.synthetic, pool.ids)
        if scn.name == "text":
            det = sf.load_detector("fast", fitted=False).set_params(n_features=2**16)
            det.fit([str(t) for t in known_real] + [str(t) for t in generated],
                    ["human"] * len(known_real) + ["ai"] * len(generated))
            det.calibrate([str(t) for t in calib_real], target_fpr=cfg.detector_fpr, any_language=True)
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
            tagged = ds.add_column(LABEL.name, np.where(scores > threshold, "synthetic", "human").tolist())
        kept = sf.enforce_quota(tagged, 0.0, id_column="id")  # at most 0% synthetic: drop every flagged row
        flagged = ~np.isin(pool.ids, np.asarray(kept["id"], dtype=np.int64))
    stats = {"detector_tpr": float(flagged[pool.synthetic].mean()) if pool.synthetic.any() else float("nan"),
             "detector_fpr": float(flagged[~pool.synthetic].mean()) if (~pool.synthetic).any() else float("nan")}
    survivors = pool.take(np.flatnonzero(~flagged))
    if len(survivors) < 10:  # a model cannot be fitted on nothing: keep the least suspicious rows by hash
        survivors = hash_subsample(pool, 10, seed)
    return survivors, stats, drawn


def tail(scn: Scenario, pool: Pool, real: Pool, size: int, args: tuple, seed: int) -> Pool:
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
        def embed(p: Pool):
            ds = scn.to_dataset(p.data, p.synthetic, p.ids)
            return ds.add_column(EMBEDDING.name, scn.features(p.data).astype(np.float32).tolist()) \
                if scn.name in ("text", "linreg") else ds
        ds = embed(pool)
        kwargs: dict[str, Any] = {}
        if scn.name not in ("text", "linreg"):
            kwargs["feature_columns"] = scn.feature_names(pool.data)
        if "ref" in args:
            kwargs["reference"] = embed(real)
        # an unbiased draw inside each leaf: "isolation" (the default, for text topics) fits four more k-means
        # per call, about 20x the cost on generation-sized pools, and the demo calls it every generation
        out = sf.resample_tails(ds, size, id_column="id", seed=seed, within="hash", **kwargs)
    return keep_ids(pool, out["id"])
