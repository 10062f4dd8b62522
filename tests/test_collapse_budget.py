"""keep-real's per-generation real subset (and keep-real-fixed's fixed one), and real-data budget accounting."""

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, parse_policy, run_cell
from synthfilter.collapse.policies import detector_real_rows, kept_real_rows
from synthfilter.collapse.runner import REAL_ROW_FIELDS, real_budget
from synthfilter.collapse.scenarios import make_scenario
from synthfilter.hashing import hash64, hash_keys

N = 40


def trained_real_positions(monkeypatch, policy, seed, policies=None, generations=5, n=N):
    """For each generation >= 1, the positions in the generation-0 real data of the real rows the model trained on.

    Gaussian rows are distinct floats, so the real rows in a training set are found by value among
    those of the initial fit (the first call to ``fit``); nothing inside the runner is read.
    """
    calls = []
    cls = type(make_scenario("gaussian"))
    original = cls.fit

    def fit(self, data, rng):
        calls.append(np.array(data, dtype=float).reshape(len(data), -1)[:, 0].copy())
        return original(self, data, rng)

    cfg = RunConfig("gaussian", policies or [policy], generations=generations, seeds=1, options={"n": n})
    with monkeypatch.context() as m:
        m.setattr(cls, "fit", fit)
        rows = run_cell(cfg, policy, seed)
    real0 = calls[0]
    assert len(calls) == generations + 1 and len(np.unique(real0)) == n
    return [np.flatnonzero(np.isin(real0, data)) for data in calls[1:]], rows


def hash_chosen(k, seed, key, n=N):
    """The k of n generation-0 rows with the smallest hash under hash64(seed, key): what keep-real documents."""
    return np.sort(np.argsort(hash_keys(np.arange(n, dtype=np.int64), hash64(seed, key)), kind="stable")[:k])


def test_keep_real_draws_a_new_hash_chosen_real_subset_each_generation(monkeypatch):
    k = 10
    subsets, rows = trained_real_positions(monkeypatch, "keep-real:0.25", seed=3)
    assert all(len(s) == k for s in subsets)
    assert len({tuple(s) for s in subsets}) == len(subsets), "a different real subset every generation"
    assert not any(np.array_equal(s, np.arange(k)) for s in subsets), "not the first k rows"
    for gen, s in enumerate(subsets, start=1):
        assert np.array_equal(s, kept_real_rows(np.arange(N), k, 3, gen))
        assert np.array_equal(s, hash_chosen(k, 3, f"keep-real/generation={gen}"))
    # deterministic for a seed, different for another
    again, rows_again = trained_real_positions(monkeypatch, "keep-real:0.25", seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(subsets, again)) and rows == rows_again
    other, _ = trained_real_positions(monkeypatch, "keep-real:0.25", seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(subsets, other))
    # independent of the other policies in the config and of their order, and of the steps that follow
    mixed, rows_mixed = trained_real_positions(monkeypatch, "keep-real:0.25", seed=3,
                                               policies=["fresh-real:0.5", "keep-real:0.25", "replace"])
    assert all(np.array_equal(a, b) for a, b in zip(subsets, mixed)) and rows_mixed == rows
    quota, _ = trained_real_positions(monkeypatch, "keep-real:0.25+quota:0.5", seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(subsets, quota))


def test_keep_real_fixed_keeps_one_hash_chosen_subset_every_generation(monkeypatch):
    k = 10
    subsets, _ = trained_real_positions(monkeypatch, "keep-real-fixed:0.25", seed=3)
    assert all(np.array_equal(s, subsets[0]) for s in subsets) and len(subsets[0]) == k
    assert np.array_equal(subsets[0], kept_real_rows(np.arange(N), k, 3, None))
    assert np.array_equal(subsets[0], hash_chosen(k, 3, "keep-real-fixed"))
    assert not np.array_equal(subsets[0], np.arange(k)), "hash-chosen, not the first k rows"
    other, _ = trained_real_positions(monkeypatch, "keep-real-fixed:0.25", seed=4)
    assert not np.array_equal(other[0], subsets[0])
    per_generation, _ = trained_real_positions(monkeypatch, "keep-real:0.25", seed=3)
    assert not any(np.array_equal(s, subsets[0]) for s in per_generation)
    # F = 1 keeps every real row, fixed or not
    everything, _ = trained_real_positions(monkeypatch, "keep-real:1", seed=3, generations=2)
    assert all(np.array_equal(s, np.arange(N)) for s in everything)


