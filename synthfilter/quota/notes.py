"""What a reader must be told when a synthetic share is counted from detector labels alone.

On text from sources a detector never saw, its threshold flags a small part of the AI
text (measured leave-one-folder-out by ``benchmarks/detect_folders.py`` and written to
the package by ``benchmarks/unseen_recall.py``), so a share counted from labels says
little about the true share and a labels quota often drops nothing. :func:`labels_note`
says so, with the detector's measured recall, and how to give a reference.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["labels_note", "unseen_recall", "no_reference_error", "REFERENCE_HOWTO", "MEASURED_PATH"]

#: Written by ``python benchmarks/unseen_recall.py`` from ``benchmarks/results/detect_folders.json``.
MEASURED_PATH = Path(__file__).resolve().parents[1] / "detect" / "weights" / "unseen_recall.json"

#: How to give the quota a reference (option names as Python arguments; the command line turns them into flags).
REFERENCE_HOWTO = ("give known-human text of the same kind: rows dated before generators existed "
                   "(first_seen_column=COL human_before=2022-11-30), rows from sources known to be human "
                   "(provenance_column=COL human_values=V), or a file of such text (reference=FILE)")


@lru_cache(maxsize=1)
def _measured() -> dict[str, Any]:
    try:
        return json.loads(MEASURED_PATH.read_text())
    except (OSError, ValueError):
        return {}


def unseen_recall(detector: str | None) -> dict[str, Any] | None:
    """The measured recall at its shipped threshold on unseen sources of the registry tier ``detector``
    (``name`` or ``name@version``), or ``None`` when it was not measured (a custom detector)."""
    if not detector:
        return None
    name, _, version = str(detector).partition("@")
    entry = _measured().get("tiers", {}).get(name)
    if entry is None or (version and entry.get("version") and entry["version"] != version):
        return None
    return entry


def labels_note(detector: str | None) -> str:
    """The note shown wherever a share is counted from ``detector``'s labels without a reference."""
    entry = unseen_recall(detector)
    measured = ""
    if entry is not None:
        measured = (f" (at its threshold {detector} flagged {entry['mean_recall']:.1%} of the AI text of sources "
                    f"it was not trained on, mean over {entry['folders']} held-out folders, "
                    f"{entry['min_recall']:.1%} to {entry['max_recall']:.1%}; benchmarks/detect_folders.py)")
    return ("labels understate the synthetic share on text from sources the detector was not trained on"
            f"{measured}, so this share is a lower bound and the quota may drop little of the AI text; "
            f"to hold the true share, {REFERENCE_HOWTO}")


def no_reference_error(detector: str | None = None) -> str:
    """Why a quota on the true share cannot run without known-human text, and what to do (option names as arguments)."""
    entry = unseen_recall(detector)
    measured = (f" (at its threshold {detector} flagged {entry['mean_recall']:.1%} of the AI text of sources it was "
                "not trained on)") if entry is not None else ""
    return ("max_synthetic holds the true synthetic share, which is estimated against known-human text of the same "
            f"kind as the input, and none was given: {REFERENCE_HOWTO}. Or ask for the share counted from detector "
            f"labels (basis=labels), which understates it on text from unseen sources{measured}")
