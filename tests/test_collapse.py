import json
import multiprocessing as mp
import time

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, load_results, parse_policy, run, run_cell
from synthfilter.collapse.metrics import generations_to_degrade, sliced_w2, tail_mass_ratio, w2_gaussian
from synthfilter.collapse.report import summary_table, write_report
from synthfilter.collapse.scenarios import make_scenario


def medians(cfg, policy, metric):
    rows = [r for s in range(cfg.seeds) for r in run_cell(cfg, policy, s)]
    gens = cfg.generations + 1
    return np.array([np.median([r[metric] for r in rows if r["generation"] == g]) for g in range(gens)])


def test_policy_parsing_and_bad_policies():
    p = parse_policy("keep-real:0.1+quota:0.2+filter:0.8:0.05+tail:ref")
    assert p.base == "keep-real" and p.base_fraction == 0.1
    assert [s[0] for s in p.steps] == ["quota", "filter", "tail"]
    assert parse_policy("filter").base == "accumulate"
    for bad, msg in [("nope", "unknown policy step"), ("keep-real:1.5", "outside"), ("keep-real", "needs a fraction"),
                     ("quota:x", "not a number"), ("filter+replace", "must come first"), ("quota:1", "below 1")]:
        with pytest.raises(ValueError, match=msg):
            parse_policy(bad)


def test_bad_configs_fail_at_start(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario"):
        RunConfig("nope", ["replace"]).validate()
    with pytest.raises(ValueError, match="generations"):
        RunConfig("gaussian", ["replace"], generations=0).validate()
    with pytest.raises(ValueError, match="outside"):
        RunConfig("gaussian", ["keep-real:2"]).validate()
    with pytest.raises(ValueError, match="no option"):
        RunConfig("gaussian", ["replace"], options={"bogus": 1}).validate()
    with pytest.raises(ValueError, match="unknown policy"):
        run(RunConfig("gaussian", ["replace", "typo"], generations=1, seeds=1), tmp_path / "r")
    assert not (tmp_path / "r" / "results.jsonl").exists()


def test_metrics_closed_forms():
    assert w2_gaussian(np.zeros(1), np.eye(1), np.zeros(1), np.eye(1)) == pytest.approx(0.0, abs=1e-9)
    assert w2_gaussian(np.ones(2), np.eye(2), np.zeros(2), np.eye(2)) == pytest.approx(2.0)
    assert w2_gaussian(np.zeros(1), 4 * np.eye(1), np.zeros(1), np.eye(1)) == pytest.approx(1.0)  # (2-1)^2
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 2))
    assert sliced_w2(a, a + 0.0) == pytest.approx(0.0, abs=1e-12)
    assert sliced_w2(a, 2 * a) > 0.3
    assert tail_mass_ratio(rng.normal(size=20000), rng.normal(size=20000)) == pytest.approx(1.0, abs=0.2)
    assert tail_mass_ratio(0.5 * rng.normal(size=20000), rng.normal(size=20000)) < 0.05
    assert generations_to_degrade([1.0, 0.9, 0.4, 0.3], 0.5) == 2
    assert generations_to_degrade([1.0, 1.2, 1.6], 0.5, higher_is_better=False) == 2
    assert generations_to_degrade([1.0, 0.9], 0.5) is None


def test_gaussian_replace_loses_variance_and_accumulate_and_keep_real_hold_it():
    cfg = RunConfig("gaussian", ["replace"], generations=30, seeds=30, options={"n": 20})
    replace = medians(cfg, "replace", "variance")
    accumulate = medians(cfg, "accumulate", "variance")
    keep = medians(cfg, "keep-real:0.5", "variance")
    assert replace[-1] < 0.35
    assert accumulate[-1] > 0.6 and keep[-1] > 0.6


def test_select_likely_collapses_faster_than_replace():
    cfg = RunConfig("gaussian", ["replace"], generations=5, seeds=10, options={"n": 100})
    assert medians(cfg, "select-likely", "variance")[-1] < 0.1 * medians(cfg, "replace", "variance")[-1]


def test_gmm_replace_loses_the_minority_mode_and_keep_real_keeps_it():
    cfg = RunConfig("gmm", ["replace"], generations=10, seeds=4, options={"n": 150})
    replace = medians(cfg, "replace", "minority_mass")
    keep = medians(cfg, "keep-real:0.5", "minority_mass")
    assert replace[-1] < 0.6 * replace[0]
    assert keep[-1] > replace[-1]


