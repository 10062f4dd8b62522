"""The recipe of the shipped detector weights: which tiers ship, their versions, the folders and caps they are
trained on, the share of held-out humans their threshold leaves, and the options of the training command
(:mod:`synthfilter.detect.train` runs it). Kept apart from the training code so that the command line can list the
options without importing it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["WEIGHTS_VERSION", "WEIGHTS_VERSIONS", "SHIPPED_ALPHA", "SHIPPED", "DEFAULT_CAP", "SHIPPED_SOURCES",
           "ALL_FOLDER_TIERS", "SHIPPED_LANGUAGES", "default_lm_cache", "add_arguments"]

#: Version written into ``sf_detector``; bump when features, data or training change.
WEIGHTS_VERSION = "1"

#: Tiers whose weights changed since ``@1``, with their version: ``fast@2`` has the transferred threshold,
#: ``accurate@2`` fine-tuned every MiniLM layer, ``accurate@3`` multilingual-e5-small's top four on each text's first
#: 128 tokens, ``accurate@4`` the same on up to four 128-token windows per text (and scores four); ``lm@2`` has the
#: transferred threshold.
WEIGHTS_VERSIONS: dict[str, str] = {"fast": "2", "accurate": "4", "lm": "2"}

#: The share of held-out human texts left above the shipped threshold, per tier: the transferred level
#: ``summary.shipped_alpha`` of ``benchmarks/results/detect_folders.json`` (the largest share of
#: calibration humans at which the leave-one-folder-out runs flagged at most 1% of *unseen* folders'
#: humans on average; for ``accurate`` and ``multilingual`` no level reached that, and the smallest, 0.0001, puts the
#: threshold at the highest-scoring held-out human). Tiers not named use 1% of the held-out humans.
SHIPPED_ALPHA: dict[str, float] = {"fast": 0.0015, "lm": 0.0013, "accurate": 0.0001, "multilingual": 0.0001}


#: Every detector whose weights ship in the package, in build order.
SHIPPED = ("fast", "lm", "embed", "stack", "cascade", "accurate", "lm-hidden", "multilingual")

#: Documents per (source, label). The heavy tiers score each text with a language
#: model (about 5 docs/s) or fine-tune an encoder on a CPU, so they use a smaller, hash-chosen sample.
DEFAULT_CAP = {"fast": 3000, "lm": 750, "embed": 750, "stack": 750, "cascade": 750, "accurate": 300,
               "lm-hidden": 200, "multilingual": 500}


#: The folders of ``../shared/data/detect`` the shipped ``@1`` weights were trained on (English only).
SHIPPED_SOURCES: tuple[str, ...] = ("fastdetectgpt", "glimpse", "l2r", "outfox", "seqxgpt")

#: Tiers trained on every folder (all languages); the others on :data:`SHIPPED_SOURCES`.
ALL_FOLDER_TIERS: frozenset[str] = frozenset({"accurate", "lm-hidden", "multilingual"})

#: Languages each tier declares: English, plus a language whose leave-one-folder-out AUROC reached 0.8
#: (``scored_languages`` in ``benchmarks/results/detect_folders.json``). Training on a language is not
#: enough to declare it.
SHIPPED_LANGUAGES: dict[str, tuple[str, ...]] = {"fast": ("en",), "accurate": ("ar", "en"), "lm-hidden": ("en",),
                                                 "multilingual": ("en",)}


def default_lm_cache() -> Path:
    """Where training and benchmarks keep LM features between runs (``$SYNTHFILTER_CACHE`` or ``~/.cache/synthfilter``)."""
    root = os.environ.get("SYNTHFILTER_CACHE") or Path.home() / ".cache" / "synthfilter"
    return Path(root) / "lm_features_128.npz"


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The training options (shared by ``python -m synthfilter.detect.train`` and ``synthfilter detector train``)."""
    parser.add_argument("--data", default=None,
                        help="corpus folder (default: $SYNTHFILTER_DETECT_DATA, else ../shared/data/detect beside the "
                             "repository)")
    parser.add_argument("--detector", default="all", choices=["all", *SHIPPED],
                        help="which shipped detector to rebuild (default: all of them)")
    parser.add_argument("--cap", type=int, default=None,
                        help="documents per (source, label) (default: " +
                             ", ".join(f"{k} {v}" for k, v in DEFAULT_CAP.items()) + ")")
    parser.add_argument("--lm-cache", default=str(default_lm_cache()), help="LM feature cache (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", default="default",
                        help="comma-separated source folders, 'all', or 'default' (the shipped weights': every folder for "
                             f"{sorted(ALL_FOLDER_TIERS)}, else {','.join(SHIPPED_SOURCES)})")
    parser.add_argument("--out", default=None, help="output folder (default: the package's weights folder)")
    return parser
