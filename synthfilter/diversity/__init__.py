"""Tail diversity: encoders, clustering, tail resampling, semantic dedup and diversity metrics.

* :mod:`~synthfilter.diversity.encoders`: :class:`Embedder` (MiniLM offline, any
  sentence-transformers model, or the stateless ``hashing`` encoder).
* :mod:`~synthfilter.diversity.clustering`: row vectors, hierarchical k-means, water-filling.
* :mod:`~synthfilter.diversity.resample`: :func:`resample_tails` and :class:`ResampleConfig`.
* :mod:`~synthfilter.diversity.dedup`: :func:`dedup_semantic`.
* :mod:`~synthfilter.diversity.metrics`: coverage entropy, rare mass, Vendi score, distinct-n.
"""

from .._face import lazy_face


__all__ = ["Embedder", "ResampleConfig", "ResampleReport", "DedupReport", "resample_tails", "dedup_semantic",
           "water_fill", "row_features", "row_hashes", "fit_hierarchy", "assign_clusters", "default_levels", "metrics",
           "EMBEDDING_COLUMN", "CLUSTER_COLUMN"]

__getattr__, __dir__ = lazy_face(__name__, {
    ".metrics": [":"],
    ".clustering": ["assign_clusters", "default_levels", "fit_hierarchy", "row_features", "row_hashes", "water_fill"],
    ".dedup": ["DedupReport", "dedup_semantic"],
    ".encoders": ["EMBEDDING_COLUMN", "Embedder"],
    ".resample": ["CLUSTER_COLUMN", "ResampleConfig", "ResampleReport", "resample_tails"],
})
