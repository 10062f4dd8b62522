"""synthfilter: drop-in Hugging Face ``datasets`` transforms against model collapse.

Tag likely AI-generated rows (:data:`tag`, :class:`Tagger`), with detectors that
follow the scikit-learn estimator API (:func:`load_detector`); enforce exact
human/synthetic mixes (:func:`enforce_quota`, :func:`mix`, :func:`quota_report`).
"""

from .detect import BaseDetector, FastDetector, available_detectors, load_detector
from .hashing import hash64, hash_keys, uniform
from .quota import (LabelCalibration, QuotaConfig, QuotaReport, ShareEstimate, calibrate_labels, enforce_quota,
                    estimate_share, mix, quota_report)
from .diversity import (DedupReport, Embedder, ResampleConfig, ResampleReport, dedup_semantic, metrics,
                        resample_tails, water_fill)
from .reservoir import Reservoir
from .tag import Tagger, tag
from .text import normalize
from ._version import __version__


__all__ = [
    "BaseDetector", "DedupReport", "Embedder", "FastDetector", "QuotaConfig", "QuotaReport", "ResampleConfig",
    "ResampleReport", "Reservoir", "ShareEstimate", "estimate_share", "calibrate_labels", "LabelCalibration",
    "dedup_semantic", "metrics", "resample_tails", "water_fill", "Tagger", "enforce_quota", "mix", "quota_report", "available_detectors", "hash64", "hash_keys",
    "load_detector", "normalize", "tag", "uniform", "__version__",
]
