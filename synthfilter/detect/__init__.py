"""AI-text detectors: scikit-learn style estimators, a registry and shipped weights."""

from .base import BaseDetector, NotFittedError, coerce_labels
from .fast import FastDetector
from .registry import DETECTORS, available_detectors, load_detector

__all__ = [
    "BaseDetector", "FastDetector", "NotFittedError", "DETECTORS",
    "available_detectors", "coerce_labels", "load_detector",
]