def test_a_fixed_real_subset_loses_a_minority_class_a_per_generation_subset_keeps():
    # 90% / 10% categories, n = 100: keep-real:0.1 trains on 10 real rows a generation; in about a
    # third of seeds a fixed 10 hold no minority row, and once the model drops the class it never returns
    cfg = RunConfig("categorical", ["keep-real:0.1"], generations=30, seeds=60,
                    options={"categories": 2, "zipf": 3.17, "n": 100})

    def support(policy):
        return np.array([[r["support_ratio"] for r in run_cell(cfg, policy, s)] for s in range(cfg.seeds)])

    fixed, fresh = support("keep-real-fixed:0.1"), support("keep-real:0.1")
    fixed_lost, fresh_lost = (fixed[:, -1] < 1).sum(), (fresh[:, -1] < 1).sum()
    assert fixed_lost >= 10 and fresh_lost <= 6 and fixed_lost >= fresh_lost + 6, (fixed_lost, fresh_lost)
    # the mechanism: with a fixed subset a lost class stays lost; a per-generation subset brings it back
    for curve in fixed:
        lost = np.flatnonzero(curve < 1)
        assert not len(lost) or (curve[lost[0]:] < 1).all()
    assert any((curve < 1).any() and curve[-1] == 1 for curve in fresh)


REF, FPR = 30, 0.02  # a fitted detector draws 30 known-real rows, then max(30, ceil(1 / 0.02)) = 50 to calibrate
DETECTOR = REF + 50


@pytest.mark.parametrize("policy,offered,trained,detector,reference,fresh", [
    ("replace", 0, 0, 0, 0, 0),
    ("real-only", 50, 50, 0, 0, 0),
    ("accumulate", 50, 50, 0, 0, 0),
    ("keep-real:0.2", 10, 10, 0, 0, 0),
    ("keep-real-fixed:0.2", 10, 10, 0, 0, 0),
    ("fresh-real:0.2", 10, 10, 0, 0, 10),
    ("accumulate+quota:0.1", 50, 50, 0, 0, 0),  # 90% real in the pool: it uses 5 times keep-real:0.2's real rows
    ("accumulate+filter", 50, None, DETECTOR, 0, DETECTOR),  # the detector's reference data is fresh real data
    ("filter:0.9:0.05", 50, None, 0, 0, 0),  # a simulated detector needs no real data
    ("tail:ref", 50, None, 0, 50, 0),  # reads generation 0's rows as its reference, trains on a few of them
    ("replace+tail:ref", 0, 0, 0, 50, 0),  # trains on no real row, yet reads all n as its reference
    ("keep-real:0.2+tail:ref", 10, None, 0, 50, 0),
    ("fresh-real:0.2+tail:ref", 10, None, 0, 50, 10),  # fresh rows are not in the reference: both count
])
def test_result_rows_report_every_real_row_a_generation_reads(policy, offered, trained, detector, reference, fresh):
    n, gens = 50, 3
    cfg = RunConfig("gaussian", [policy], generations=gens, seeds=1, options={"n": n},
                    reference_size=REF, detector_fpr=FPR)
    assert detector_real_rows(cfg.reference_size, cfg.detector_fpr) == DETECTOR
    rows = run_cell(cfg, policy, 0)
    assert {k: rows[0][k] for k in REAL_ROW_FIELDS} == {
        "real_rows": n, "real_rows_offered": n, "real_rows_trained": n, "real_rows_detector": 0,
        "real_rows_reference": 0, "real_rows_fresh": n, "real_rows_distinct": n}
    for gen, row in enumerate(rows[1:], start=1):
        budget = real_budget(policy, n, cfg, generation=gen)
        assert all(isinstance(row[k], int) for k in REAL_ROW_FIELDS)
        assert row["real_rows_offered"] == offered == budget["real_rows_offered"]
        assert row["real_rows_detector"] == detector == budget["real_rows_detector"]
        assert row["real_rows_reference"] == reference == budget["real_rows_reference"]
        assert row["real_rows_fresh"] == fresh == budget["real_rows_fresh"]
        # every row read counts once: the pool's real rows and the reference, plus the detector's
        read = (offered + reference if policy.startswith("fresh-real") else max(offered, reference)) + detector
        assert row["real_rows"] == read == budget["real_rows"] == budget["real_rows_max"]
        assert row["real_rows"] >= row["real_rows_trained"] + row["real_rows_detector"]
        assert row["real_rows_distinct"] == n + gen * fresh == budget["real_rows_distinct"]
        assert row["real_rows_trained"] == round((1 - row["synthetic_share"]) * row["train_rows"])
        if trained is not None:
            assert row["real_rows_trained"] == trained == budget["real_rows_trained"] and budget["exact"]
        elif "filter" in policy:  # a filter drops some real rows (its false positives): an expectation
            assert 0.7 * offered <= row["real_rows_trained"] <= offered and not budget["exact"]
            assert abs(row["real_rows_trained"] - budget["real_rows_trained"]) <= 0.2 * offered
        else:  # tail chooses rows by value: how many real rows it keeps is not known in advance
            assert row["real_rows_trained"] <= offered and budget["real_rows_trained"] is None
    assert sum(r["real_rows_fresh"] for r in rows) == n + gens * fresh == rows[-1]["real_rows_distinct"]
    if policy == "accumulate+quota:0.1":
        assert all(r["synthetic_share"] <= 0.1 and r["train_rows"] <= 55 for r in rows)
    if policy == "real-only":  # the control never sees a generated row
        assert all(r["synthetic_share"] == 0 and r["train_rows"] == n for r in rows)


