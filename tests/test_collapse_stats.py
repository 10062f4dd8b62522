"""Collapse evidence: metric directions, uncertainty over seeds, paired tests, summary.json."""

import json
import math

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, run
from synthfilter.collapse.directions import badness, check_better, generations_to_degrade, target_of
from synthfilter.collapse.report import summary_records, summary_table, write_report
from synthfilter.collapse.summary import fmt_number
from synthfilter.collapse.runner import load_results
from synthfilter.collapse.scenarios import SCENARIOS, make_scenario
from synthfilter.collapse.stats import (MCNEMAR, WILCOXON, WILCOXON_APPROX, holm, mcnemar_test, mean_interval,
                                        paired_test, rate_interval, signed_rank_test)

FIELDS = {"policy", "metric", "generation", "better", "binary", "mean", "ci_low", "ci_high", "interval", "median",
          "q25", "q75", "n_seeds", "real_rows", "real_rows_distinct", "baseline", "same_budget", "test", "estimate",
          "p_value", "p_adjusted", "control"}


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


def test_mean_interval_is_t_for_few_seeds_and_bca_from_twelve():
    from scipy import stats as st

    v = np.random.default_rng(0).normal(2.0, 1.0, 5)
    mean, low, high, method = mean_interval(v)
    half = st.t.ppf(0.975, 4) * v.std(ddof=1) / math.sqrt(5)
    assert method == "t" and mean == pytest.approx(v.mean()) and (low, high) == pytest.approx((mean - half, mean + half))
    many = np.random.default_rng(0).normal(2.0, 1.0, 40)
    mean, low, high, method = mean_interval(many, seed=3)
    assert method == "bca" and low < mean < high and mean_interval(many, seed=3) == (mean, low, high, method)
    assert 0.4 < high - low < 1.0  # about 2 x 1.96 / sqrt(40)
    assert mean_interval([5.0]) == (5.0, 5.0, 5.0, "exact") and mean_interval([2.0, 2.0])[3] == "exact"
    assert mean_interval([])[3] == "none" and math.isnan(mean_interval([])[0])


def test_few_seed_intervals_cover_near_their_level():
    # with 3-8 seeds a percentile bootstrap covers ~76-87%; the t interval keeps near 95% on normal data
    rng = np.random.default_rng(7)
    for n in (3, 8):
        hits = [low <= 0.0 <= high for low, high in
                (mean_interval(rng.normal(0.0, 1.0, n))[1:3] for _ in range(600))]
        assert 0.92 <= np.mean(hits) <= 0.98, (n, np.mean(hits))


def test_signed_rank_test_reports_the_estimate_it_tests():
    from scipy.stats import wilcoxon

    rng = np.random.default_rng(1)
    base = rng.normal(1.0, 0.3, 20)
    policy = base - 0.5 + rng.normal(0, 0.05, 20)
    better = signed_rank_test(policy, base)
    assert better["test"] == WILCOXON and better["p_value"] == pytest.approx(wilcoxon(base - policy).pvalue)
    assert better["p_value"] < 1e-3 and better["effect"] == 1.0
    d = base - policy  # the Hodges-Lehmann shift: the median of the Walsh averages
    i, j = np.triu_indices(20)
    assert better["estimate"] == pytest.approx(np.median((d[i] + d[j]) / 2))
    assert 0.4 < better["ci_low"] < better["estimate"] < better["ci_high"] < 0.6
    same = signed_rank_test(base, base)
    assert same["p_value"] == 1.0 and same["effect"] == 0.0 and same["estimate"] == 0.0
    noise = signed_rank_test(base + rng.normal(0, 0.3, 20), base)
    assert noise["p_value"] > 0.01 and noise["ci_low"] < 0 < noise["ci_high"]
    # a lost tail (infinite distance) counts as the worst outcome, by rank
    lost = signed_rank_test([np.inf] * 5 + [0.1] * 5, [0.2] * 10)
    assert lost["effect"] < 0 < signed_rank_test([0.1] * 10, [np.inf] * 10)["effect"]
    assert lost["test"] == WILCOXON_APPROX  # tied differences: the normal approximation, named as such


