"""synthfilter: drop-in Hugging Face ``datasets`` transforms against model collapse.

Tag likely AI-generated rows (:data:`tag`, :class:`Tagger`), with detectors that
follow the scikit-learn estimator API (:func:`load_detector`); enforce exact
human/synthetic mixes (:func:`enforce_quota`, :func:`mix`, :func:`quota_report`).
"""

from ._face import lazy_face
from ._version import __version__


__all__ = [
    "BaseDetector", "DedupReport", "Embedder", "FastDetector", "QuotaConfig", "QuotaReport", "ResampleConfig",
    "ResampleReport", "Reservoir", "ShareEstimate", "estimate_share", "calibrate_labels", "LabelCalibration",
    "dedup_semantic", "metrics", "resample_tails", "water_fill", "Tagger", "enforce_quota", "mix", "quota_report", "available_detectors", "hash64", "hash_keys",
    "load_detector", "normalize", "tag", "uniform", "__version__",
]

__getattr__, __dir__ = lazy_face(__name__, {
    ".detect": ["BaseDetector", "FastDetector", "available_detectors", "load_detector"],
    ".hashing": ["hash64", "hash_keys", "uniform"],
    ".quota": ["LabelCalibration", "QuotaConfig", "QuotaReport", "ShareEstimate", "calibrate_labels", "enforce_quota",
               "estimate_share", "mix", "quota_report"],
    ".diversity": ["DedupReport", "Embedder", "ResampleConfig", "ResampleReport", "dedup_semantic", "metrics",
                   "resample_tails", "water_fill"],
    ".reservoir": ["Reservoir"],
    ".tag": ["Tagger", "tag"],
    ".text": ["normalize"],
})
