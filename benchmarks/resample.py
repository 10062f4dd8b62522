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
   WikiText documents, and recovery of planted rare topics in real text: from the
   shared data's l2r folder (20 domains), 3 common domains hold most rows and 5 rare
   domains are planted at 1% each; ``resample_tails`` keeps 20%, and the rare domains'
   share before/after (gain), overall recall and worst-domain recall are averaged over
   rotations of which domains are common and rare, beside a uniformly random 20% and an
   "oracle" control (domain one-hot + noise: what the resampler recovers when topics are
   perfectly separated); plus each embedder's 10-NN same-domain share over all 20
   domains (``--only embedders`` runs just this).
Writes benchmarks/results/resample.json (``--only`` updates its sections in place).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import in_fresh_process, reset_peak, rss_kb, write_result  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WIKITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikitext2" / "valid.txt"
L2R = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect" / "l2r" / "data.jsonl"
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


def _l2r_pool(per_domain: int, seed: int = 0) -> tuple[list[str], np.ndarray, list[str]]:
    """``per_domain`` random rows (human and AI) of each l2r domain: texts, domain index, domain names."""
    rows: dict[str, list[str]] = {}
    with L2R.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("domain") and isinstance(r.get("text"), str) and r["text"].strip():
                rows.setdefault(r["domain"], []).append(" ".join(r["text"].split()))
    names = sorted(rows)
    rng = np.random.default_rng(seed)
    texts, dom = [], []
    for d, name in enumerate(names):
        pick = rng.choice(len(rows[name]), min(per_domain, len(rows[name])), replace=False)
        texts += [rows[name][i] for i in sorted(pick)]
        dom += [d] * len(pick)
    return texts, np.array(dom), names


def _knn_same_domain(X: np.ndarray, dom: np.ndarray, k: int = 10, chunk: int = 1000) -> float:
    """Share of each row's ``k`` nearest neighbours (cosine) from the same domain: how well the
    embedder separates the 20 topics, apart from what the resampler makes of it."""
    same = 0
    for lo in range(0, len(X), chunk):
        S = X[lo:lo + chunk] @ X.T
        S[np.arange(len(S)), np.arange(lo, lo + len(S))] = -np.inf
        nn = np.argpartition(-S, k, axis=1)[:, :k]
        same += int((dom[nn] == dom[lo:lo + chunk, None]).sum())
    return round(same / (len(X) * k), 4)


