"""Behaviour tests of the corpus-level synthetic-share estimate and the quota on it.

Covers :mod:`synthfilter.quota.estimate` (``bbe_share``, ``mle_share``, ``estimate_scores``,
``ScoreBins``, ``largest_kept_prefix``, ``ShareEstimate``), :func:`synthfilter.estimate_share`,
the reference forms (:mod:`synthfilter.quota.reference`) and
``enforce_quota(..., basis="estimated")`` (:mod:`synthfilter.quota.estimate_plan`).

Data are generated: human rows score ~ Beta(2, 6), AI rows ~ Beta(6, 2) (a detector that
separates them well), and every corpus carries a ``truth`` column, so the estimate can be
checked against the planted share. Labels come from a threshold on the score; a poor
threshold (0.9) makes the label count miss most synthetic rows, as a detector does on a
source it never saw.

The ``test_regression_*`` tests reproduce bugs found while writing this file (now fixed).
"""

import json
import math
import re

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthfilter as sf
from synthfilter.quota import ShareEstimate, enforce_quota, estimate_share
from synthfilter.quota.certify import certify_cut, kept_shares, split_bins
from synthfilter.quota.estimate import estimate_scores
from synthfilter.quota.estimators import ScoreBins, bbe_share, likelihood_bins, low_anchor, mle_share
from tests.conftest import make_texts

NAN = float("nan")


# --------------------------------------------------------------------------- data
def human_ref(n=2000, seed=7):
    """Known-human reference scores, ~ Beta(2, 6)."""
    return np.random.default_rng([seed, 0]).beta(2, 6, n)


def ai_ref(n=2000, seed=7):
    """Known-AI reference scores, ~ Beta(6, 2)."""
    return np.random.default_rng([seed, 1]).beta(6, 2, n)


