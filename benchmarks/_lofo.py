"""Held-out folders tagged by a ``fast`` detector that never saw them, as a user would tag them (shared by the
share-estimation benchmarks).

For each folder of ``../shared/data/detect`` the shipped ``fast`` recipe
(:func:`synthfilter.detect.train.train_shipped`: same sources, cap, split and transferred
threshold) is rerun without that folder, and the folder is tagged through
``Dataset.map(synthfilter.Tagger(detector=...), batched=True)``. Both are cached under
``$SYNTHFILTER_CACHE`` (default ``~/.cache/synthfilter``)``/bench-lofo/``, keyed by the
package version of the detector code and the corpus files' sizes, so reruns are fast.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import datasets
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthfilter as sf  # noqa: E402
from synthfilter.detect.corpus import load_corpus  # noqa: E402
from synthfilter.detect.train import SHIPPED_SOURCES, default_lm_cache, train_shipped  # noqa: E402

__all__ = ["cache_dir", "lofo_detector_path", "tagged_folder", "folder_pools"]


def cache_dir(data: Path) -> Path:
    """Where the held-out detectors and tagged folders of ``data`` are kept."""
    sizes = sorted((str(p.relative_to(data)), p.stat().st_size) for p in data.rglob("*.jsonl"))
    key = hashlib.sha256(json.dumps([sf.__version__, sizes]).encode()).hexdigest()[:12]
    out = default_lm_cache().parent / "bench-lofo" / key
    out.mkdir(parents=True, exist_ok=True)
    return out


def lofo_detector_path(data: Path, held: str) -> Path:
    """The shipped ``fast`` recipe trained without ``held`` (cached)."""
    path = cache_dir(data) / f"fast_without_{held}.npz"
    if not path.exists():
        sources = [s for s in SHIPPED_SOURCES if s != held]
        written = train_shipped("fast", data, sources=sources, out_dir=cache_dir(data) / f"tmp-{held}")
        written.rename(path)
    return path


def tagged_folder(data: Path, held: str) -> datasets.Dataset:
    """Folder ``held`` (``text``, ``truth`` 0/1, ``group``, ``domain``) tagged by its held-out detector (cached)."""
    path = cache_dir(data) / f"tagged_{held}"
    if path.exists():
        return datasets.load_from_disk(str(path))
    docs = [d for d in load_corpus(data) if d.source == held]
    ds = datasets.Dataset.from_dict({"text": [d.text for d in docs], "truth": [int(d.label) for d in docs],
                                     "group": [str(d.group) for d in docs], "domain": [str(d.domain) for d in docs]})
    tagged = ds.map(sf.Tagger(detector=str(lofo_detector_path(data, held))), batched=True, batch_size=1000,
                    desc=f"tagging {held}")
    tagged.save_to_disk(str(path))
    return datasets.load_from_disk(str(path))


def folder_pools(tagged: datasets.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Finite scores of the human and of the AI rows."""
    scores = np.asarray(tagged["sf_score"], dtype=np.float64)
    truth = np.asarray(tagged["truth"])
    ok = np.isfinite(scores)
    return scores[ok & (truth == 0)], scores[ok & (truth == 1)]
