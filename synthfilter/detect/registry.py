"""Named detectors and their shipped weights.

``load_detector("fast")`` returns the fitted detector whose weights ship inside the
package (``synthfilter/detect/weights/<name>.npz``); ``load_detector(path)`` reads
a file written by ``detector.save(path)``; ``load_detector("fast", fitted=False)``
returns an unfitted instance to train on your own data.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from .base import BaseDetector
from .embedding import EmbedDetector, MultilingualDetector
from .encoder import EncoderDetector
from .fast import FastDetector
from .lm import LMDetector
from .lm_hidden import LMHiddenDetector
from .persist import DetectorFileError, read_detector_meta
from .stack import CascadeDetector, StackDetector

__all__ = ["DETECTORS", "load_detector", "available_detectors", "weights_path", "detector_file"]

#: Registry: detector name -> class.
DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls for cls in (FastDetector, LMDetector, EmbedDetector, StackDetector, CascadeDetector, EncoderDetector,
                LMHiddenDetector, MultilingualDetector)
}


def available_detectors() -> list[str]:
    """Names accepted by :func:`load_detector`."""
    return sorted(DETECTORS)


def weights_path(name: str) -> Path:
    """Where the shipped weights of detector ``name`` live inside the package."""
    return Path(str(resources.files("synthfilter.detect") / "weights" / f"{name}.npz"))


def detector_file(name_or_path: str | os.PathLike) -> Path:
    """The file :func:`load_detector` reads for ``name_or_path``: the shipped weights of a registry
    name, else the path itself (whose content, not name, identifies the detector)."""
    key = str(name_or_path)
    return weights_path(key) if key in DETECTORS else Path(key)


def load_detector(name_or_path: str | os.PathLike = "fast", *, fitted: bool = True, require_digest: bool = True,
                  **params: Any) -> BaseDetector:
    """Return a detector by registry name or by the path of a saved ``.npz``.

    Parameters
    ----------
    name_or_path:
        A name from :func:`available_detectors` (default ``"fast"``) or the path of
        a file written by ``BaseDetector.save``.
    fitted:
        With a registry name: ``True`` (default) loads the shipped weights,
        ``False`` returns a fresh unfitted detector.
    require_digest:
        ``True`` (default) refuses a file without a SHA-256 digest; ``False`` accepts
        one written before files carried a digest (see ``BaseDetector.load``).
    **params:
        Constructor parameters (e.g. ``model=`` of the LM tiers). A file never
        chooses a model: parameters naming one come from here or the class
        defaults, and a file storing another value is ignored with a warning.

    A file is checked field by field before use; any problem raises ``ValueError``
    naming the file and what is wrong.
    """
    key = str(name_or_path)
    if key in DETECTORS:
        cls = DETECTORS[key]
        if not fitted:
            return cls(**params)
        path = weights_path(key)
        if not path.exists():
            raise FileNotFoundError(
                f"shipped weights for detector {key!r} are missing ({path}); rebuild them with "
                "`python -m synthfilter.detect.train`"
            )
        return cls.load(path, require_digest=require_digest, **params)
    path = Path(key)
    if path.suffix == ".npz" and path.exists():
        kind = read_detector_meta(path)["detector"]
        if kind not in DETECTORS:
            raise DetectorFileError(path, f"unknown detector kind {kind!r:.100}; expected one of {available_detectors()}")
        return DETECTORS[kind].load(path, require_digest=require_digest, **params)
    raise ValueError(
        f"detector: {key!r} is neither a known detector {available_detectors()} nor a saved .npz file"
    )