def corpus(n, share, seed, threshold=0.5, groups=None, human_ab=(2, 6)):
    """A tagged-looking corpus: ``share`` of rows AI (``truth``), scores and labels by ``threshold``."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < share
    scores = np.where(truth, rng.beta(6, 2, n), rng.beta(*human_ab, n))
    data = {"id": list(range(n)), "text": [f"row {i}" for i in range(n)], "sf_score": scores.tolist(),
            "sf_label": np.where(scores >= threshold, "synthetic", "human").tolist(), "truth": truth.tolist()}
    if groups is not None:
        data["g"] = groups
    return datasets.Dataset.from_dict(data)


def true_share(ds):
    return float(np.mean(ds["truth"])) if ds.num_rows else 0.0


def interval(e):
    return (e.share, e.low, e.high)


# --------------------------------------------------------------------------- 1. accuracy
@pytest.mark.parametrize("method", ["bbe", "mle"])
@pytest.mark.parametrize("share", [0.0, 0.1, 0.3])
def test_estimate_recovers_planted_share_where_the_label_count_is_far_off(share, method):
    ds = corpus(2000, share, seed=1, threshold=0.9)  # a poor threshold: labels miss most AI rows
    truth = true_share(ds)
    ai = ai_ref() if method == "mle" else None
    est = estimate_share(ds, human_ref(), ai_reference=ai)
    assert est.method == method
    assert abs(est.share - truth) <= 0.05, est
    assert est.low <= truth <= est.high, est
    assert 0.0 <= est.low <= est.share <= est.high <= 1.0
    assert est.rows == 2000 and est.unknown == 0 and est.reference_rows == 2000
    assert est.ai_reference_rows == (2000 if method == "mle" else 0)
    labelled = np.array(ds["sf_label"]) == "synthetic"
    assert est.naive == pytest.approx(labelled.mean())
    if share > 0:
        assert est.naive < truth / 2, "the poor threshold makes the label count miss most synthetic rows"
        assert abs(est.share - truth) < abs(est.naive - truth) / 2


def test_method_auto_picks_mle_with_an_ai_reference_and_bbe_without():
    ds = corpus(500, 0.3, seed=2)
    assert estimate_share(ds, human_ref(), n_boot=50).method == "bbe"
    assert estimate_share(ds, human_ref(), ai_reference=ai_ref(), n_boot=50).method == "mle"
    assert estimate_share(ds, human_ref(), ai_reference=ai_ref(), method="bbe", n_boot=50).method == "bbe"
    with pytest.raises(ValueError, match="ai_reference"):
        estimate_share(ds, human_ref(), method="mle", n_boot=50)


def test_separation_statistics_reflect_how_far_corpus_and_references_are_apart():
    mixed = estimate_share(corpus(1000, 0.3, seed=3), human_ref(), ai_reference=ai_ref(), n_boot=50)
    clean = estimate_share(corpus(1000, 0.0, seed=3), human_ref(), ai_reference=ai_ref(), n_boot=50)
    assert mixed.reference_auroc > 0.95  # Beta(6,2) vs Beta(2,6)
    assert 0.45 < clean.separation < 0.55  # a human corpus scores like the human reference
    assert mixed.separation > clean.separation + 0.1


def test_wider_confidence_gives_a_wider_interval():
    ds = corpus(1000, 0.2, seed=4)
    narrow = estimate_share(ds, human_ref(), confidence=0.5, n_boot=100)
    wide = estimate_share(ds, human_ref(), confidence=0.99, n_boot=100)
    assert wide.high - wide.low > narrow.high - narrow.low
    assert wide.confidence == 0.99 and narrow.confidence == 0.5


# --------------------------------------------------------------------------- 2. honesty
def _indistinguishable(seed):
    """Corpus, human and AI reference scores all ~ Beta(2, 6): the detector cannot tell AI from human."""
    rng = np.random.default_rng(seed)
    return rng.beta(2, 6, 2000), rng.beta(2, 6, 2000), rng.beta(2, 6, 2000)


def test_mle_interval_is_wide_and_warned_about_when_the_detector_cannot_separate():
    corpus_scores, human, ai = _indistinguishable(0)
    est = estimate_scores(corpus_scores, human, ai)
    assert est.method == "mle"
    assert est.high - est.low > 0.3, f"a confident number where nothing is identifiable: {est.describe()}"
    assert 0.4 < est.reference_auroc < 0.6
    assert "barely separates the references" in str(est) and "weak" in str(est)
    separated = estimate_scores(corpus_scores, human_ref(), ai_ref())
    assert "barely separates" not in str(separated)


def test_regression_mle_interval_stays_wide_at_the_boundary_when_nothing_is_identifiable():
    corpus_scores, human, ai = _indistinguishable(51)
    est = estimate_scores(corpus_scores, human, ai)
    assert est.high - est.low > 0.3, est.describe()  # got [100%, 100%]


def test_bbe_on_identical_corpus_and_reference_is_zero():
    """Best-bin estimation with a human reference only is a *lower bound* on the synthetic share.

    It assumes the lowest-scoring region holds (almost) no synthetic text. Where AI text
    scores like human text it sees nothing, so the corpus below (30% AI rows, but scored
    exactly like the human reference) estimates near 0. This is the known, documented
    limitation (the report says "lower bound"); an AI reference (``mle``) is the remedy.
    """
    scores = human_ref(1500, seed=11)
    est = estimate_scores(scores, scores)
    # at the boundary the interval is the bootstrap's percentile interval: not a point, not wide
    assert est.share == 0.0 and est.low == 0.0 and 0.0 < est.high <= 0.1
    rng = np.random.default_rng(12)
    hidden = np.concatenate([rng.beta(2, 6, 1400), rng.beta(2, 6, 600)])  # 30% "AI" that scores like human text
    est = estimate_scores(hidden, human_ref())
    assert est.share < 0.1 < 0.3, "bbe cannot see AI text that scores like human text (lower bound)"
    assert "lower bound" in str(est)
    assert "lower bound" not in str(estimate_scores(hidden, human_ref(), ai_ref()))


# --------------------------------------------------------------------------- 3. determinism
def test_same_seed_same_estimate_and_the_seed_is_used():
    ds = corpus(1000, 0.2, seed=5)
    ref = human_ref()
    first = estimate_share(ds, ref, seed=3, n_boot=50)
    assert estimate_share(ds, ref, seed=3, n_boot=50).to_dict() == first.to_dict()
    others = {interval(estimate_share(ds, ref, seed=s, n_boot=50)) for s in range(4, 9)}
    assert any(o != interval(first) for o in others), "the bootstrap seed changes nothing"


def test_row_order_of_corpus_and_reference_does_not_change_the_estimate():
    ds = corpus(1000, 0.2, seed=6)
    ref = human_ref()
    base = estimate_share(ds, ref, ai_reference=ai_ref(), n_boot=50)
    perm = np.random.default_rng(0).permutation(ds.num_rows)
    shuffled = estimate_share(ds.select(perm), ref[::-1].copy(), ai_reference=ai_ref()[::-1].copy(), n_boot=50)
    assert shuffled.to_dict() == base.to_dict()
    out = enforce_quota(ds, 0.1, basis="estimated", reference=ref, id_column="id")
    out_shuffled = enforce_quota(ds.select(perm), 0.1, basis="estimated", reference=ref, id_column="id")
    assert sorted(out_shuffled["id"]) == out["id"]


# --------------------------------------------------------------------------- 4. unknown and known rows
def _with_extra_rows(ds, labels, scores, truth):
    start = ds.num_rows
    extra = datasets.Dataset.from_dict({
        "id": list(range(start, start + len(labels))), "text": [f"extra {i}" for i in range(len(labels))],
        "sf_score": list(scores), "sf_label": list(labels), "truth": list(truth)}, features=ds.features)
    return datasets.concatenate_datasets([ds, extra])


def test_unknown_rows_are_excluded_and_counted():
    ds = corpus(800, 0.3, seed=8)
    # 50 unscorable rows, and 10 rows labelled unknown that carry a score (the score is not used)
    extra = _with_extra_rows(ds, ["unknown"] * 60, [NAN] * 50 + [0.99] * 10, [False] * 60)
    base = estimate_share(ds, human_ref(), n_boot=50)
    est = estimate_share(extra, human_ref(), n_boot=50)
    assert est.unknown == 60 and est.rows == 800
    assert est.known_human == est.known_synthetic == 0
    assert interval(est) == interval(base)
    assert est.naive == base.naive, "unknown rows do not count in the label share either"


def test_rows_labelled_without_a_score_count_as_known():
    ds = corpus(600, 0.3, seed=9)
    kh, ks = 40, 25
    extra = _with_extra_rows(ds, ["human"] * kh + ["synthetic"] * ks + ["unknown"] * 5, [NAN] * (kh + ks + 5),
                             [False] * kh + [True] * ks + [False] * 5)
    base = estimate_share(ds, human_ref(), n_boot=50)
    est = estimate_share(extra, human_ref(), n_boot=50)
    assert (est.known_human, est.known_synthetic, est.rows, est.unknown) == (kh, ks, 600, 5)
    total = kh + ks + 600
    for got, scored in zip(interval(est), interval(base)):
        assert got == pytest.approx((ks + scored * 600) / total)
    labels = np.array(extra["sf_label"])
    assert est.naive == pytest.approx((labels == "synthetic").sum() / (labels != "unknown").sum())


def test_with_known_arithmetic_and_no_scored_rows():
    e = ShareEstimate(0.2, 0.1, 0.3, 0.05, 0.9, "bbe", rows=100, unknown=0, reference_rows=50)
    assert e.with_known(0, 0) is e
    k = e.with_known(50, 50)
    assert interval(k) == pytest.approx(((50 + 20) / 200, (50 + 10) / 200, (50 + 30) / 200))
    assert (k.known_human, k.known_synthetic, k.naive) == (50, 50, 0.05)
    empty = ShareEstimate(NAN, NAN, NAN, NAN, 0.9, "bbe", rows=0, unknown=3, reference_rows=50)
    assert interval(empty.with_known(3, 1)) == (0.25, 0.25, 0.25)
    only_unknown = datasets.Dataset.from_dict({"sf_score": [NAN] * 4, "sf_label": ["unknown"] * 4})
    est = estimate_share(only_unknown, human_ref(), n_boot=50)
    assert math.isnan(est.share) and est.unknown == 4 and est.rows == 0
    assert "not estimable" in est.describe()


def test_regression_estimate_share_without_a_label_column_uses_the_scores():
    ds = corpus(1000, 0.3, seed=10).remove_columns("sf_label")
    _, report = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id", return_report=True)
    assert report.estimate_before.rows == 1000  # the quota path does use the scores
    est = estimate_share(ds, human_ref(), n_boot=50)
    assert est.rows == 1000 and est.unknown == 0, est  # got rows=0, unknown=1000
    assert abs(est.share - true_share(ds)) < 0.06


# --------------------------------------------------------------------------- 5. by=
def test_by_gives_per_group_estimates_with_their_row_counts():
    n = 2000
    groups = ["a" if i % 4 else "b" for i in range(n)]  # 1500 a, 500 b
    rng = np.random.default_rng(13)
    truth = np.where(np.array(groups) == "a", rng.random(n) < 0.1, rng.random(n) < 0.5)
    scores = np.where(truth, rng.beta(6, 2, n), rng.beta(2, 6, n))
    labels = np.where(scores >= 0.5, "synthetic", "human").astype(object)
    labels[:20] = "unknown"
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "sf_score": scores.tolist(), "sf_label": labels.tolist(),
                                     "truth": truth.tolist(), "g": groups})
    est = estimate_share(ds, human_ref(), by="g", n_boot=100)
    assert set(est.by) == {"a", "b"}
    g = np.array(groups)
    for name in ("a", "b"):
        part = est.by[name]
        m = g == name
        assert part.rows == int((m & (labels != "unknown")).sum())
        assert part.unknown == int((m & (labels == "unknown")).sum())
        assert abs(part.share - truth[m & (labels != "unknown")].mean()) < 0.06
    assert est.rows == n - 20 and est.unknown == 20
    assert est.by["b"].share > est.by["a"].share + 0.25
    assert "  a: labels say" in str(est) and "  b: labels say" in str(est)


def _shifted_group_corpus():
    """Group a: human ~ Beta(2, 6); group b: human text the detector scores higher, ~ Beta(4, 4); no AI rows."""
    n = 1200
    groups = np.array(["a", "b"] * (n // 2))
    rng = np.random.default_rng(14)
    scores = np.where(groups == "a", rng.beta(2, 6, n), rng.beta(4, 4, n))
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "sf_score": scores.tolist(),
                                     "sf_label": np.where(scores >= 0.5, "synthetic", "human").tolist(),
                                     "truth": [False] * n, "g": groups.tolist()})
    ref_rng = np.random.default_rng(15)
    ref = {"sf_score": np.concatenate([ref_rng.beta(2, 6, 1000), ref_rng.beta(4, 4, 1000)]).tolist(),
           "g": ["a"] * 1000 + ["b"] * 1000}
    return ds, ref


def test_a_reference_with_the_group_column_is_matched_group_by_group():
    ds, ref = _shifted_group_corpus()
    grouped = estimate_share(ds, datasets.Dataset.from_dict(ref), by="g", n_boot=50)
    pooled = estimate_share(ds, np.array(ref["sf_score"]), by="g", n_boot=50)
    assert grouped.by["b"].share < 0.05 and grouped.by["a"].share < 0.05
    assert grouped.by["b"].reference_rows == 1000 and pooled.by["b"].reference_rows == 2000
    assert pooled.by["b"].share > 0.2, "the pooled reference misreads group b's higher-scoring human text"
    # a group the reference lacks is not estimated against another group's text, and its quota is refused
    only_a = datasets.Dataset.from_dict({"sf_score": ref["sf_score"][:1000], "g": ref["g"][:1000]})
    est = estimate_share(ds, only_a, by="g", n_boot=50)
    assert math.isnan(est.by["b"].share) and est.by["b"].check.verdict == "too_small"
    assert "0 scored rows" in est.by["b"].describe() and not math.isnan(est.by["a"].share)
    with pytest.raises(sf.quota.UnfitReference, match=r"0 scored rows.*group 'b'"):
        enforce_quota(ds, 0.1, by="g", reference=only_a, id_column="id")
    # and the quota on the estimate keeps group b's human rows with the grouped reference
    out = enforce_quota(ds, 0.1, basis="estimated", by="g", reference=datasets.Dataset.from_dict(ref), id_column="id")
    assert out["g"].count("b") > 0.9 * 600
    # the pooled reference scores above group a's human text: the unsafe direction, refused
    assert math.isnan(pooled.by["a"].share) and pooled.by["a"].check.verdict == "mismatch"
    with pytest.raises(sf.quota.UnfitReference, match=r"does not match the corpus.*group 'a'"):
        enforce_quota(ds, 0.1, basis="estimated", by="g", reference=np.array(ref["sf_score"]), id_column="id")


def test_regression_a_null_group_is_matched_to_the_reference_rows_of_the_null_group():
    ds, ref = _shifted_group_corpus()
    ds = ds.map(lambda r: {"g": None if r["g"] == "b" else r["g"]})
    ref = dict(ref, g=[None if x == "b" else x for x in ref["g"]])
    est = estimate_share(ds, datasets.Dataset.from_dict(ref), by="g", n_boot=50)
    assert est.by["<null>"].reference_rows == 1000, est.by["<null>"]  # got 2000: the whole reference
    assert est.by["<null>"].share < 0.05  # got ~0.95
    out = enforce_quota(ds, 0.1, basis="estimated", by="g", reference=datasets.Dataset.from_dict(ref), id_column="id")
    assert out["g"].count(None) > 0.9 * 600  # got 0


# --------------------------------------------------------------------------- 6. reference forms
@pytest.fixture(scope="module")
def text_corpus():
    """A corpus tagged by ``synthfilter.tag`` (210 human-style, 90 AI-style texts) and human reference texts."""
    texts = make_texts(210, "human", seed=1) + make_texts(90, "ai", seed=1)
    ds = datasets.Dataset.from_dict({"id": list(range(300)), "text": texts,
                                     "truth": [False] * 210 + [True] * 90}).map(sf.tag, batched=True)
    ref_texts = list(dict.fromkeys(make_texts(320, "human", seed=2)))[:300]
    tagged_ref = datasets.Dataset.from_dict({"text": ref_texts}).map(sf.tag, batched=True)
    assert set(ds["sf_detector"]) == set(tagged_ref["sf_detector"]) and len(set(ds["sf_detector"])) == 1
    assert not any(math.isnan(x) for x in tagged_ref["sf_score"]), "reference texts must all be scorable"
    return ds, ref_texts, tagged_ref


def test_every_reference_form_gives_the_same_estimate(text_corpus, tmp_path):
    ds, ref_texts, tagged_ref = text_corpus
    scores = np.array(tagged_ref["sf_score"], dtype=np.float64)
    base = estimate_share(ds, scores, n_boot=50)
    assert base.reference_rows == len(ref_texts)
    assert abs(base.share - 0.3) < 0.12 and base.naive < 0.2

    jsonl = tmp_path / "ref.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in ref_texts))
    scored_jsonl = tmp_path / "scored.jsonl"
    scored_jsonl.write_text("".join(json.dumps({"sf_score": float(s)}) + "\n" for s in scores))
    reservoir = sf.Reservoir(tmp_path / "reservoir")
    reservoir.add(ref_texts, source="test", licence="CC0", collected="2020-01-01")
    forms = {
        "list of floats": scores.tolist(),
        "tuple of floats": tuple(scores.tolist()),
        "float32 array": scores.astype(np.float32),
        "tagged Dataset": tagged_ref,
        "untagged Dataset": datasets.Dataset.from_dict({"text": ref_texts}),
        "list of texts": ref_texts,
        "JSONL path (texts)": str(jsonl),
        "JSONL Path (scores)": scored_jsonl,
        "Reservoir": reservoir,
        "Reservoir folder": str(tmp_path / "reservoir"),
    }
    for name, ref in forms.items():
        est = estimate_share(ds, ref, n_boot=50)
        assert est.reference_rows == len(ref_texts), name
        assert interval(est) == interval(base), name


def test_a_text_reference_is_tagged_with_the_corpus_detector(text_corpus):
    ds, ref_texts, _ = text_corpus
    other = ds.map(lambda r: {"sf_detector": "fast@999"})
    with pytest.raises(ValueError, match="tag the reference"):
        estimate_share(other, ref_texts[:50], n_boot=50)
    mixed = ds.map(lambda r, i: {"sf_detector": "fast@999" if i == 0 else r["sf_detector"]}, with_indices=True)
    with pytest.raises(ValueError, match="several detectors"):
        estimate_share(mixed, ref_texts[:50], n_boot=50)


def test_provenance_tagged_rows_count_as_known(text_corpus):
    ds, _, tagged_ref = text_corpus
    source = ["wiki" if i < 30 else ("bot" if i >= 290 else "web") for i in range(ds.num_rows)]
    tagger = sf.Tagger(provenance={"column": "source", "human": ["wiki"], "synthetic": ["bot"]})
    tagged = ds.remove_columns(["sf_score", "sf_label", "sf_detector", "sf_lang", "sf_reason"]) \
        .add_column("source", source).map(tagger, batched=True)
    est = estimate_share(tagged, tagged_ref, n_boot=50)
    assert (est.known_human, est.known_synthetic, est.rows) == (30, 10, 260)
    scored = estimate_share(tagged.filter(lambda r: r["source"] == "web"), tagged_ref, n_boot=50)
    assert est.share == pytest.approx((10 + scored.share * 260) / 300)


@pytest.mark.parametrize("bad", [42, {"text": ["a"]}, [True, False], ["a text", 0.5], np.array(["a", "b"]), None])
def test_a_reference_of_the_wrong_type_is_a_type_error_naming_it(bad):
    ds = corpus(100, 0.3, seed=16)
    if bad is None:  # ai_reference checked the same way
        with pytest.raises(TypeError, match="ai_reference"):
            estimate_share(ds, human_ref(), ai_reference=object(), n_boot=50)
        with pytest.raises(TypeError, match="ai_reference"):
            enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), ai_reference=object(), id_column="id")
        return
    with pytest.raises(TypeError, match="reference"):
        estimate_share(ds, bad, n_boot=50)
    with pytest.raises(TypeError, match="reference"):
        enforce_quota(ds, 0.1, basis="estimated", reference=bad, id_column="id")


def test_missing_score_columns_are_key_errors_that_say_how_to_tag():
    ds = corpus(100, 0.3, seed=17)
    with pytest.raises(KeyError, match="synthfilter.tag"):
        estimate_share(ds.remove_columns("sf_score"), human_ref(), n_boot=50)
    with pytest.raises(KeyError, match="synthfilter.tag"):
        enforce_quota(ds.remove_columns("sf_score"), 0.1, basis="estimated", reference=human_ref(), id_column="id")
    with pytest.raises(KeyError, match="reference: neither a score column"):
        estimate_share(ds, datasets.Dataset.from_dict({"x": [1.0]}), n_boot=50)


def test_an_empty_reference_is_a_clear_error():
    ds = corpus(100, 0.3, seed=18)
    with pytest.raises(ValueError, match="reference"):
        estimate_share(ds, np.array([NAN, NAN]), n_boot=50)
    with pytest.raises(ValueError, match="ai_reference"):
        estimate_share(ds, human_ref(), ai_reference=np.array([], dtype=float), n_boot=50)


# --------------------------------------------------------------------------- 7. the quota on the estimate
def _check_cut(ds, out):
    """Output is an order-preserving subset, and every kept scored row scores below every dropped one."""
    ids = out["id"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and set(ids) <= set(ds["id"])
    scores = np.array(ds["sf_score"], dtype=float)
    kept = np.zeros(ds.num_rows, bool)
    kept[ids] = True
    scored = np.isfinite(scores) & (np.array(ds["sf_label"]) != "unknown")
    if (kept & scored).any() and (~kept & scored).any():
        assert scores[kept & scored].max() < scores[~kept & scored].min()
    return kept


@pytest.mark.parametrize("with_ai", [False, True])
def test_estimated_quota_drops_the_highest_scores_until_the_estimate_meets_the_target(with_ai):
    ds = corpus(2000, 0.3, seed=2)
    ai = ai_ref() if with_ai else None
    out, report = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), ai_reference=ai,
                                id_column="id", return_report=True)
    _check_cut(ds, out)
    assert 0 < out.num_rows < ds.num_rows
    assert true_share(out) <= 0.12
    assert report.basis == "estimated"
    assert report.estimate_after.high <= 0.1 + 1e-9
    assert report.estimate_after.method == ("mle" if with_ai else "bbe")
    assert report.estimate_after.rows == out.num_rows
    assert abs(report.estimate_before.share - 0.3) < 0.05
    before = estimate_share(ds, human_ref(), ai_reference=ai)
    assert interval(report.estimate_before) == pytest.approx(interval(before))
    d = report.to_dict()
    assert d["rows_after"] == out.num_rows and d["dropped"] == {"likely-synthetic": ds.num_rows - out.num_rows}
    labels_basis = enforce_quota(ds, 0.1, id_column="id")
    assert true_share(labels_basis) > true_share(out)


def test_estimated_quota_holds_in_every_group():
    n = 2000
    groups = ["a" if i % 2 else "b" for i in range(n)]
    rng = np.random.default_rng(19)
    g = np.array(groups)
    truth = np.where(g == "a", rng.random(n) < 0.1, rng.random(n) < 0.5)
    scores = np.where(truth, rng.beta(6, 2, n), rng.beta(2, 6, n))
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "sf_score": scores.tolist(), "g": groups,
                                     "sf_label": np.where(scores >= 0.5, "synthetic", "human").tolist(),
                                     "truth": truth.tolist()})
    out, report = enforce_quota(ds, 0.1, basis="estimated", by="g", reference=human_ref(), id_column="id",
                                return_report=True)
    kept = _check_cut_per_group(ds, out, g)
    assert set(report.estimate_after.by) == {"a", "b"}
    for name in ("a", "b"):
        assert report.estimate_after.by[name].high <= 0.1 + 1e-9
        assert truth[kept & (g == name)].mean() <= 0.12, name
    assert report.estimate_after.high <= 0.1 + 1e-9
    assert report.estimate_before.by["b"].share > 0.4
    assert sum(report.after[x]["human"] + report.after[x]["synthetic"] for x in ("a", "b")) == out.num_rows


def _check_cut_per_group(ds, out, g):
    ids = out["id"]
    assert ids == sorted(ids)
    kept = np.zeros(ds.num_rows, bool)
    kept[ids] = True
    scores = np.array(ds["sf_score"])
    for name in set(g.tolist()):
        m = g == name
        if (kept & m).any() and (~kept & m).any():
            assert scores[kept & m].max() < scores[~kept & m].min()
    return kept


def test_unknown_rows_are_kept_or_dropped_and_never_move_the_cut():
    ds = corpus(1000, 0.3, seed=20)
    ds = _with_extra_rows(ds, ["unknown"] * 80, [NAN] * 80, [True] * 80)
    unknown_ids = set(range(1000, 1080))
    kept_h, rep_h = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                                  return_report=True)
    kept_d, rep_d = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                                  unknown="drop", return_report=True)
    assert unknown_ids <= set(kept_h["id"])
    assert not unknown_ids & set(kept_d["id"])
    assert rep_d.dropped["unknown"] == 80 and "unknown" not in rep_h.dropped
    assert sorted(set(kept_h["id"]) - unknown_ids) == kept_d["id"], "unknown rows are excluded from the estimate"
    assert rep_h.estimate_before.unknown == 80
    _check_cut(ds, kept_h)


def test_known_human_rows_are_always_kept_and_dilute_the_share():
    ds = corpus(1000, 0.3, seed=21)
    # 100 rows whose source is known human although the detector scores them highest
    source = ["web"] * 1000 + ["wiki"] * 100
    ds = _with_extra_rows(ds, ["synthetic"] * 100, [0.999] * 100, [False] * 100).add_column("source", source)
    wiki = set(range(1000, 1100))
    prov = {"column": "source", "human": ["wiki"]}
    out, report = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                                provenance=prov, return_report=True)
    assert wiki <= set(out["id"])
    assert report.estimate_after.known_human == 100 and report.estimate_after.high <= 0.1 + 1e-9
    without = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id")
    assert not wiki & set(without["id"]), "as scored rows they score highest and go first"
    web_kept = len(set(out["id"]) - wiki)
    assert web_kept >= 0.95 * len(without["id"]), "known-human rows dilute the share: about as many scored rows stay"
    # the same rows labelled human with no score (as synthfilter.tag writes provenance) are kept too
    unscored = ds.map(lambda r: {"sf_score": NAN, "sf_label": "human"} if r["source"] == "wiki" else {})
    out2 = enforce_quota(unscored, 0.1, basis="estimated", reference=human_ref(), id_column="id")
    assert out2["id"] == out["id"]


def test_known_synthetic_rows_fill_only_the_room_left():
    ds = corpus(1000, 0.0, seed=22)
    ds = _with_extra_rows(ds, ["synthetic"] * 60, [NAN] * 60, [True] * 60)
    known = set(range(1000, 1060))
    roomy, rep = enforce_quota(ds, 0.2, basis="estimated", reference=human_ref(), id_column="id",
                               return_report=True)
    assert known <= set(roomy["id"]) and rep.estimate_after.high <= 0.2 + 1e-9
    tight, rep = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                               return_report=True)
    kept_known = known & set(tight["id"])
    assert 0 < len(kept_known) < 60
    assert rep.estimate_after.known_synthetic == len(kept_known)
    assert rep.estimate_after.high <= 0.1 + 1e-9
    assert tight["id"] == enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                                        num_shards=4)["id"]
    other_seed = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id", seed=1)
    assert known & set(other_seed["id"]) != kept_known, "which known-synthetic rows stay is chosen by hash"


def test_regression_estimated_quota_with_a_zero_target_keeps_no_ai_rows_behind_a_zero_width_interval():
    ds = corpus(2000, 0.3, seed=1)
    rng = np.random.default_rng(1001)
    human, ai = rng.beta(2, 6, 2000), rng.beta(6, 2, 2000)
    out, report = enforce_quota(ds, 0.0, basis="estimated", reference=human, ai_reference=ai, id_column="id",
                                return_report=True)
    assert report.estimate_after.high == 0.0
    assert true_share(out) == 0.0, f"{sum(out['truth'])} AI rows kept of {out.num_rows}"


def test_estimated_quota_is_the_same_with_num_proc():
    ds = corpus(400, 0.3, seed=23, groups=["a", "b"] * 200)
    kw = dict(basis="estimated", reference=human_ref(), by="g", id_column="id")
    assert enforce_quota(ds, 0.1, num_proc=2, **kw)["id"] == enforce_quota(ds, 0.1, **kw)["id"]


def test_estimated_quota_argument_errors():
    ds = corpus(200, 0.3, seed=24)
    ref = human_ref()
    with pytest.raises(ValueError, match="reference"):
        enforce_quota(ds, 0.1, basis="estimated", id_column="id")
    with pytest.raises(ValueError, match="mode"):
        enforce_quota(ds, 0.1, basis="estimated", mode="exact", reference=ref, id_column="id")
    with pytest.raises(ValueError, match="whole dataset"):
        enforce_quota(ds.to_iterable_dataset(), 0.1, basis="estimated", reference=ref)
    with pytest.raises(ValueError, match="whole dataset"):
        enforce_quota(ds.to_iterable_dataset(), 0.1, reference=ref)
    for bad in (0, 1, 1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="confidence"):
            enforce_quota(ds, 0.1, basis="estimated", reference=ref, id_column="id", confidence=bad)
    with pytest.raises(ValueError, match="method"):
        enforce_quota(ds, 0.1, basis="estimated", reference=ref, id_column="id", method="median")
    with pytest.raises(ValueError, match="basis"):
        enforce_quota(ds, 0.1, basis="true", reference=ref, id_column="id")
    with pytest.raises(ValueError, match="ai_reference"):
        enforce_quota(ds, 0.1, basis="estimated", reference=ref, id_column="id", method="mle")
    with pytest.raises(ValueError, match="score_threshold"):
        enforce_quota(ds, 0.1, basis="estimated", reference=ref, id_column="id", score_threshold=0.5)
    with pytest.raises(ValueError, match="confidence"):
        estimate_share(ds, ref, confidence=1.0)
    with pytest.raises(ValueError, match="method"):
        estimate_share(ds, ref, method="median")
    with pytest.raises(ValueError, match="n_boot"):
        estimate_share(ds, ref, n_boot=5)
    with pytest.raises(TypeError, match="ds must be a datasets.Dataset"):
        estimate_share(ds.to_iterable_dataset(), ref)


# --------------------------------------------------------------------------- 8. properties
_score = st.one_of(st.floats(0, 1), st.just(NAN), st.sampled_from([0.0, 0.25, 0.5, 1.0]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_score, min_size=1, max_size=60), st.lists(st.floats(0, 1), min_size=50, max_size=70),
       st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5]), st.integers(1, 7), st.integers(0, 3),
       st.sampled_from(["human", "drop", "synthetic"]), st.booleans())
def test_property_estimated_quota_is_a_per_row_decision(scores, ref, target, batch, seed, unknown, with_ai):
    n = len(scores)
    labels = ["unknown" if math.isnan(x) else ("synthetic" if x >= 0.5 else "human") for x in scores]
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "sf_score": scores, "sf_label": labels,
                                     "g": [("a", "b")[i % 2] for i in range(n)]})
    kw = dict(basis="estimated", reference=np.array(ref), id_column="id", seed=seed, unknown=unknown, by="g")
    if with_ai:
        kw["ai_reference"] = 1 - np.array(ref)
    try:
        out, report = enforce_quota(ds, target, return_report=True, **kw)
    except sf.quota.UnfitReference as err:  # e.g. a reference scoring above the corpus: refused, never silently used
        assert "does not match" in str(err) or "scored rows" in str(err)
        with pytest.raises(sf.quota.UnfitReference):
            enforce_quota(ds, target, num_shards=3, **kw)
        return
    ids = out["id"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert enforce_quota(ds, target, **kw)["id"] == ids
    assert enforce_quota(ds, target, num_shards=3, **kw)["id"] == ids
    assert enforce_quota(ds.map(lambda b: b, batched=True, batch_size=batch), target, **kw)["id"] == ids
    perm = np.random.default_rng(seed).permutation(n)
    assert sorted(enforce_quota(ds.select(perm), target, **kw)["id"]) == ids
    for part in report.estimate_after.by.values():
        assert part.high <= target + 1e-9
    # within each group, kept scored rows score below dropped scored rows
    s = np.array(scores)
    kept = np.isin(np.arange(n), ids)
    scored = ~np.isnan(s)
    for g in (0, 1):
        m = scored & (np.arange(n) % 2 == g)
        if (kept & m).any() and (~kept & m).any():
            assert s[kept & m].max() < s[~kept & m].min()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=80), st.lists(st.floats(0, 1), min_size=1, max_size=80),
       st.integers(1, 12))
def test_property_score_bins_count_every_score_once_and_keep_ties_together(corpus_scores, human, max_bins):
    bins = ScoreBins.of(np.array(corpus_scores), np.array(human), max_bins=max_bins)
    assert len(bins.corpus) == len(bins.human) <= max_bins + 1
    assert bins.corpus.sum() == len(corpus_scores) and bins.human.sum() == len(human)
    assert np.all(np.diff(bins.edges) > 0)
    b = bins.bin_of(np.array(corpus_scores))
    assert np.array_equal(np.bincount(b, minlength=len(bins.corpus)), bins.corpus)
    for x, i in zip(corpus_scores, b):
        assert (bins.upper_edge(int(i) + 1) > x) and not (bins.upper_edge(int(i)) > x)


# --------------------------------------------------------------------------- estimators on counts
def test_batched_estimators_agree_with_one_at_a_time():
    rng = np.random.default_rng(25)
    corpus_scores = np.concatenate([rng.beta(2, 6, 700), rng.beta(6, 2, 300)])
    bins = ScoreBins.of(corpus_scores, human_ref(), ai_ref(), max_bins=64)
    boot = np.stack([rng.multinomial(bins.corpus.sum(), bins.corpus / bins.corpus.sum()) for _ in range(5)])
    human = np.repeat(bins.human[None], 5, 0)
    ai = np.repeat(bins.ai[None], 5, 0)
    batched_bbe = bbe_share(boot, human)
    batched_mle = mle_share(boot, human, ai)
    assert batched_bbe.shape == batched_mle.shape == (5,)
    for i in range(5):
        assert batched_bbe[i] == bbe_share(boot[i], bins.human)
        assert batched_mle[i] == mle_share(boot[i], bins.human, bins.ai)
    assert abs(float(mle_share(bins.corpus, bins.human, bins.ai)) - 0.3) < 0.03
    assert abs(float(bbe_share(bins.corpus, bins.human)) - 0.3) < 0.08
    assert math.isnan(float(bbe_share(np.zeros(3), np.ones(3))))
    assert math.isnan(float(mle_share(np.zeros(3), np.ones(3), np.ones(3))))


def _split_case(seed, method, n_human=1400, n_ai=600):
    rng = np.random.default_rng(seed)
    truth = np.r_[np.zeros(n_human, bool), np.ones(n_ai, bool)]
    scores = np.where(truth, rng.beta(6, 2, len(truth)), rng.beta(2, 6, len(truth)))
    human, ai = human_ref(seed=seed), ai_ref(seed=seed) if method == "mle" else None
    halves = [rng.random(len(a)) < 0.5 if a is not None else None for a in (scores, human, ai)]
    return truth, scores, split_bins(scores, halves[0], human, halves[1], ai, halves[2])


@pytest.mark.parametrize("method", ["bbe", "mle"])
def test_certified_cut_is_the_last_of_an_ascending_ladder_and_holds_on_the_certification_half(method):
    truth, scores, (full, select, certify) = _split_case(26, method)
    d = certify_cut(full, select, certify, 0.1, method=method, n_boot=50)
    edges = [step["edge"] for step in d.ladder]
    assert edges == sorted(edges) and len(edges) >= 2
    passed = [step["passed"] for step in d.ladder]
    assert all(passed[:-1]), "the ladder stops at its first failure"
    assert d.edge == max(step["edge"] for step in d.ladder if step["passed"])
    assert 0 < d.bins < full.n_bins and d.low <= d.share <= d.high <= 0.1 + 1e-12 and d.bound == pytest.approx(d.high)
    groups = None if method == "bbe" else likelihood_bins(certify.human, certify.ai)
    anchor = low_anchor(full.corpus, full.human) if method == "bbe" else None
    assert d.share == pytest.approx(kept_shares(method, certify.corpus, certify.human, certify.ai, groups, anchor)[d.bins])
    if method == "bbe":  # the ladder starts at the anchor of all rows, where the kept share is 0 by assumption
        assert d.ladder[0]["high"] == 0.0 and d.ladder[0]["kept"] <= full.corpus[:anchor + 1].sum()
    assert (scores < d.edge).sum() == full.corpus[:d.bins].sum()
    # a loose target keeps every row; known-human rows dilute the share, so more scored rows fit
    assert certify_cut(full, select, certify, 0.99, method=method, n_boot=50).edge == math.inf
    assert certify_cut(full, select, certify, 0.1, method=method, n_boot=50, known_human=3000).bins > d.bins


def _oracle_kept(scores, truth, share):
    """Rows an oracle keeps (lowest scores first) at a true synthetic share of at most ``share``."""
    order = np.argsort(scores)
    n = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(np.cumsum(truth[order]) <= share * n + 1e-9)
    return int(n[ok[-1]]) if len(ok) else 0


def test_certified_cut_holds_the_true_share_in_all_but_a_few_runs_where_the_anchor_assumption_holds():
    # human ~ Beta(2, 8), AI ~ Beta(8, 2): the lowest scores hold (almost) no AI text, as the anchor assumes
    over, vs_oracle = [], []
    for seed in range(40):
        rng = np.random.default_rng([seed, 30])
        truth = np.r_[np.zeros(1400, bool), np.ones(600, bool)]
        scores = np.where(truth, rng.beta(8, 2, 2000), rng.beta(2, 8, 2000))
        full, select, certify = split_bins(scores, rng.random(2000) < 0.5, rng.beta(2, 8, 2000), rng.random(2000) < 0.5)
        d = certify_cut(full, select, certify, 0.1, seed=seed, n_boot=100)
        kept = scores < d.edge
        share = truth[kept].mean()
        over.append(share > 0.1)
        vs_oracle.append(kept.sum() / _oracle_kept(scores, truth, share))
    assert np.mean(over) <= 0.1, f"true kept share above the target in {np.mean(over):.0%} of runs (nominal 5%)"
    assert np.median(vs_oracle) >= 0.7, "at the same true share, most of what an oracle keeps is kept"


# --------------------------------------------------------------------------- 9. report text
def test_report_and_describe_text_and_json():
    ds = corpus(1000, 0.3, seed=27)
    est = estimate_share(ds, human_ref(), n_boot=50)
    line = est.describe()
    assert re.fullmatch(r"labels say \d+(\.\d)?%; estimated true share \d+(\.\d)?% \[\d+(\.\d)?%, \d+(\.\d)?%\]",
                        line), line
    assert line.startswith(f"labels say {100 * est.naive:.0f}%") or line.startswith(f"labels say {100 * est.naive:.1f}%")
    assert f"estimated true share {100 * est.share:.0f}%" in line
    d = json.loads(json.dumps(est.to_dict()))
    assert d["share"] == round(est.share, 6) and d["method"] == "bbe" and d["rows"] == 1000 and d["by"] == {}
    assert d["ai_reference_rows"] == 0 and d["reference_auroc"] is None  # NaN as null
    grouped = estimate_share(corpus(400, 0.3, seed=28, groups=["x", "y"] * 200), human_ref(), by="g", n_boot=50)
    assert set(json.loads(json.dumps(grouped.to_dict()))["by"]) == {"x", "y"}

    out, report = enforce_quota(ds, 0.1, basis="estimated", reference=human_ref(), id_column="id",
                                return_report=True)
    text = str(report)
    assert "labels say" in text and "estimated true share" in text
    assert "target estimated true share (top of its interval) <= 0.1" in text
    assert f"before: {report.estimate_before.describe()}" in text
    parsed = json.loads(report.to_json())
    assert parsed["basis"] == "estimated"
    assert parsed["estimated_share_after"]["high"] <= 0.1 + 1e-6
    assert parsed["estimated_share_before"]["rows"] == 1000
    plain = str(enforce_quota(ds, 0.1, id_column="id", return_report=True)[1])
    assert "true share not estimated" in plain and "estimated true share" not in plain.replace("not estimated", "")


# --------------------------------------------------------------------------- 10. the labels basis with a reference
def test_labels_basis_with_a_reference_reports_the_estimate_and_keeps_the_same_rows():
    ds = corpus(1000, 0.3, seed=29, groups=["x", "y"] * 500)
    out, report = enforce_quota(ds, 0.1, by="g", reference=human_ref(), id_column="id", return_report=True,
                                basis="labels")
    plain, plain_report = enforce_quota(ds, 0.1, by="g", id_column="id", return_report=True)
    assert enforce_quota(ds, 0.1, by="g", reference=human_ref(), id_column="id",
                         return_report=True)[1].basis == "estimated", "with a reference the default is the estimate"
    assert out["id"] == plain["id"]
    assert report.basis == "labels" and plain_report.estimate_before is None
    assert report.before == plain_report.before and report.after == plain_report.after
    assert interval(report.estimate_before) == interval(estimate_share(ds, human_ref(), by="g"))
    assert interval(report.estimate_after) == interval(estimate_share(out, human_ref(), by="g"))
    assert set(report.estimate_before.by) == {"x", "y"}
    assert report.estimate_after.rows == out.num_rows
    assert report.estimate_after.share < report.estimate_before.share
    # the labels quota meets the labelled share, not the estimated one (threshold 0.5 misses some AI rows)
    assert report.to_dict()["realised_share"] <= 0.1
    assert report.estimate_after.share > 0.1 - 0.05
