"""Tail-resampling benchmark.

    python benchmarks/resample.py [--rows 1000000] [--planted-rows 200000]

1. Planted tail: a 384-d mixture of 8 common Gaussian components plus one rare
   component holding 1% of the rows; resample to 20% of the rows and report the rare
   component's share (and the share in a uniformly random 20% sample), coverage
   entropy and rare-mass retention.
2. Scale: clustering + selection of 1,000,000 x 384 float32 embeddings, time and peak
   extra memory measured in a fresh process.
3. Embedding throughput (documents/second) for MiniLM and the hashing fallback, on
   WikiText-2 lines from ../shared/data when present (generated text otherwise).
4. Determinism: the selection with embeddings computed with num_proc=1 and 2.
Writes benchmarks/results/resample.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import in_fresh_process, reset_peak, rss_kb  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WIKITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikitext2" / "valid.txt"


def mixture(rows: int, dim: int = 384, rare_share: float = 0.01, common: int = 8, seed: int = 0):
    """``common`` Gaussian components with random weights plus one rare component (the last)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (common + 1, dim)).astype(np.float32)
    weights = rng.dirichlet(np.ones(common)) * (1 - rare_share)
    comp = rng.choice(common + 1, rows, p=np.append(weights, rare_share))
    X = centers[comp] + rng.normal(0, 0.35, (rows, dim)).astype(np.float32)
    return X.astype(np.float32), comp == common


def as_dataset(X: np.ndarray, extra: dict | None = None):
    import datasets
    import pyarrow as pa
    cols = {"id": np.arange(len(X), dtype=np.int64),
            "sf_embedding": pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), X.shape[1])}
    cols.update(extra or {})
    return datasets.Dataset(pa.table(cols))


def planted(rows: int) -> dict:
    import synthfilter as sf
    from synthfilter import metrics
    X, rare = mixture(rows)
    ds = as_dataset(X, {"rare": rare})
    size = rows // 5
    t0 = time.perf_counter()
    out, report = sf.resample_tails(ds, size, id_column="id", seed=0, return_report=True)
    seconds = time.perf_counter() - t0
    kept = np.asarray(out.with_format("numpy")["id"][:])
    rng = np.random.default_rng(1)
    random_pick = rng.choice(rows, size, replace=False)
    leaves = np.asarray(out.data.table.column("sf_cluster").to_numpy())
    all_leaves = leaves  # sf_cluster over all rows (before select)
    kept_leaves = all_leaves[kept]
    return {
        "rows": rows, "size": size, "seconds": round(seconds, 2),
        "rare_share_input": round(float(rare.mean()), 5),
        "rare_share_resampled": round(float(rare[kept].mean()), 5),
        "rare_share_random_sample": round(float(rare[random_pick].mean()), 5),
        "rare_gain_resampled": round(float(rare[kept].mean() / rare.mean()), 2),
        "rare_gain_random": round(float(rare[random_pick].mean() / rare.mean()), 2),
        "coverage_entropy_input": round(metrics.coverage_entropy(np.bincount(all_leaves)), 4),
        "coverage_entropy_resampled": round(metrics.coverage_entropy(np.bincount(kept_leaves, minlength=all_leaves.max() + 1)), 4),
        "coverage_entropy_random": round(metrics.coverage_entropy(np.bincount(all_leaves[random_pick], minlength=all_leaves.max() + 1)), 4),
        "clusters": report.to_dict()["clusters"],
    }


def _scale_child(rows: int) -> dict:
    import synthfilter as sf
    X, _ = mixture(rows, seed=2)
    ds = as_dataset(X)
    del X
    base = reset_peak()
    t0 = time.perf_counter()
    out = sf.resample_tails(ds, rows // 5, id_column="id", seed=0)
    seconds = time.perf_counter() - t0
    return {"rows": rows, "dim": 384, "size": out.num_rows, "seconds": round(seconds, 1),
            "peak_extra_gb": round((rss_kb("VmHWM") - base) / 2**20, 2)}


def texts(n: int) -> tuple[list[str], str]:
    if WIKITEXT.exists():
        lines = [l.strip() for l in WIKITEXT.read_text(encoding="utf-8").splitlines()
                 if len(l.split()) >= 20 and not l.strip().startswith("=")]
        return (lines * (n // len(lines) + 1))[:n], "wikitext2 valid lines (repeated to n)"
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(5000)]
    return [" ".join(rng.choice(vocab, 60)) for _ in range(n)], "generated"


def embedding_throughput() -> dict:
    import datasets
    import synthfilter as sf
    corpus, source = texts(20000)
    out = {"texts": source, "mean_words": round(float(np.mean([len(t.split()) for t in corpus])), 1)}
    for model, n in (("minilm", 1024), ("hashing", 20000)):
        emb = sf.Embedder(model=model)
        emb.encode(corpus[:8])
        t0 = time.perf_counter()
        for i in range(0, n, 256):
            emb.encode(corpus[i:i + 256])
        out[f"{model}_docs_per_s"] = round(n / (time.perf_counter() - t0), 1)
    sub = corpus[:1600]
    ds = datasets.Dataset.from_dict({"id": list(range(len(sub))), "text": sub})
    picks = []
    for num_proc in (None, 2):
        e = ds.map(sf.Embedder(model="hashing"), batched=True, batch_size=500, num_proc=num_proc, load_from_cache_file=False)
        picks.append(sf.resample_tails(e, len(sub) // 5, id_column="id", seed=0)["id"])
    out["same_selection_num_proc_1_and_2"] = list(picks[0]) == list(picks[1])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--planted-rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    result = {}
    result["planted_tail"] = planted(args.planted_rows)
    print("planted tail: " + json.dumps(result["planted_tail"]), flush=True)
    result["scale"] = in_fresh_process(_scale_child, args.rows)
    print("scale: " + json.dumps(result["scale"]), flush=True)
    result["embedding"] = embedding_throughput()
    print("embedding: " + json.dumps(result["embedding"]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "resample.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS / 'resample.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
