"""Loading the labelled human/AI corpus used to train and evaluate shipped detectors.

The corpus is a folder with one sub-folder per *source* (``fastdetectgpt``, ``l2r``,
...), each holding JSONL files with at least ``text`` and ``label`` (``human`` |
``ai``). This module knows the pitfalls of the public sources: it groups rows that
share a human original (``group``/``pair_id``) so splits never cut a group, and it
gives each row a ``key`` (hash of its normalised text) so that leave-one-source-out
training can drop every text that also occurs in the held-out source.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..hashing import hash64
from ..text import normalize

__all__ = [
    "Document", "default_corpus_dir", "load_corpus", "grouped_split", "exclude_overlap", "text_key",
    "cap_per_cell", "balanced_weights",
]


@dataclass(frozen=True)
class Document:
    """One labelled text: ``label`` is 1 for AI-generated, 0 for human; ``lang`` is the source's
    ISO 639-1 language label (``"en"`` for folders without one)."""

    text: str
    label: int
    source: str
    group: str
    domain: str
    generator: str
    key: int
    lang: str = "en"


def default_corpus_dir() -> Path:
    """``$SYNTHFILTER_DETECT_DATA`` if set, else ``../shared/data/detect`` from the repository."""
    env = os.environ.get("SYNTHFILTER_DETECT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "detect"


def text_key(text: str) -> int:
    """Identity of a text up to normalisation and case, for cross-source deduplication."""
    return hash64(0, normalize(text).lower())


def load_corpus(root: str | os.PathLike | None = None) -> list[Document]:
    """Read every ``<root>/<source>/*.jsonl`` into :class:`Document` rows.

    Rows without a usable text or label are skipped. Texts shared between sources
    (glimpse's human texts also sit in fastdetectgpt) are kept in both; use
    :func:`exclude_overlap` when one source is held out.
    """
    root = Path(root) if root is not None else default_corpus_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"detector corpus folder not found: {root}")
    docs: list[Document] = []
    for source_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        source = source_dir.name
        for path in sorted(source_dir.glob("*.jsonl")):
            with open(path, encoding="utf-8") as handle:
                for i, line in enumerate(handle):
                    row = json.loads(line)
                    text, label = row.get("text"), row.get("label")
                    if not isinstance(text, str) or not text.strip() or label not in ("human", "ai"):
                        continue
                    group = row.get("group") or row.get("pair_id") or f"{path.name}:{i}"
                    docs.append(Document(
                        text=text,
                        label=int(label == "ai"),
                        source=source,
                        group=f"{source}:{group}",
                        domain=str(row.get("domain") or "unknown"),
                        generator=str(row.get("generator") or "unknown"),
                        key=text_key(text),
                        lang=str(row.get("lang") or "en"),
                    ))
    return docs


def exclude_overlap(train: list[Document], held_out: list[Document]) -> list[Document]:
    """``train`` without any document whose text (or group) also occurs in ``held_out``."""
    keys = {d.key for d in held_out}
    groups = {d.group for d in held_out}
    return [d for d in train if d.key not in keys and d.group not in groups]


def grouped_split(docs: list[Document], test_fraction: float = 0.2, seed: int = 0) -> tuple[list[Document], list[Document]]:
    """Split into (train, test) by hashing each row's ``group``: a group never straddles."""
    train, test = [], []
    for doc in docs:
        u = hash64(seed, doc.group) / 2.0**64
        (test if u < test_fraction else train).append(doc)
    return train, test


def cap_per_cell(docs: list[Document], cap: int, seed: int = 0) -> list[Document]:
    """At most ``cap`` documents per (source, label), chosen by hash of (seed, group, text)."""
    cells: dict[tuple[str, int], list[Document]] = {}
    for doc in docs:
        cells.setdefault((doc.source, doc.label), []).append(doc)
    out: list[Document] = []
    for key in sorted(cells):
        ranked = sorted(cells[key], key=lambda d: hash64(seed, f"{d.group}\x00{d.key}"))
        out.extend(ranked[:cap])
    return out


def balanced_weights(docs: list[Document]) -> list[float]:
    """Sample weights giving every (source, label) cell the same total weight, mean 1."""
    counts: dict[tuple[str, int], int] = {}
    for doc in docs:
        counts[(doc.source, doc.label)] = counts.get((doc.source, doc.label), 0) + 1
    raw = [1.0 / counts[(d.source, d.label)] for d in docs]
    scale = len(raw) / sum(raw)
    return [w * scale for w in raw]
