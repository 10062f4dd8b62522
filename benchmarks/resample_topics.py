"""Planted rare real topics: does tail resampling keep them? (real text of the shared data)

    python benchmarks/resample_topics.py [--rotations 20] [--models static,hashing] [--vectors-dir DIR]
    python benchmarks/resample_topics.py --docs | --check

Three families of topics (see topic_pools.py), so the figure is not one split's:

* ``l2r``: l2r's 20 domains, human and AI rows (AI rows rewrite a human one: same topic);
  3 common domains x 600 rows, 5 rare domains at 1% each (19 rows).
* ``mixed``: human rows of l2r's 20 domains, fastdetectgpt's 4, outfox's essays and WikiText-2
  articles; 3 common topics (of the four with 500+ texts) x 500 rows, 5 rare at 1% (16 rows),
  never a rare topic about the same thing as a common one (news, stories, biomedical,
  Wikipedia, essays have twins across sources).
* ``l2r-human``: l2r's human rows only; 3 common domains x 190 rows, 5 rare at 1% (6 rows).

In each rotation (a seeded draw of which topics are common and rare) ``resample_tails``
keeps 20% of the rows, with default options; the *gain* is the rare topics' share after
over their share before (random sampling: ~1; keeping every rare row: 5). Beside the
default (``within="isolation"``) it runs the previous default (``within="hash"``: the
budget water-filled down to the leaves, an unbiased sample of each), a uniformly random
20%, and an "oracle" embedder (topic one-hot plus noise) that shows what clustering can
recover when topics are perfectly separated. Diagnostics per embedder: the share of a
rare row's 5 nearest neighbours from its own topic, and the mean cosine between rows.
Suspects (first model): the previous default with about 10 rows per leaf instead of
sqrt(rows) leaves, and both methods on centred, re-normalised vectors.
Writes benchmarks/results/resample_topics.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proc import RESULTS, add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
import topic_pools  # noqa: E402

FAMILIES = {"l2r": 600, "mixed": 500, "l2r-human": 190}  # family: rows per common topic
BEGIN, END = "<!-- resample-topics:begin -->", "<!-- resample-topics:end -->"
COMMAND = "python benchmarks/resample_topics.py"


def _pool(family: str) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
    pool = topic_pools.topics(family)
    names = sorted(pool)
    texts = [t for name in names for t in pool[name]]
    labels = np.repeat(np.arange(len(names)), [len(pool[n]) for n in names])
    return texts, labels, names


def _vectors(texts: list[str], model: str, vectors_dir: str | None) -> np.ndarray:
    import synthfilter as sf

    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:12]
    cached = Path(vectors_dir) / f"{key}-{model}.npy" if vectors_dir else None
    if cached is not None and cached.exists():
        return np.load(cached)
    emb = sf.Embedder(model=model)
    vs = [v for i in range(0, len(texts), 512) for v in emb.encode(texts[i:i + 512])]
    X = np.stack(vs).astype(np.float32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, X)
    return X


def _as_dataset(X: np.ndarray):
    import datasets
    import pyarrow as pa

    return datasets.Dataset(pa.table({"id": np.arange(len(X)), "sf_embedding": pa.FixedSizeListArray.from_arrays(
        pa.array(X.reshape(-1)), X.shape[1])}))


def _neighbours(X: np.ndarray, labels: np.ndarray, rare: np.ndarray, k: int = 5) -> tuple[float, float]:
    S = X @ X.T
    mean_cos = float((S.sum() - np.trace(S)) / (len(X) * (len(X) - 1)))
    np.fill_diagonal(S, -np.inf)
    nn = np.argpartition(-S[rare], k, axis=1)[:, :k]
    return float((labels[nn] == labels[rare, None]).mean()), mean_cos


def run_family(family: str, models: list[str], rotations: int, vectors_dir: str | None,
               with_suspects: bool = True) -> dict:
    import synthfilter as sf

    texts, labels, names = _pool(family)
    members = {name: np.flatnonzero(labels == i) for i, name in enumerate(names)}
    draws = topic_pools.rotations({n: list(m) for n, m in members.items()}, rotations, 3, 5, FAMILIES[family], 0.01)
    vectors = {m: _vectors(texts, m, vectors_dir) for m in models}
    noise = np.random.default_rng(7).normal(0, 0.15, (len(labels), len(names)))
    oracle = (np.eye(len(names))[labels] + noise).astype(np.float32)
    vectors["oracle"] = oracle / np.linalg.norm(oracle, axis=1, keepdims=True)
    methods = [(m, w) for m in models for w in ("isolation", "hash")] + [("oracle", "isolation"), ("oracle", "hash")]
    runs: dict[str, list[float]] = {f"{m}/{w}": [] for m, w in methods} | {"random": []}
    first = models[0]  # the suspects, measured on the first model: more leaves, centred vectors
    suspects = {f"{first}/hash, leaves = rows/10": dict(within="hash", leaves=True),
                f"{first}/hash, centred vectors": dict(within="hash", centred=True),
                f"{first}/isolation, centred vectors": dict(within="isolation", centred=True)} if with_suspects else {}
    runs.update({k: [] for k in suspects})
    centred_purity: list[float] = []
    diag: dict[str, list[tuple[float, float]]] = {m: [] for m in models}
    protocol = []
    for r, draw in enumerate(draws):
        rows = np.concatenate([members[t][draw["rows"][t]] for t in draw["common"] + draw["rare"]])
        rare = np.isin(labels[rows], [names.index(t) for t in draw["rare"]])
        size = round(0.2 * len(rows))
        protocol.append({"common": ["/".join(t) for t in draw["common"]], "rare": ["/".join(t) for t in draw["rare"]],
                         "rows": int(len(rows)), "rows_per_rare_topic": int(rare.sum() // 5), "size": size})
        random_pick = np.random.default_rng(100 + r).choice(len(rows), size, replace=False)
        runs["random"].append(float(rare[random_pick].mean() / rare.mean()))
        for m, w in methods:
            kept = np.asarray(sf.resample_tails(_as_dataset(vectors[m][rows]), size, id_column="id", seed=r,
                                                within=w)["id"])
            runs[f"{m}/{w}"].append(float(rare[kept].mean() / rare.mean()))
        for m in models:
            diag[m].append(_neighbours(vectors[m][rows], labels[rows], rare))
        if suspects:
            C = vectors[first][rows] - vectors[first][rows].mean(axis=0)
            C = (C / np.linalg.norm(C, axis=1, keepdims=True)).astype(np.float32)
            centred_purity.append(_neighbours(C, labels[rows], rare)[0])
        for key, how in suspects.items():
            X = C if how.get("centred") else vectors[first][rows]
            extra = {"n_clusters": (max(2, len(rows) // 10), 10)} if how.get("leaves") else {}
            kept = np.asarray(sf.resample_tails(_as_dataset(X), size, id_column="id", seed=r, within=how["within"],
                                                **extra)["id"])
            runs[key].append(float(rare[kept].mean() / rare.mean()))
    summary = {k: {"gain_mean": round(float(np.mean(v)), 3), "gain_min": round(float(np.min(v)), 3),
                   "gain_se": round(float(np.std(v, ddof=1) / np.sqrt(len(v))), 3)} for k, v in runs.items()}
    return {"rows_per_common_topic": FAMILIES[family], "topics": len(names), "rotations": rotations,
            "summary": summary, "per_rotation": {k: [round(x, 3) for x in v] for k, v in runs.items()},
            "rare_row_5nn_same_topic": {m: round(float(np.mean([d[0] for d in v])), 3) for m, v in diag.items()},
            "mean_cosine": {m: round(float(np.mean([d[1] for d in v])), 3) for m, v in diag.items()},
            "suspects": list(suspects),
            "rare_row_5nn_same_topic_centred": round(float(np.mean(centred_purity)), 3) if centred_purity else None,
            "protocol": protocol}


def render(r: dict) -> str:
    fams = list(r["families"])
    models = r["models"]
    head = "| method | " + " | ".join(f"`{f}` gain: mean ± s.e. / worst" for f in fams) + " |"
    rows = [head, "|---|" + "---|" * len(fams)]
    label = {"isolation": "default (`within=\"isolation\"`)", "hash": "previous default (`within=\"hash\"`)"}
    for key in [f"{m}/{w}" for m in models for w in ("isolation", "hash")] + ["random", "oracle/isolation", "oracle/hash"]:
        m, _, w = key.partition("/")
        name = "uniformly random 20%" if key == "random" else f"`{m}` embedder, {label[w]}" if m != "oracle" \
            else f"control: oracle topics, {label[w]}"
        cells = []
        for f in fams:
            s = r["families"][f]["summary"][key]
            cells.append(f"{s['gain_mean']:.2f} ± {s['gain_se']:.2f} / {s['gain_min']:.2f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for key in r["families"][fams[0]].get("suspects", []):
        m, _, rest = key.partition("/")
        rows.append(f"| suspect: `{m}`, `within=\"{rest.split(',')[0]}\"`,{rest.split(',', 1)[1]} | "
                    + " | ".join(f"{r['families'][f]['summary'][key]['gain_mean']:.2f} ± "
                                 f"{r['families'][f]['summary'][key]['gain_se']:.2f} / "
                                 f"{r['families'][f]['summary'][key]['gain_min']:.2f}" for f in fams) + " |")
    for m in models:
        rows.append(f"| `{m}`: rare row's 5 nearest neighbours from its own topic; mean cosine | "
                    + " | ".join(f"{r['families'][f]['rare_row_5nn_same_topic'][m]:.2f}; "
                                 f"{r['families'][f]['mean_cosine'][m]:.2f}" for f in fams) + " |")
    if r["families"][fams[0]].get("rare_row_5nn_same_topic_centred") is not None:
        rows.append(f"| `{models[0]}`, centred and re-normalised: rare row's 5 nearest neighbours from its own topic | "
                    + " | ".join(f"{r['families'][f]['rare_row_5nn_same_topic_centred']:.2f}" for f in fams) + " |")
    rot = {f: r["families"][f]["rotations"] for f in fams}
    rows += ["", f"Keep 20%, gain = rare topics' share after / before (max 5.0); rotations: "
             + ", ".join(f"{f} {n}" for f, n in rot.items()) + f". Load average at start: {r['load_average_at_start'][0]}."]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rotations", type=int, default=20)
    parser.add_argument("--models", default="static,hashing")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--vectors-dir", default=None, help="keep each pool's vectors here between runs")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    path = RESULTS / "resample_topics.json"
    if args.docs or args.check:
        import json
        return rewrite_docs_section(BEGIN, END, render(json.loads(path.read_text())), args.check,
                                    "resample-topics", COMMAND)
    if not topic_pools.available():
        print(f"skipped: {topic_pools.DETECT} not found")
        return 0
    models = args.models.split(",")
    result = {"models": models, "load_average_at_start": [round(x, 1) for x in os.getloadavg()], "families": {}}
    t0 = time.perf_counter()
    for family in args.families.split(","):
        result["families"][family] = run_family(family, models, args.rotations, args.vectors_dir)
        print(family, {k: v["gain_mean"] for k, v in result["families"][family]["summary"].items()}, flush=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    write_result("resample_topics.json", result)
    return rewrite_docs_section(BEGIN, END, render(result), False, "resample-topics", COMMAND)


if __name__ == "__main__":
    sys.exit(main())