def test_linreg_replace_grows_and_accumulate_levels_off():
    cfg = RunConfig("linreg", ["replace"], generations=10, seeds=30, options={"n": 60, "dim": 5})
    replace = medians(cfg, "replace", "excess_error_ratio")
    accumulate = medians(cfg, "accumulate", "excess_error_ratio")
    assert replace[-1] > 4 * replace[0]
    assert accumulate[-1] < 2.5 * accumulate[0]


def test_quota_and_filter_policies_use_the_library_and_report_detector_rates():
    cfg = RunConfig("gmm", ["quota:0.1"], generations=2, seeds=1, options={"n": 200})
    rows = run_cell(cfg, "quota:0.1", 0)
    assert all(r["synthetic_share"] <= 0.1 for r in rows[1:])
    rows = run_cell(cfg, "filter:0.9:0.0", 0)
    assert rows[-1]["detector_tpr"] == pytest.approx(0.9, abs=0.05) and rows[-1]["detector_fpr"] == 0.0
    rows = run_cell(cfg, "filter", 0)
    assert 0.0 <= rows[-1]["detector_fpr"] <= 0.3


def test_categorical_tail_policies():
    cfg = RunConfig("categorical", ["replace"], generations=4, seeds=1, options={"n": 1000, "categories": 300})
    replace = run_cell(cfg, "replace", 0)[-1]["tail_recall"]
    accumulate_tail = run_cell(cfg, "tail:ref", 0)[-1]["tail_recall"]
    assert accumulate_tail > replace


def _run_in_child(cfg_dict, out):
    run(RunConfig(**cfg_dict), out, workers=1, progress=False)


def test_interrupted_run_resumes_to_identical_results(tmp_path):
    cfg = RunConfig("gaussian", ["replace", "accumulate"], generations=40, seeds=8, options={"n": 30})
    ref = tmp_path / "ref"
    run(cfg, ref, workers=1, progress=False)
    broken = tmp_path / "broken"
    proc = mp.get_context("fork").Process(target=_run_in_child, args=(cfg.__dict__, broken))
    proc.start()
    deadline = time.time() + 60
    while time.time() < deadline:  # kill it once some but not all cells are written
        if (broken / "results.jsonl").exists() and len(load_results(broken)) >= 41 * 3:
            break
        time.sleep(0.01)
    proc.kill()
    proc.join()
    partial = len(load_results(broken))
    assert 0 < partial < 41 * 16, "the run should have been interrupted midway"
    with open(broken / "results.jsonl", "a") as handle:
        handle.write('{"policy": "replace", "seed"')  # a half-written line
    run(cfg, broken, workers=2, progress=False)
    key = lambda r: (r["policy"], r["seed"], r["generation"])
    assert sorted(load_results(broken), key=key) == sorted(load_results(ref), key=key)
    with pytest.raises(ValueError, match="different config"):
        run(RunConfig("gaussian", ["replace"], generations=3, seeds=1), broken)


def test_report_writes_plots_and_table(tmp_path):
    cfg = RunConfig("gaussian", ["replace", "accumulate"], generations=5, seeds=4, options={"n": 30})
    run(cfg, tmp_path, workers=1, progress=False)
    out = write_report(tmp_path)
    assert (out / "gaussian_variance.png").stat().st_size > 5000
    text = (out / "summary.md").read_text()
    assert "`replace`" in text and "`accumulate`" in text and "variance" in text
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert {r["policy"] for r in summary} == {"replace", "accumulate"}
    records, _ = summary_table(load_results(tmp_path), "gaussian")
    assert all(r["seeds"] == 4 for r in records)


def test_text_scenario_runs_library_transforms_on_generated_text():
    from .conftest import DATA_DIR
    if not (DATA_DIR / "wikitext2" / "valid.txt").exists():
        pytest.skip(f"WikiText-2 not found under {DATA_DIR} (see ../shared/data/README.md)")
    cfg = RunConfig("text", ["replace"], generations=2, seeds=1, options={"n": 150})
    replace = run_cell(cfg, "replace", 0)
    assert replace[-1]["perplexity"] > replace[0]["perplexity"]
    assert replace[-1]["rare_word_recall"] < replace[0]["rare_word_recall"]
    filt = run_cell(cfg, "filter", 0)[-1]
    assert 0.0 <= filt["detector_tpr"] <= 1.0 and filt["detector_fpr"] <= 0.5
    scn = make_scenario("text", n=10)
    ds = scn.to_dataset(scn.real(np.random.default_rng(0), 10), np.zeros(10, bool), np.arange(10))
    assert ds.column_names == ["text", "id", "is_synthetic"]
