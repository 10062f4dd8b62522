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
5. Embedders compared (hashing, static, MiniLM): documents/second on 200-word
   WikiText documents (wall, and per CPU-second on one thread), measured in one run, and
   the default embedder's first use in a fresh process on an empty cache
   (``--only embedders`` runs just this). Planted rare real topics: resample_topics.py.
Writes benchmarks/results/resample.json (``--only`` updates its sections in place).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import in_fresh_process, reset_peak, rss_kb, write_result  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WIKITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikitext2" / "valid.txt"
EMBEDDERS = ("hashing", "static", "minilm")


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


def documents(n: int, words: int = 200) -> list[str]:
    """``n`` documents of exactly ``words`` words: consecutive WikiText-2 text (generated without it)."""
    if WIKITEXT.exists():
        tokens = [w for l in WIKITEXT.read_text(encoding="utf-8").splitlines()
                  if not l.strip().startswith("=") for w in l.split()]
    else:
        rng = np.random.default_rng(0)
        tokens = [f"w{i}" for i in rng.integers(0, 5000, n * words)]
    docs = [" ".join(tokens[i:i + words]) for i in range(0, len(tokens) - words + 1, words)]
    return (docs * (n // len(docs) + 1))[:n]


def _docs_per_s(emb, corpus: list[str], n: int) -> dict:
    """Documents/second of wall time (default threads), and per CPU-second on one thread (robust to a
    busy machine: other processes' load does not count against it)."""
    import torch
    emb.encode(corpus[:8])  # load (and for "static", build if needed) outside the timing
    t0 = time.perf_counter()
    for i in range(0, n, 256):
        emb.encode(corpus[i:i + 256])
    wall = time.perf_counter() - t0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        c0 = time.process_time()
        for i in range(0, n, 256):
            emb.encode(corpus[i:i + 256])
        cpu = time.process_time() - c0
    finally:
        torch.set_num_threads(threads)
    return {"wall": round(n / wall, 1), "cpu_one_thread": round(n / cpu, 1), "docs": n, "threads": threads}


def _first_use() -> dict:
    """Seconds from a fresh interpreter to the first vector of ``Embedder()`` on an empty cache."""
    import subprocess
    import tempfile

    code = ("import time; t0 = time.perf_counter(); import synthfilter as sf; v = sf.Embedder().encode(['first use']); "
            "print(time.perf_counter() - t0, sf.Embedder().model, len(v[0]))")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SYNTHFILTER_CACHE": str(Path(tmp) / "cache"), "HF_HUB_OFFLINE": "1"}
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        seconds, model, dim = out.stdout.split()
        return {"model": model, "dim": int(dim), "import_to_first_vector_s": round(float(seconds), 2),
                "process_wall_s": round(wall, 2), "cache_files_written": sum(1 for _ in Path(tmp).rglob("*"))}


def embedders(speed_docs: dict | None = None) -> dict:
    """Speed of each embedder on 200-word documents, and the default's first use (see the module docs, step 5)."""
    import synthfilter as sf
    from synthfilter.diversity.static_model import SHIPPED_STATIC

    speed_docs = speed_docs or {"hashing": 5000, "static": 5000, "minilm": 256}
    out: dict = {"embedders": list(EMBEDDERS), "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
                 "cores": os.cpu_count()}
    out["first_use"] = _first_use()
    print("first use: " + json.dumps(out["first_use"]), flush=True)
    out["static_model"] = json.loads((SHIPPED_STATIC / "static.json").read_text())
    corpus = documents(max(speed_docs.values()))
    out["speed"] = {"texts": "WikiText-2 valid, 200-word documents", "words": 200,
                    "docs_per_s": {m: _docs_per_s(sf.Embedder(model=m), corpus, speed_docs[m]) for m in EMBEDDERS},
                    "load_average_after": [round(x, 1) for x in os.getloadavg()]}
    sp = out["speed"]["docs_per_s"]
    out["static_over_minilm"] = {k: round(sp["static"][k] / sp["minilm"][k], 1) for k in ("wall", "cpu_one_thread")}
    print("embedders speed: " + json.dumps(out["speed"]), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--planted-rows", type=int, default=200_000)
    parser.add_argument("--only", nargs="+", choices=["planted_tail", "scale", "embedding", "embedders"],
                        help="run only these sections, keeping the others from the existing resample.json")
    args = parser.parse_args(argv)
    existing = RESULTS / "resample.json"
    result = json.loads(existing.read_text()) if args.only and existing.exists() else {}
    run = set(args.only or ["planted_tail", "scale", "embedding", "embedders"])
    if "planted_tail" in run:
        result["planted_tail"] = planted(args.planted_rows)
        print("planted tail: " + json.dumps(result["planted_tail"]), flush=True)
    if "scale" in run:
        result["scale"] = in_fresh_process(_scale_child, args.rows)
        print("scale: " + json.dumps(result["scale"]), flush=True)
    if "embedding" in run:
        result["embedding"] = embedding_throughput()
        print("embedding: " + json.dumps(result["embedding"]), flush=True)
    if "embedders" in run:
        result["embedders"] = embedders()
        write_result("resample.json", result)
        from tables import rewrite
        return rewrite(check=False, only={"resample.json"})  # its sections on docs/benchmarks/diversity.md
    write_result("resample.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