def test_real_budget_tells_policies_apart_without_running():
    b = {p: real_budget(p, 100) for p in ["keep-real:0.1", "keep-real-fixed:0.1", "fresh-real:0.1", "quota:0.1",
                                          "accumulate", "filter", "filter:0.8:0.05", "replace", "tail:ref",
                                          "real-only"]}
    assert b["keep-real:0.1"]["real_rows"] == b["keep-real-fixed:0.1"]["real_rows"] == 10
    assert b["quota:0.1"]["real_rows"] == b["accumulate"]["real_rows"] == b["real-only"]["real_rows"] == 100
    assert b["fresh-real:0.1"]["real_rows"] == b["fresh-real:0.1"]["real_rows_fresh"] == 10
    assert b["keep-real:0.1"]["real_rows_fresh"] == b["quota:0.1"]["real_rows_fresh"] == 0
    default_detector = 200 + 200  # RunConfig defaults: reference_size 200, detector_fpr 0.05
    assert b["filter"]["real_rows_detector"] == b["filter"]["real_rows_fresh"] == default_detector
    assert b["filter"]["real_rows"] == 100 + default_detector  # it reads every offered row, dropped or not
    assert b["filter"]["real_rows_trained"] == pytest.approx(95)
    assert b["filter:0.8:0.05"]["real_rows"] == 100 and b["filter:0.8:0.05"]["real_rows_fresh"] == 0
    assert b["replace"]["real_rows"] == 0 and b["replace"]["exact"]
    # tail:ref reads the n generation-0 rows as its reference, whatever it trains on
    assert b["tail:ref"]["real_rows"] == b["tail:ref"]["real_rows_reference"] == 100
    assert b["tail:ref"]["real_rows_trained"] is None and not b["tail:ref"]["exact"]
    # the same distinct real rows over a run: replace, accumulate, quota, tail:ref and the control read
    # generation 0's n rows only; fresh-real and a fitted filter draw new ones each generation
    later = {p: real_budget(p, 100, generation=10)["real_rows_distinct"] for p in b}
    assert {later[p] for p in ("replace", "accumulate", "quota:0.1", "tail:ref", "real-only", "keep-real:0.1")} == {100}
    assert later["fresh-real:0.1"] == 100 + 10 * 10 and later["filter"] == 100 + 10 * default_detector
    assert real_budget("accumulate-subsample", 100, generation=3)["real_rows_offered"] == pytest.approx(25)
    assert real_budget("keep-real:0.1", 100, generation=0)["real_rows"] == 100
    cfg = RunConfig("gaussian", ["filter"], options={"n": 30}, reference_size=10, detector_fpr=0.25)
    assert real_budget(parse_policy("filter"), cfg=cfg)["real_rows_detector"] == 20
    assert real_budget("fresh-real:0.5", cfg=cfg)["real_rows_fresh"] == 15
    with pytest.raises(ValueError, match="needs the generation size n or a cfg"):
        real_budget("replace")
    with pytest.raises(ValueError, match="generation must be >= 0"):
        real_budget("replace", 10, generation=-1)


@pytest.mark.parametrize("spec,message", [
    ("keep-real-fixed", r"policy 'keep-real-fixed': keep-real-fixed needs a fraction, exactly one, "
                        r"e\.g\. keep-real-fixed:0\.1"),
    ("keep-real-fixed:0.1:0.2", "keep-real-fixed needs a fraction, exactly one"),
    ("keep-real-fixed:x", r"the keep-real-fixed fraction must be a number in \[0, 1\], got 'x'"),
    ("keep-real-fixed:1.5", r"the keep-real-fixed fraction must be in \[0, 1\], got 1.5"),
    ("quota:0.1+keep-real-fixed:0.1", "base 'keep-real-fixed' must come first"),
])
def test_keep_real_fixed_parse_errors_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_policy(spec)
    with pytest.raises(ValueError, match="^policies: .*" + message):
        RunConfig("gaussian", [spec], generations=1, seeds=1, options={"n": 20}).validate()


def test_keep_real_fixed_parses_and_is_checked_like_keep_real():
    p = parse_policy("keep-real-fixed:0.1+quota:0.2")
    assert (p.base, p.base_fraction, p.steps) == ("keep-real-fixed", 0.1, (("quota", (0.2,)),))
    assert p.real_rows(100) == 10 and parse_policy("keep-real-fixed:1").real_rows(7) == 7
    with pytest.raises(ValueError, match="base 'keep-real-fixed:0' has 0 real row"):
        RunConfig("gmm", ["keep-real-fixed:0+quota:0.5"], generations=1, seeds=1, options={"n": 20}).validate()
