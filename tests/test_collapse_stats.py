"""Collapse evidence: metric directions, uncertainty over seeds, paired tests, summary.json."""

import json
import math

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, run
from synthfilter.collapse.directions import badness, check_better, generations_to_degrade, target_of
from synthfilter.collapse.report import summary_records, write_report
from synthfilter.collapse.runner import load_results
from synthfilter.collapse.scenarios import SCENARIOS, make_scenario
from synthfilter.collapse.stats import bootstrap_mean_interval, holm, paired_test

FIELDS = {"policy", "metric", "generation", "better", "mean", "ci_low", "ci_high", "median", "q25", "q75",
          "n_seeds", "real_rows", "baseline", "p_value", "p_adjusted", "effect"}


def test_every_scenario_metric_declares_a_valid_direction():
    for name in SCENARIOS:
        if name == "text":
            continue
        for metric, better in make_scenario(name).metrics.items():
            assert check_better(better) == better, (name, metric)
    # ratios to the real data are judged by closeness to 1, not "higher is better"
    assert make_scenario("gmm").metrics["minority_mass"] == "target:1"
    assert make_scenario("gaussian").metrics["variance"] == "target:1"
    assert make_scenario("categorical").metrics["tail_mass"] == "target:1"
    with pytest.raises(ValueError, match="higher"):
        check_better("up")
    with pytest.raises(ValueError, match="target"):
        check_better("target:-1")


def test_badness_is_symmetric_in_log_ratio_for_targets():
    d = badness([8.0, 1 / 8, 1.0, 0.0, float("nan")], "target:1")
    assert d[0] == pytest.approx(math.log(8)) == pytest.approx(d[1])
    assert d[2] == 0 and np.isinf(d[3]) and np.isnan(d[4])
    assert list(badness([2.0, -3.0], "target:0")) == [2.0, 3.0]
    assert list(badness([2.0], "higher")) == [-2.0] and list(badness([2.0], "lower")) == [2.0]
    assert target_of("target:0.5") == 0.5 and target_of("lower") is None


def test_generations_to_degrade_by_direction():
    assert generations_to_degrade([1.0, 0.9, 0.4], "higher") == 2
    assert generations_to_degrade([1.0, 1.2, 1.6], "lower") == 2
    # an 8x inflated tail degrades a target:1 metric as much as a collapse to 1/8
    assert generations_to_degrade([1.0, 1.5, 8.0], "target:1") == 2
    assert generations_to_degrade([1.0, 0.7, 0.125], "target:1") == 2
    assert generations_to_degrade([1.0, 1.5, 0.7], "target:1") is None
    assert generations_to_degrade([1.0, 0.4], True) == 1  # the old boolean form still works


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    v = np.random.default_rng(0).normal(2.0, 1.0, 40)
    mean, low, high = bootstrap_mean_interval(v, seed=3)
    assert low < mean < high and mean == pytest.approx(v.mean())
    assert bootstrap_mean_interval(v, seed=3) == (mean, low, high)
    assert 0.4 < high - low < 1.0  # about 2 x 1.96 / sqrt(40)
    assert bootstrap_mean_interval([5.0]) == (5.0, 5.0, 5.0)
    assert all(math.isnan(x) for x in bootstrap_mean_interval([]))


def test_paired_test_sees_a_consistent_improvement_and_nothing_in_noise():
    rng = np.random.default_rng(1)
    base = rng.normal(1.0, 0.3, 20)
    better = paired_test(base - 0.5 + rng.normal(0, 0.05, 20), base)
    assert better["p_value"] < 1e-3 and better["effect"] == 1.0
    assert better["diff_ci_low"] > 0.4 and better["diff_ci_high"] < 0.6
    same = paired_test(base, base)
    assert same["p_value"] == 1.0 and same["effect"] == 0.0 and same["diff_mean"] == 0.0
    noise = paired_test(base + rng.normal(0, 0.3, 20), base)
    assert noise["p_value"] > 0.01 and noise["diff_ci_low"] < 0 < noise["diff_ci_high"]
    # a lost tail (infinite distance) counts as the worst outcome, by rank
    lost = paired_test([np.inf] * 5 + [0.1] * 5, [0.2] * 10)
    assert lost["effect"] < 0 < paired_test([0.1] * 10, [np.inf] * 10)["effect"]


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([0.01, float("nan")])[1])
    assert holm([0.5, 0.9]) == [1.0, 1.0]


@pytest.fixture(scope="module")
def two_class_run(tmp_path_factory):
    """Shumailov's 90/10 case: small samples, so replace loses the minority in some seeds."""
    folder = tmp_path_factory.mktemp("ninety-ten")
    cfg = RunConfig("categorical", ["replace", "accumulate"], generations=30, seeds=16,
                    options={"categories": 2, "zipf": 3.17, "n": 20})
    run(cfg, folder, workers=1, progress=False)
    return folder


def test_summary_json_has_every_field_for_every_policy_metric_and_generation(two_class_run):
    out = write_report(two_class_run)
    records = json.loads((two_class_run / "summary.json").read_text())
    metrics = make_scenario("categorical").metrics
    assert len(records) == 2 * len(metrics) * 31
    assert all(FIELDS <= set(r) for r in records)
    base = [r for r in records if r["policy"] == "replace"]
    assert all(r["baseline"] == "replace" and r["p_value"] is None for r in base)
    other = [r for r in records if r["policy"] == "accumulate"]
    assert all(r["n_seeds"] == 16 for r in records)
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in records if r["mean"] is not None)
    # budgets: replace trains on no real rows, accumulate on n every generation
    assert {r["real_rows"] for r in base if r["generation"] > 0} == {0.0}
    assert {r["real_rows"] for r in other if r["generation"] > 0} == {20.0}
    assert not any(r["same_budget"] for r in other if r["generation"] > 0)
    assert (out / "categorical_tail_mass.png").stat().st_size > 5000
    assert "≠ baseline" in (out / "summary.md").read_text()


def test_the_probability_of_losing_the_minority_is_measured_and_tested(two_class_run):
    records = summary_records(load_results(two_class_run), "categorical",
                              options={"categories": 2, "zipf": 3.17, "n": 20})
    lost = {(r["policy"], r["generation"]): r for r in records if r["metric"] == "tail_lost"}
    rows = load_results(two_class_run)
    expected = np.mean([r["tail_lost"] for r in rows if r["policy"] == "replace" and r["generation"] == 30])
    assert lost[("replace", 30)]["mean"] == pytest.approx(expected) and expected > 0.2
    # under accumulate the real rows stay in the pool: the minority is lost only where generation 0's
    # 20 real rows held none of it (0.9**20 = 12% of seeds), never later
    assert lost[("accumulate", 30)]["mean"] == lost[("accumulate", 0)]["mean"] < lost[("replace", 30)]["mean"]
    assert lost[("accumulate", 30)]["effect"] > 0 and lost[("accumulate", 30)]["diff_mean"] > 0
