"""Diversity metrics: cluster coverage, rare-mass retention, Vendi score, distinct-n."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["coverage_entropy", "rare_mass_retained", "vendi_score", "distinct_n", "type_token_ratio"]


def coverage_entropy(counts: Sequence[int] | np.ndarray, normalised: bool = True) -> float:
    """Shannon entropy of the distribution of rows over clusters.

    ``normalised=True`` (default) divides by ``log(number of clusters)``, so 1.0 means
    every cluster holds the same share and 0.0 means one cluster holds everything.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.size <= 1 or c.sum() <= 0:
        return 0.0
    p = c[c > 0] / c.sum()
    h = float(-(p * np.log(p)).sum())
    return h / float(np.log(c.size)) if normalised else h


def rare_mass_retained(reference_labels: Sequence[int], labels: Sequence[int], rare_share: float = 0.2) -> float:
    """Share of the reference's rare-cluster mass that ``labels`` still carries.

    Rare clusters are the smallest clusters of the reference that together hold at most
    ``rare_share`` (default 20%) of its rows. Returns (share of ``labels`` in rare
    clusters) / (share of the reference in rare clusters): 1.0 = tails kept as in the
    reference, < 1 = tails lost, > 1 = tails inflated.
    """
    ref = np.asarray(reference_labels)
    cur = np.asarray(labels)
    clusters, counts = np.unique(ref, return_counts=True)
    order = np.argsort(counts, kind="stable")
    cum = np.cumsum(counts[order]) / counts.sum()
    rare = set(clusters[order][cum <= rare_share].tolist())
    if not rare or cur.size == 0:
        return float("nan")
    ref_mass = np.isin(ref, list(rare)).mean()
    return float(np.isin(cur, list(rare)).mean() / ref_mass)


def vendi_score(X: np.ndarray, sample: int = 1000, seed: int = 0) -> float:
    """Vendi score (Friedman & Dieng 2023) of up to ``sample`` rows under the cosine kernel.

    The exponential of the entropy of the eigenvalues of K/n: the effective number of
    distinct items (1 = all identical, n = all orthogonal).
    """
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        return 0.0
    if len(X) > sample:
        X = X[np.random.default_rng(seed).choice(len(X), sample, replace=False)]
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    Xn = X / norms
    eig = np.linalg.eigvalsh(Xn @ Xn.T / len(Xn))
    eig = eig[eig > 1e-12]
    return float(np.exp(-(eig * np.log(eig)).sum()))


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams of whitespace tokens in ``texts`` (0 if none)."""
    total, seen = 0, set()
    for text in texts:
        tokens = text.split() if isinstance(text, str) else []
        grams = list(zip(*(tokens[i:] for i in range(n))))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def type_token_ratio(texts: Sequence[str]) -> float:
    """Distinct tokens over tokens (distinct-1)."""
    return distinct_n(texts, 1)