def embedders(per_domain: int = 600, rotations: int = 20, common: int = 3, rare: int = 5,
              rare_share: float = 0.01, keep: float = 0.2, speed_docs: dict | None = None,
              vectors_dir: str | None = None) -> dict:
    """Speed and planted-rare-topic recovery of each embedder (see the module docs, step 5).

    ``vectors_dir`` keeps the l2r pool's vectors between runs (MiniLM takes 10+ minutes on 2 cores)."""
    import hashlib
    import os
    import tempfile

    import synthfilter as sf
    from synthfilter.diversity.encoders import build_static_model, static_model_path
    speed_docs = speed_docs or {"hashing": 5000, "static": 5000, "minilm": 256}
    out: dict = {"embedders": list(EMBEDDERS), "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
                 "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:  # time one distillation, apart from the cached model used below
        t0, c0 = time.perf_counter(), time.process_time()
        build_static_model(Path(tmp) / "static")
        out["static_build"] = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
                               "load_average_after": [round(x, 1) for x in os.getloadavg()]}
    print("static build: " + json.dumps(out["static_build"]), flush=True)
    sf.Embedder(model="static").encode(["warm up"])  # builds the cached model if it is not there yet
    out["static_model"] = json.loads((static_model_path() / "synthfilter-static.json").read_text())
    corpus = documents(max(speed_docs.values()))
    out["speed"] = {"texts": "WikiText-2 valid, 200-word documents", "words": 200,
                    "docs_per_s": {m: _docs_per_s(sf.Embedder(model=m), corpus, speed_docs[m]) for m in EMBEDDERS},
                    "load_average_after": [round(x, 1) for x in os.getloadavg()]}
    print("embedders speed: " + json.dumps(out["speed"]), flush=True)
    if not L2R.exists():
        out["planted_topics"] = {"skipped": f"{L2R} not found"}
        return out
    texts, dom, names = _l2r_pool(per_domain)
    out["l2r_pool_mean_words"] = round(float(np.mean([len(t.split()) for t in texts])), 1)
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:12]
    vectors = {}
    for m in EMBEDDERS:
        cached = Path(vectors_dir) / f"l2r-{key}-{m}.npy" if vectors_dir else None
        if cached is not None and cached.exists():
            vectors[m] = np.load(cached)
            continue
        t1 = time.perf_counter()
        emb = sf.Embedder(model=m)
        vs = [v for i in range(0, len(texts), 256) for v in emb.encode(texts[i:i + 256])]
        vectors[m] = np.stack([np.full(len(next(v for v in vs if v is not None)), np.nan, np.float32)
                               if v is None else v for v in vs]).astype(np.float32)
        print(f"embedded the l2r pool ({len(texts)} rows) with {m} in {time.perf_counter() - t1:.1f} s", flush=True)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, vectors[m])
    usable = np.all([~np.isnan(vectors[m]).any(axis=1) for m in EMBEDDERS], axis=0)
    # control: an "embedder" that knows the domain (one-hot + noise) shows what the resampler can recover
    noise = np.random.default_rng(7).normal(0, 0.15, (len(dom), len(names)))
    oracle = (np.eye(len(names))[dom] + noise).astype(np.float32)
    vectors["oracle"] = oracle / np.linalg.norm(oracle, axis=1, keepdims=True)
    methods = EMBEDDERS + ("oracle",)
    out["knn10_same_domain"] = {m: _knn_same_domain(vectors[m][usable], dom[usable]) for m in EMBEDDERS}
    rng = np.random.default_rng(0)
    runs: dict[str, list[dict]] = {m: [] for m in methods + ("random",)}
    protocol = []
    for rot in range(rotations):
        order = rng.permutation(len(names))
        common_d, rare_d = order[:common], order[common:common + rare]
        base = np.flatnonzero(np.isin(dom, common_d) & usable)
        k = max(1, round(rare_share * len(base) / (1 - rare * rare_share)))  # rows per rare domain
        planted_rows = [rng.choice(np.flatnonzero((dom == d) & usable), k, replace=False) for d in rare_d]
        rows = np.concatenate([base, *planted_rows])
        is_rare = np.isin(dom[rows], rare_d)
        size = round(keep * len(rows))
        protocol.append({"common": [names[d] for d in common_d], "rare": [names[d] for d in rare_d],
                         "rows": int(len(rows)), "rows_per_rare_domain": int(k), "size": int(size)})
        picks = {"random": np.random.default_rng(100 + rot).choice(len(rows), size, replace=False)}
        for m in methods:
            kept = sf.resample_tails(as_dataset(vectors[m][rows]), size, id_column="id", seed=rot)["id"]
            picks[m] = np.asarray(kept)
        for m, kept in picks.items():
            r = is_rare[kept]
            per_domain_recall = [float((dom[rows][kept] == d).sum() / k) for d in rare_d]
            runs[m].append({"share_before": float(is_rare.mean()), "share_after": float(r.mean()),
                            "gain": float(r.mean() / is_rare.mean()), "recall": float(r.sum() / is_rare.sum()),
                            "worst_domain_recall": min(per_domain_recall)})
    summary = {m: {key: round(float(np.mean([x[key] for x in v])), 4) for key in v[0]} for m, v in runs.items()}
    for m, v in runs.items():
        gains = np.array([x["gain"] for x in v])
        summary[m]["gain_min"] = round(float(gains.min()), 2)
        summary[m]["gain_se"] = round(float(gains.std(ddof=1) / np.sqrt(len(gains))), 3) if len(gains) > 1 else None
    out["planted_topics"] = {
        "data": "l2r (shared data), human and AI rows", "pool_rows_per_domain": per_domain, "rotations": rotations,
        "common_domains": common, "rare_domains": rare, "rare_share_each": rare_share, "keep": keep,
        "max_gain": round(1 / keep, 2), "protocol": protocol, "summary": summary,
        "per_rotation": {m: [{k: round(x, 4) for k, x in r.items()} for r in v] for m, v in runs.items()}}
    out["static_over_minilm_recall"] = round(summary["static"]["recall"] / summary["minilm"]["recall"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--planted-rows", type=int, default=200_000)
    parser.add_argument("--only", nargs="+", choices=["planted_tail", "scale", "embedding", "embedders"],
                        help="run only these sections, keeping the others from the existing resample.json")
    parser.add_argument("--vectors-dir", default=None,
                        help="keep the embedders section's l2r vectors here between runs (MiniLM takes minutes)")
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
        result["embedders"] = embedders(vectors_dir=args.vectors_dir)
        print("embedders: " + json.dumps({k: v for k, v in result["embedders"].items() if k != "planted_topics"}
                                         | {"summary": result["embedders"].get("planted_topics", {}).get("summary")}),
              flush=True)
    write_result("resample.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