def test_the_interval_of_the_shift_agrees_with_its_test():
    rng = np.random.default_rng(3)
    for shift in (0.0, 0.2, 0.5, 1.0):
        for _ in range(20):
            base = rng.normal(0, 1, 12)
            r = signed_rank_test(base - shift + rng.normal(0, 0.5, 12), base)
            excludes = r["ci_low"] > 0 or r["ci_high"] < 0
            # the interval inverts the exact test: they disagree only at the discreteness boundary
            assert excludes == (r["p_value"] < 0.05) or abs(r["p_value"] - 0.05) < 0.02


def test_binary_outcomes_get_an_exact_mcnemar_test():
    lost = [1.0] * 12 + [0.0] * 8  # replace loses the minority in 12 of 20 seeds, the policy never
    r = mcnemar_test([0.0] * 20, lost)
    assert r["test"] == MCNEMAR and (r["better"], r["worse"]) == (12, 0)
    assert r["p_value"] == pytest.approx(2 * 0.5**12) and r["estimate"] == pytest.approx(0.6) and r["effect"] == 1.0
    assert 0 < r["ci_low"] < 0.6 == pytest.approx(r["ci_high"])
    # only discordant seeds count: seeds where both lost, or neither, carry no evidence
    mixed = mcnemar_test([1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 1])
    assert (mixed["better"], mixed["worse"]) == (2, 1) and mixed["p_value"] == 1.0
    assert paired_test([0, 1], [1, 1], binary=True)["test"] == MCNEMAR
    assert paired_test([0.2, 0.1], [0.3, 0.4])["test"].startswith("Wilcoxon")
    with pytest.raises(ValueError, match="0/1"):
        mcnemar_test([0.5, 1.0], [1.0, 1.0])
    assert rate_interval(0, 20)[:2] == (0.0, 0.0) and rate_interval(20, 20)[2] == 1.0


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([0.01, float("nan")])[1])
    assert holm([0.5, 0.9]) == [1.0, 1.0]


@pytest.fixture(scope="module")
def two_class_run(tmp_path_factory):
    """Shumailov's 90/10 case: small samples, so replace loses the minority in some seeds."""
    folder = tmp_path_factory.mktemp("ninety-ten")
    cfg = RunConfig("categorical", ["replace", "real-only", "accumulate", "keep-real:0.1"], generations=30, seeds=16,
                    options={"categories": 2, "zipf": 3.17, "n": 20})
    run(cfg, folder, workers=1, progress=False)
    return folder


OPTIONS = {"categories": 2, "zipf": 3.17, "n": 20}


@pytest.fixture(scope="module")
def two_class_records(two_class_run):
    return summary_records(load_results(two_class_run), "categorical", options=OPTIONS)


def test_summary_json_has_every_field_for_every_policy_metric_and_generation(two_class_run):
    out = write_report(two_class_run)
    records = json.loads((two_class_run / "summary.json").read_text())
    metrics = make_scenario("categorical").metrics
    assert len(records) == 4 * len(metrics) * 31
    assert all(FIELDS <= set(r) for r in records)
    base = [r for r in records if r["policy"] == "replace"]
    assert all(r["baseline"] == "replace" and r["p_value"] is None for r in base)
    other = [r for r in records if r["policy"] == "accumulate"]
    assert all(r["n_seeds"] == 16 for r in records)
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in records if r["mean"] is not None)
    # budgets: replace reads no real row after generation 0, accumulate n every generation; both read the
    # same n distinct real rows over the run, so they are compared at the same budget
    assert {r["real_rows"] for r in base if r["generation"] > 0} == {0.0}
    assert {r["real_rows"] for r in other if r["generation"] > 0} == {20.0}
    assert {r["real_rows_distinct"] for r in base + other} == {20.0} and all(r["same_budget"] for r in other)
    assert (out / "categorical_tail_mass.png").stat().st_size > 5000
    table = (out / "summary.md").read_text()
    assert "McNemar" in table and "`real-only`" in table and "Holm" in table


