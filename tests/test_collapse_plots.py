"""Collapse plots a reader can read, and the demo: its power, its index and its budgets."""

import json

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, run
from synthfilter.collapse.demo import DEMO, DEMO_POLICIES, run_demo
from synthfilter.collapse.plots import MAX_LINES, direction_text, metric_figure, panels, tick_label
from synthfilter.collapse.policies import parse_policy
from synthfilter.collapse.scenarios import make_scenario
from synthfilter.collapse.summary import fmt_number, fmt_rows, headline_metrics


def _labelled_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_") and line.get_linestyle() != "None"]


def _cells(values: dict[str, list[list[float]]]) -> dict:
    """per_seed cells from {policy: [[seed values of generation 0], [generation 1], ...]}."""
    return {(p, "m", g): dict(enumerate(v)) for p, gens in values.items() for g, v in enumerate(gens)}


def test_panels_hold_at_most_six_lines_and_repeat_the_references():
    policies = ["replace", "real-only"] + [f"p{i}" for i in range(11)]
    groups = panels(policies, ["replace", "real-only"])
    assert all(len(g) <= MAX_LINES and g[:2] == ["replace", "real-only"] for g in groups)
    assert sorted({p for g in groups for p in g}) == sorted(policies)
    assert panels(policies[:6], ["replace"]) == [policies[:6]]


def test_a_figure_draws_infinite_and_missing_values_at_the_axis_edge():
    import matplotlib.pyplot as plt

    policies = ["replace", "real-only"] + [f"p{i}" for i in range(6)]
    values = {p: [[1.0, 1.1, 0.9]] * 4 for p in policies}
    values["p0"] = [[1.0, 1.1, 0.9], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]  # the tail is gone
    values["p1"] = [[1.0, 1.1, 0.9], [np.nan] * 3, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]  # no value at generation 1
    fig = metric_figure(_cells(values), policies, "m", "target:1", "test", anchors=["replace", "real-only"])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2 and all(len(_labelled_lines(ax)) <= MAX_LINES for ax in axes)
    ax = next(ax for ax in axes if "p0" in [line.get_label() for line in ax.get_lines()])
    top = ax.get_ylim()[1]
    up = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert up and all(np.allclose(line.get_ydata(), top) for line in up) and list(up[0].get_xdata()) == [1, 2, 3]
    assert any(line.get_marker() == "x" for line in ax.get_lines())  # p1's missing generation
    assert "lower is better" in fig._suptitle.get_text() and "distance to 1" in fig._suptitle.get_text()
    assert "infinite" in " ".join(t.get_text() for t in fig.texts)
    plt.close(fig)


def test_plot_directions_come_from_the_metric_definition():
    assert direction_text("real_rows", None) == "bookkeeping: no better direction"
    assert direction_text("synthetic_share", None) == "bookkeeping: no better direction"
    assert direction_text("nll_real", "lower") == "lower is better"
    assert direction_text("class_entropy", "higher") == "higher is better"
    assert direction_text("minority_mass", "target:1") == "distance to 1: lower is better"


def test_numbers_read_as_numbers():
    assert tick_label(1000) == "1,000" and tick_label(0.05) == "0.05" and tick_label(25) == "25"
    assert tick_label(0) == "0" and tick_label(2e-5) == "2e-05"
    assert fmt_number(1000.0) == "1,000" and fmt_number(float("inf")) == "∞" and fmt_number(None) == "n/a"
    assert fmt_rows(1000) == "1,000" and fmt_rows(6.6) == "6.6" and fmt_rows(0) == "0"


def _smallest_adjusted_p(item: dict) -> float:
    """The smallest Holm-adjusted p a demo scenario can reach: its best test's smallest p x the family size."""
    scn = make_scenario(item["scenario"], **item["options"])
    family = (len(DEMO_POLICIES) - 1) * len(headline_metrics(scn))
    smallest = 2 * 0.5 ** item["seeds"]  # two-sided exact Wilcoxon (all differences one way) and McNemar alike
    return family * smallest


@pytest.mark.parametrize("item", DEMO, ids=[d["name"] for d in DEMO])
def test_every_demo_scenario_has_the_power_to_pass_the_correction(item):
    # with 6 seeds and Holm over 12 policies the best possible adjusted p was 0.375: nothing could be shown
    assert _smallest_adjusted_p(item) < 0.001
    assert item["seeds"] >= 12  # below that, intervals and tests are too coarse to read


