"""AI-text detectors: scikit-learn style estimators, a registry and shipped weights.

Tiers: ``fast`` (n-grams + stylometry; the default), ``lm`` (SmolLM2 zero-shot statistics),
``embed`` (MiniLM embeddings), ``stack`` (a calibrated head over LM statistics,
stylometry and cross-fitted n-gram scores) and ``cascade`` (fast first, the stack only
for uncertain rows); ``accurate`` (a transformer encoder whose top layers are fine-tuned;
its weights are trained by ``python -m synthfilter.detect.train --detector accurate``).
"""

from .base import BaseDetector, NotFittedError, coerce_labels
from .embedding import EmbedDetector
from .encoder import EncoderDetector
from .fast import FastDetector
from .lm import LMDetector, LMScorer
from .persist import DetectorFileError
from .registry import DETECTORS, available_detectors, load_detector
from .stack import CascadeDetector, StackDetector

__all__ = [
    "BaseDetector", "FastDetector", "LMDetector", "LMScorer", "EmbedDetector", "StackDetector",
    "CascadeDetector", "EncoderDetector", "NotFittedError", "DetectorFileError", "DETECTORS", "available_detectors", "coerce_labels",
    "load_detector",
]