def test_binary_outcomes_are_tested_exactly_and_the_test_is_named(two_class_run, two_class_records):
    records = two_class_records
    lost = {(r["policy"], r["generation"]): r for r in records if r["metric"] == "tail_lost"}
    assert all(r["binary"] for r in lost.values())
    assert {r["test"] for r in lost.values() if r["test"]} == {MCNEMAR}
    assert all(r["interval"] == "clopper-pearson" for r in lost.values())
    continuous = [r for r in records if r["metric"] == "kl_real_model" and r["test"]]
    assert {r["test"] for r in continuous} <= {WILCOXON, WILCOXON_APPROX}
    rows = load_results(two_class_run)
    replace = [r["tail_lost"] for r in rows if r["policy"] == "replace" and r["generation"] == 30]
    acc = [r["tail_lost"] for r in rows if r["policy"] == "accumulate" and r["generation"] == 30]
    expected = mcnemar_test(acc, replace)
    r = lost[("accumulate", 30)]
    assert r["mean"] == pytest.approx(np.mean(acc)) and np.mean(replace) > 0.2
    assert (r["better_seeds"], r["worse_seeds"]) == (expected["better"], expected["worse"])
    assert r["p_value"] == pytest.approx(expected["p_value"]) and r["estimate"] > 0
    # under accumulate the real rows stay in the pool: the minority is lost only where generation 0's
    # 20 real rows held none of it (0.9**20 = 12% of seeds), never later
    assert lost[("accumulate", 30)]["mean"] == lost[("accumulate", 0)]["mean"] < lost[("replace", 30)]["mean"]


def test_holm_runs_over_the_family_the_claims_are_drawn_from(two_class_records):
    records = two_class_records
    scn = make_scenario("categorical", **OPTIONS)
    assert scn.tail_metric == "tail_lost" and scn.binary_metrics == {"tail_lost"}
    headline = [r for r in records if r["generation"] == 30 and r["metric"] in ("tail_lost", "kl_real_model")
                and r["test"]]
    # every other policy x both headline metrics: one family of 3 x 2 comparisons with replace
    assert len(headline) == 6 and {r["family_size"] for r in headline} == {6}
    assert [r["p_adjusted"] for r in headline] == pytest.approx(holm([r["p_value"] for r in headline]))
    control = [r for r in records if r["generation"] == 30 and r["metric"] in ("tail_lost", "kl_real_model")
               and r["control_test"]]  # replace, accumulate and keep-real:0.1 against real-only
    assert len(control) == 6 and {r["control_family_size"] for r in control} == {6}
    assert all(r["control"] == "real-only" for r in records)
    # other generations are exploratory families of their own (nothing is claimed from them)
    early = [r for r in records if r["generation"] == 10 and r["metric"] == "tail_mass" and r["test"]]
    assert {r["family_size"] for r in early} == {3} and all("exploratory" in r["family"] for r in early)


def test_the_tables_show_the_statistic_that_is_tested(two_class_run, two_class_records):
    rows = load_results(two_class_run)
    records, table = summary_table(rows, "categorical", options=OPTIONS, records=two_class_records)
    kl = next(r for r in records if r["policy"] == "accumulate" and r["metric"] == "kl_real_model")
    # the cell shows the Hodges-Lehmann estimate and its interval: what the Wilcoxon test is about
    cell = (f"{fmt_number(kl['estimate'])} [{fmt_number(kl['estimate_ci_low'])}, "
            f"{fmt_number(kl['estimate_ci_high'])}], p={kl['p_adjusted']:.2g}")
    assert cell in table
    lost = next(r for r in records if r["policy"] == "accumulate" and r["metric"] == "tail_lost")
    assert f"{lost['better_seeds']} better / {lost['worse_seeds']} worse seeds" in table