def test_demo_policies_read_the_same_distinct_real_rows():
    for item in DEMO:
        n = make_scenario(item["scenario"], **item["options"]).n
        distinct = {p: parse_policy(p).real_budget(n, reference_size=200, detector_fpr=0.05,
                                                   generation=item["generations"])["real_rows_distinct"]
                    for p in DEMO_POLICIES}
        assert set(distinct.values()) == {n}, (item["name"], distinct)
    assert "real-only" in DEMO_POLICIES and DEMO_POLICIES[0] == "replace" and len(DEMO_POLICIES) <= MAX_LINES


def test_the_demo_writes_an_index_of_what_it_showed(tmp_path):
    plan = [{"name": "two-class", "scenario": "categorical", "options": {"n": 20, "categories": 2, "zipf": 3.17},
             "generations": 20, "seeds": 12, "what": "90/10"},
            {"name": "gaussian", "scenario": "gaussian", "options": {"n": 20}, "generations": 8, "seeds": 12,
             "what": "variance"}]
    result = run_demo(tmp_path, workers=1, plan=plan, policies=["replace", "real-only", "accumulate"], progress=False)
    index = (tmp_path / "index.md").read_text()
    assert (tmp_path / "overview.png").stat().st_size > 10000 and "overview.png" in index
    assert "[two-class](two-class/report/summary.md)" in index and "gaussian/report/gaussian_tail_mass.png" in index
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved["seconds"] == result["seconds"] > 0 and len(saved["load_average_before"]) == 3
    lost = saved["scenarios"]["two-class"]
    assert lost["metric"] == "tail_lost" and {r["test"] for r in lost["records"] if r["test"]} == {
        "McNemar (exact binomial on discordant seeds)"}
    accumulate = next(r for r in lost["records"] if r["policy"] == "accumulate")
    word = "**better**" if accumulate["p_adjusted"] < 0.05 else "n.s."
    assert f"{word} (p={accumulate['p_adjusted']:.2g})" in index
    # every claimed comparison is at the same distinct real rows, and the control is compared too
    assert {r["real_rows_distinct"] for r in lost["records"]} == {20.0}
    assert all(r["control_test"] for r in lost["records"] if r["policy"] != "real-only")


def test_the_cli_demo_runs_the_plan_and_prints_the_index(tmp_path, monkeypatch, capsys):
    import synthfilter.collapse.demo as demo
    from synthfilter.cli import main

    monkeypatch.setattr(demo, "DEMO", [{"name": "gauss", "scenario": "gaussian", "options": {"n": 20},
                                        "generations": 3, "seeds": 3, "what": "tiny"}])
    monkeypatch.setattr(demo, "DEMO_POLICIES", ["replace", "real-only"])
    assert main(["collapse", "demo", "--out", str(tmp_path / "d"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "# synthfilter collapse demo" in out and "index.md" in out and (tmp_path / "d" / "gauss" / "report").is_dir()


def test_the_full_grid_stays_available_in_collapse_run(tmp_path, monkeypatch):
    import synthfilter.collapse.cli as ccli
    from synthfilter.cli import main

    seen = {}
    monkeypatch.setattr(ccli, "run", lambda cfg, out, workers=None: seen.setdefault("cfg", cfg))
    monkeypatch.setattr(ccli, "write_report", lambda out: (tmp_path / "r.md").parent)
    (tmp_path / "summary.md").write_text("table")
    assert main(["collapse", "run", "--scenario", "gmm", "--policies", "all", "--out", str(tmp_path)]) == 0
    assert seen["cfg"].policies == ccli.ALL_POLICIES and len(ccli.ALL_POLICIES) > len(DEMO_POLICIES)
    assert set(DEMO_POLICIES) <= set(ccli.ALL_POLICIES)


def test_an_infinitely_worse_policy_is_named_worse_not_dropped():
    from synthfilter.collapse.summary import significant, versus_word

    # select-likely loses the minority mode in every seed: its distance to the target is infinite
    r = {"p_adjusted": 0.001, "estimate": "-inf"}  # as summary.json stores an infinite estimate
    assert significant(r) and versus_word(r) == "worse"
    assert versus_word({"p_adjusted": 0.2, "estimate": "inf"}) == "n.s."
