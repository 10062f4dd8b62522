"""Real-text topic pools of the shared data, for planted rare-topic tests (see resample_topics.py).

A *topic* is a set of distinct human (or human and AI) texts that share a source and a
``domain``: the 20 domains of l2r, the four of fastdetectgpt, outfox's student essays and
200-word pieces of WikiText-2 articles. Texts are whitespace-normalised and deduplicated
by their first 200 characters (fastdetectgpt repeats human texts across generators).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DETECT = DATA / "detect"
WIKITEXT = DATA / "wikitext2" / "valid.txt"

#: Topics of different sources that are about the same thing: never common and rare in one rotation.
TWINS = {("fastdetectgpt", "news"): ("l2r", "NewsArticle"),
         ("fastdetectgpt", "creative_writing"): ("l2r", "LiteratureCreativeWriting"),
         ("fastdetectgpt", "biomedical_qa"): ("l2r", "MedicalText"),
         ("fastdetectgpt", "wikipedia"): ("wikitext2", "articles"),
         ("outfox", "student_essay"): ("l2r", "EducationMaterial")}


def _read(folder: str, human_only: bool) -> dict[tuple[str, str], list[str]]:
    path = DETECT / folder / "data.jsonl"
    out: dict[tuple[str, str], list[str]] = {}
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if (human_only and row.get("label") != "human") or not row.get("domain"):
                continue
            text = row.get("text")
            if not isinstance(text, str) or len(text.split()) < 20:
                continue
            text = " ".join(text.split())
            if text[:200] in seen:
                continue
            seen.add(text[:200])
            out.setdefault((folder, row["domain"]), []).append(text)
    return out


def _wikitext(words: int = 200) -> list[str]:
    """Consecutive 200-word pieces of WikiText-2 (valid), headings dropped."""
    tokens = [w for line in WIKITEXT.read_text(encoding="utf-8").splitlines()
              if not line.strip().startswith("=") for w in line.split()]
    return [" ".join(tokens[i:i + words]) for i in range(0, len(tokens) - words + 1, words)]


def available() -> bool:
    return (DETECT / "l2r" / "data.jsonl").exists()


def topics(family: str) -> dict[tuple[str, str], list[str]]:
    """Texts per topic. ``"l2r"``: l2r's 20 domains, human and AI rows (AI rows are rewrites of
    human ones, same topic); ``"l2r-human"``: their human rows only. ``"mixed"``: human rows only, of l2r, fastdetectgpt, outfox and
    WikiText-2."""
    if family == "l2r":
        return _read("l2r", human_only=False)
    if family == "l2r-human":
        return _read("l2r", human_only=True)
    if family == "mixed":
        out: dict[tuple[str, str], list[str]] = {}
        for folder in ("l2r", "fastdetectgpt", "outfox"):
            out.update(_read(folder, human_only=True))
        if WIKITEXT.exists():
            out[("wikitext2", "articles")] = _wikitext()
        return out
    raise ValueError(f"family must be 'l2r' or 'mixed', got {family!r}")


def twins_of(topic: tuple[str, str]) -> set[tuple[str, str]]:
    return {b for a, b in TWINS.items() if a == topic} | {a for a, b in TWINS.items() if b == topic}


def rotations(pool: dict[tuple[str, str], list[str]], n: int, common: int, rare: int, common_rows: int,
              rare_share: float, seed: int = 0) -> list[dict]:
    """``n`` draws of ``common`` topics with at least ``common_rows`` texts (``common_rows`` each) and
    ``rare`` other topics (``rare_share`` of the rows each, none a twin of a common topic).

    Each draw: ``{"common": [...], "rare": [...], "rows": {topic: [text index, ...]}}``.
    """
    rng = np.random.default_rng(seed)
    names = sorted(pool)
    big = [t for t in names if len(pool[t]) >= common_rows]
    k = max(1, round(rare_share * common * common_rows / (1 - rare * rare_share)))
    out = []
    for _ in range(n):
        common_t = [big[i] for i in rng.choice(len(big), common, replace=False)]
        blocked = set(common_t).union(*(twins_of(t) for t in common_t))
        candidates = [t for t in names if t not in blocked and len(pool[t]) >= k]
        rare_t = [candidates[i] for i in rng.choice(len(candidates), rare, replace=False)]
        rows = {t: sorted(rng.choice(len(pool[t]), common_rows, replace=False).tolist()) for t in common_t}
        rows.update({t: sorted(rng.choice(len(pool[t]), k, replace=False).tolist()) for t in rare_t})
        out.append({"common": common_t, "rare": rare_t, "rows": rows})
    return out
