"""Named detectors and their shipped weights.

``load_detector("fast")`` returns the fitted detector whose weights ship inside the
package (``synthfilter/detect/weights/<name>.npz``); ``load_detector(path)`` reads
a file written by ``detector.save(path)``; ``load_detector("fast", fitted=False)``
returns an unfitted instance to train on your own data.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import numpy as np

from .base import BaseDetector
from .embedding import EmbedDetector
from .fast import FastDetector
from .lm import LMDetector
from .stack import CascadeDetector, StackDetector

__all__ = ["DETECTORS", "load_detector", "available_detectors", "weights_path"]

#: Registry: detector name -> class.
DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls for cls in (FastDetector, LMDetector, EmbedDetector, StackDetector, CascadeDetector)
}


def available_detectors() -> list[str]:
    """Names accepted by :func:`load_detector`."""
    return sorted(DETECTORS)


def weights_path(name: str) -> Path:
    """Where the shipped weights of detector ``name`` live inside the package."""
    return Path(str(resources.files("synthfilter.detect") / "weights" / f"{name}.npz"))


def load_detector(name_or_path: str | os.PathLike = "fast", *, fitted: bool = True) -> BaseDetector:
    """Return a detector by registry name or by the path of a saved ``.npz``.

    Parameters
    ----------
    name_or_path:
        A name from :func:`available_detectors` (default ``"fast"``) or the path of
        a file written by ``BaseDetector.save``.
    fitted:
        With a registry name: ``True`` (default) loads the shipped weights,
        ``False`` returns a fresh unfitted detector with default parameters.
    """
    key = str(name_or_path)
    if key in DETECTORS:
        cls = DETECTORS[key]
        if not fitted:
            return cls()
        path = weights_path(key)
        if not path.exists():
            raise FileNotFoundError(
                f"shipped weights for detector {key!r} are missing ({path}); rebuild them with "
                "`python -m synthfilter.detect.train`"
            )
        return cls.load(path)
    path = Path(key)
    if path.suffix == ".npz" and path.exists():
        with np.load(path, allow_pickle=False) as data:
            kind = json.loads(str(data["__meta__"])).get("detector")
        if kind not in DETECTORS:
            raise ValueError(f"{path}: unknown detector kind {kind!r}")
        return DETECTORS[kind].load(path)
    raise ValueError(
        f"detector: {key!r} is neither a known detector {available_detectors()} nor a saved .npz file"
    )
