"""synthfilter: drop-in Hugging Face ``datasets`` transforms against model collapse.

Tag likely AI-generated rows (:data:`tag`, :class:`Tagger`), with detectors that
follow the scikit-learn estimator API (:func:`load_detector`).
"""

from .detect import BaseDetector, FastDetector, available_detectors, load_detector
from .hashing import hash64, hash_keys, uniform
from .tag import Tagger, tag
from .text import normalize

__version__ = "0.1.0"

__all__ = [
    "BaseDetector", "FastDetector", "Tagger", "available_detectors", "hash64", "hash_keys",
    "load_detector", "normalize", "tag", "uniform", "__version__",
]
