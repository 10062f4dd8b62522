"""Junk under tail resampling: the share of unknown, short and boiler-plate rows before and after.

    python benchmarks/resample_junk.py [--embedders hashing,minilm] [--fraction 0.2]

Corpus: every WikiText-2 paragraph line (valid + test, headings left out) from
../shared/data/wikitext2, labelled ``human``, mixed with 5% boiler-plate rows (twelve
web templates: cookie banners, newsletter prompts, navigation, copyright lines; numbers,
case and punctuation vary) and 3% unscorable rows labelled ``unknown`` (fragments, other
scripts, markup and byte garbage), as a share of the final corpus. The natural short
WikiText lines count as junk (``short``) too. Every row is embedded (per embedder), then
resampled to ``fraction`` of the rows with the junk rule on (the default) and off
(``junk=False``), and to 100% of the rows with ``max_copies=3``. Reports the junk share
before and after, per kind, the most copies of a junk row, coverage entropy and time.
Writes benchmarks/results/resample_junk.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WIKITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikitext2"

TEMPLATES = [
    "We use cookies to improve your experience. By continuing to browse you agree to our use of cookies. ({n})",
    "Accept all cookies | Manage preferences | Reject non-essential cookies {n}",
    "Click here to subscribe to our newsletter and get {n}% off your first order!",
    "Sign up for our free weekly newsletter. Join {n},000 readers today.",
    "Home > News > World > Article {n}",
    "Home | About us | Contact | Careers | Privacy policy | Terms of use | {n}",
    "Copyright © 20{n} Example Media Ltd. All rights reserved.",
    "Share this article: Facebook Twitter LinkedIn Email Print ({n} shares)",
    "You have {n} free articles left this month. Subscribe for unlimited access.",
    "Related posts: Read more stories like this one, page {n} of 40",
    "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply. #{n}",
    "Posted on {n} March 2019 by admin. Leave a comment.",
]
UNSCORABLE = [
    "Read more", "N/A", "↑ Back to top", "12:45", "[edit]", "ok", "»»»", "...", "Fig. {n}",
    "東京都の天気は晴れです{n}", "Ночь тиха {n}", "สวัสดีครับ {n}", "<div class=\"ad-slot-{n}\"></div>",
    "\x00\x01\x02 PK\x03\x04 {n} \ufffd\ufffd\ufffd", "0x{n}F3A9 0x00FF 0xDEAD", "{{{{cite web|url={n}}}}}",
]


def wiki_lines() -> list[str]:
    lines = []
    for name in ("valid.txt", "test.txt"):
        path = WIKITEXT / name
        if not path.exists():
            raise SystemExit(f"WikiText-2 not found at {path}")
        lines += [l.strip() for l in path.read_text(encoding="utf-8").splitlines()
                  if l.strip() and not l.strip().startswith("=")]
    return lines


def build_corpus(seed: int = 0, boiler: float = 0.05, unscorable: float = 0.03):
    import datasets
    rng = np.random.default_rng(seed)
    real = wiki_lines()
    total = int(round(len(real) / (1 - boiler - unscorable)))
    n_b, n_u = int(round(total * boiler)), int(round(total * unscorable))
    text = list(real)
    source = ["wikitext"] * len(real)
    for i in range(n_b):
        t = TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(n=int(rng.integers(1, 99)))
        variant = int(rng.integers(4))
        t = t.upper() if variant == 0 else (t.lower() if variant == 1 else (t.replace(".", " .") if variant == 2 else t))
        text.append(t)
        source.append("boilerplate")
    for i in range(n_u):
        text.append(UNSCORABLE[int(rng.integers(len(UNSCORABLE)))].format(n=int(rng.integers(1, 999))))
        source.append("unscorable")
    labels = ["unknown" if s == "unscorable" else "human" for s in source]
    perm = rng.permutation(len(text))
    return datasets.Dataset.from_dict({"id": list(range(len(text))), "text": [text[i] for i in perm],
                                       "sf_label": [labels[i] for i in perm], "source": [source[i] for i in perm]})


def embed(ds, model: str):
    import synthfilter as sf
    emb = sf.Embedder(model=model)
    t0 = time.perf_counter()
    out = ds.map(emb, batched=True, batch_size=256, features=emb.output_features(ds.features))
    return out, round(time.perf_counter() - t0, 1)


def run(ds, size: int, **kw) -> dict:
    import synthfilter as sf
    from synthfilter.diversity.junk import junk_rows
    t0 = time.perf_counter()
    out, rep = sf.resample_tails(ds, size, id_column="id", invalid="drop", seed=0, return_report=True, **kw)
    seconds = time.perf_counter() - t0
    d = rep.to_dict()
    ids = np.asarray(out["id"])
    source = np.asarray(ds["source"])
    copies = Counter(ids.tolist())
    junk_ids = np.flatnonzero(junk_rows(ds).mask)  # ids are row positions
    return {"size": size, "seconds": round(seconds, 2), "junk_rule": d["junk_rule"],
            "junk_share_before": d["junk_share_before"], "junk_share_after": d["junk_share_after"],
            "junk_kind_share_before": d["junk_kind_share_before"], "junk_kind_share_after": d["junk_kind_share_after"],
            "planted_share_after": {s: round(float(np.mean(source[ids] == s)), 4) for s in ("boilerplate", "unscorable")},
            "max_copies": d["max_copies"], "max_copies_used": d["max_copies_used"],
            "max_copies_of_a_junk_row": max((copies.get(int(i), 0) for i in junk_ids), default=0),
            "clusters": d["clusters"], "coverage_entropy_before": d["coverage_entropy_before"],
            "coverage_entropy_after": d["coverage_entropy_after"]}


def main(argv: list[str] | None = None) -> int:
    import datasets
    datasets.disable_progress_bars()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", default="hashing,minilm")
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ds = build_corpus(args.seed)
    src = Counter(ds["source"])
    result = {"corpus": {"rows": ds.num_rows, **{f"{k}_rows": v for k, v in src.items()},
                         "planted_share": {k: round(src[k] / ds.num_rows, 4) for k in ("boilerplate", "unscorable")},
                         "texts": "WikiText-2 valid+test paragraph lines + generated boiler-plate and unscorable rows"},
              "runs": {}}
    print("corpus: " + json.dumps(result["corpus"]), flush=True)
    size = int(ds.num_rows * args.fraction)
    for model in args.embedders.split(","):
        e, seconds = embed(ds, model)
        runs = {"embed_seconds": seconds}
        for name, kw, n in ((f"resample_{args.fraction:g}_rule_on", {}, size),
                            (f"resample_{args.fraction:g}_rule_off", {"junk": False}, size),
                            ("upsample_1.0_max_copies_3_rule_on", {"max_copies": 3}, ds.num_rows),
                            ("upsample_1.0_max_copies_3_rule_off", {"max_copies": 3, "junk": False}, ds.num_rows)):
            runs[name] = run(e, n, **kw)
            print(f"{model} {name}: " + json.dumps(runs[name]), flush=True)
        result["runs"][model] = runs
    write_result("resample_junk.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
