"""The output folder of ``clean``: which folders it may write into, and the files it owns there.

``OUT`` must be new, empty, or a folder an earlier ``clean`` wrote (its ``manifest.json``
says so). Any other folder that holds something (hidden names aside) is refused, naming
what it holds, as ``tag`` refuses to replace a folder that is not a saved dataset: a run
never deletes or overwrites files it did not write. In an earlier run's folder, ``clean``
replaces only its own files (:func:`owned`): ``output.<fmt>`` or its shards, ``report.json``,
``report.html``, ``manifest.json``, ``dropped/<n>-<step>.<fmt>`` and ``steps/<n>-<step>/``;
anything else there is left as it is. Temporary files a killed run left behind (hidden
names with a process id, written by :func:`synthfilter.io.atomic_path`) are removed by the
next run once it holds the lock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from ..io.files import is_hidden

__all__ = ["check_out_folder", "is_clean_folder", "owned", "remove_leftovers"]

_OUTPUT = re.compile(r"output(?:-\d{5}-of-\d{5})?\.(?:jsonl|parquet)")
_FILES = {"manifest.json", "report.json", "report.html"}
_STEP = re.compile(r"\d+-[a-z_]+")
_DROPPED = re.compile(r"\d+-[a-z_]+\.(?:jsonl|parquet)")
# atomic_path's temporary names (.NAME.tmp-<pid>-<hex>, .NAME.old-<pid>-<hex>) and a step's .tmp-<n>-<step>
_TEMPORARY = re.compile(r"\.(?:.+\.(?:tmp|old)-\d+-[0-9a-f]+|tmp-\d+-[a-z_]+)")


def owned(name: str, folder: str = "") -> bool:
    """Whether ``clean`` writes the entry ``name`` of ``OUT`` (``folder=""``), ``OUT/steps`` or ``OUT/dropped``."""
    if folder == "steps":
        return bool(_STEP.fullmatch(name))
    if folder == "dropped":
        return bool(_DROPPED.fullmatch(name))
    return name in _FILES or name in ("steps", "dropped") or bool(_OUTPUT.fullmatch(name))


def is_clean_folder(out: Path) -> bool:
    """Whether ``out/manifest.json`` is the manifest of a ``clean`` run."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "step_fingerprints" in manifest and "config" in manifest


def check_out_folder(out: Path) -> None:
    """Raise ``ValueError`` unless ``out`` is missing, an empty folder or an earlier ``clean`` run's folder."""
    if os.path.lexists(out) and not out.is_dir():
        raise ValueError(f"output {out} exists and is not a folder; clean writes a folder (output, report, "
                         f"manifest, steps): name a new or empty folder")
    if not out.is_dir():
        return
    try:
        held = sorted(n for n in os.listdir(out) if not is_hidden(n))
    except OSError as exc:
        raise ValueError(f"output {out}: cannot list this folder: {exc.strerror or exc}") from exc
    if held and not is_clean_folder(out):
        shown = ", ".join(held[:8]) + (f" (and {len(held) - 8} more)" if len(held) > 8 else "")
        raise ValueError(f"output {out} is a folder that an earlier clean run did not write (it holds {shown}); "
                         f"clean replaces files in its output folder, so it refuses one that holds anything "
                         f"else: name a new or empty folder")


def remove_leftovers(out: Path) -> list[str]:
    """Remove the temporary files and folders a killed run left in ``out``, ``out/steps`` and
    ``out/dropped`` (call it holding the run's lock); returns what was removed."""
    removed = []
    for folder in (out, out / "steps", out / "dropped"):
        if not folder.is_dir():
            continue
        for name in os.listdir(folder):
            if not _TEMPORARY.fullmatch(name):
                continue
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(str(path.relative_to(out)))
    return sorted(removed)
