"""AI-text detectors: scikit-learn style estimators, a registry and shipped weights.

Tiers: ``fast`` (n-grams + stylometry; the default), ``lm`` (SmolLM2 zero-shot statistics),
``embed`` (MiniLM embeddings), ``stack`` (a calibrated head over LM statistics,
stylometry and cross-fitted n-gram scores) and ``cascade`` (fast first, the stack only
for uncertain rows); ``accurate`` (a transformer encoder whose top layers are fine-tuned;
its weights are trained by ``python -m synthfilter.detect.train --detector accurate``).
"""

from .._face import lazy_face


__all__ = [
    "BaseDetector", "FastDetector", "LMDetector", "LMScorer", "EmbedDetector", "StackDetector",
    "CascadeDetector", "EncoderDetector", "NotFittedError", "DetectorFileError", "DETECTORS", "available_detectors", "coerce_labels",
    "load_detector",
]

__getattr__, __dir__ = lazy_face(__name__, {
    ".base": ["BaseDetector", "NotFittedError", "coerce_labels"],
    ".embedding": ["EmbedDetector"],
    ".encoder": ["EncoderDetector"],
    ".fast": ["FastDetector"],
    ".lm": ["LMDetector", "LMScorer"],
    ".persist": ["DetectorFileError"],
    ".registry": ["DETECTORS", "available_detectors", "load_detector"],
    ".stack": ["CascadeDetector", "StackDetector"],
})
