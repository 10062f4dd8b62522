"""Near-duplicate rates per language and embedder: what `clean`'s dedup threshold means for each model.

    python benchmarks/dedup_languages.py [--per-folder 400] [--rows 1500] [--embedders hashing,static,minilm]

Corpus: up to ``--per-folder`` texts of more than 30 words from each folder of
../shared/data/detect (human and AI, every language present), shuffled with a fixed
seed and cut to ``--rows``. Per embedder and language, the share of texts whose nearest
neighbour in the same language has cosine >= 0.95 (`clean`'s default dedup threshold) or
>= 0.9, and the median nearest-neighbour cosine. The data does hold real near-duplicates
(AI rewrites of human texts, shared prefixes), so the English rate is not zero for any
model; a rate near 100% means the model cannot tell the texts apart.
Writes benchmarks/results/dedup_languages.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DETECT = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect"


def corpus(per_folder: int, rows: int) -> tuple[list[str], list[str]]:
    items = []
    for path in sorted(DETECT.glob("*/data.jsonl")):
        with path.open() as handle:
            for i, line in enumerate(handle):
                if i >= per_folder:
                    break
                row = json.loads(line)
                text = row.get("text")
                if isinstance(text, str) and len(text.split()) > 30:
                    items.append((text, row.get("lang") or "en"))
    random.Random(0).shuffle(items)
    items = items[:rows]
    return [t for t, _ in items], [lang for _, lang in items]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-folder", type=int, default=400)
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--embedders", default="hashing,static,minilm")
    args = parser.parse_args()
    if not DETECT.is_dir():
        print(f"skipped: {DETECT} not found (the shared detection data)")
        return 0
    import synthfilter as sf

    texts, langs = corpus(args.per_folder, args.rows)
    L = np.array(langs)
    result = {"rows": len(texts), "per_folder": args.per_folder,
              "languages": {k: int((L == k).sum()) for k in sorted(set(langs))}, "embedders": {}}
    print(json.dumps(result["languages"]), flush=True)
    for model in args.embedders.split(","):
        start = time.perf_counter()
        X = np.stack(sf.Embedder(model=model).encode(texts)).astype(np.float32)
        seconds = time.perf_counter() - start
        S = X @ X.T
        np.fill_diagonal(S, -1.0)
        per_lang = {}
        for lang in sorted(set(langs)):
            m = L == lang
            if m.sum() < 2:
                continue
            nn = S[np.ix_(m, m)].max(axis=1)
            per_lang[lang] = {"rows": int(m.sum()), "share_nn_ge_0.95": round(float((nn >= 0.95).mean()), 3),
                              "share_nn_ge_0.9": round(float((nn >= 0.9).mean()), 3),
                              "median_nn_cosine": round(float(np.median(nn)), 3)}
        result["embedders"][model] = {"embed_seconds": round(seconds, 1), "languages": per_lang,
                                      "declared_languages": sf.Embedder(model=model).languages}
        print(model, json.dumps(result["embedders"][model]), flush=True)
    write_result("dedup_languages.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
