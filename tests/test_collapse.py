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
                     ("quota:x", "not a number"), ("filter+replace", "must come first"),
                     ("quota:1", r"quota share .*must be in \[0, 1\), got 1.0")]:
        with pytest.raises(ValueError, match=msg):
            parse_policy(bad)


def test_bad_configs_fail_at_start(tmp_path):
    with pytest.raises(ValueError, match=r"scenario must be one of .*got 'nope'"):
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
    assert "`replace`" in text and "`accumulate`" in text and "`tail_mass`" in text and "`w2`" in text
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


# -- options out of range are rejected when configured, naming the option and what it expects

NAN, INF = float("nan"), float("inf")

BAD_SCENARIO_OPTIONS = [
    # (scenario, options, message)
    ("gaussian", {"n": 0}, "gaussian option n must be >= 2, got 0"),
    ("gaussian", {"n": 1}, "gaussian option n must be >= 2, got 1"),
    ("gaussian", {"n": -5}, "gaussian option n must be >= 2, got -5"),
    ("gaussian", {"n": 2.5}, "gaussian option n must be an integer >= 2, got 2.5"),
    ("gaussian", {"n": 100.0}, "gaussian option n must be an integer >= 2, got 100.0"),
    ("gaussian", {"n": True}, "gaussian option n must be an integer >= 2, got True"),
    ("gaussian", {"n": "100"}, "gaussian option n must be an integer >= 2, got '100'"),
    ("gaussian", {"n": None}, "gaussian option n must be an integer >= 2, got None"),
    ("gaussian", {"dim": 0}, "gaussian option dim must be >= 1, got 0"),
    ("gaussian", {"dim": 1.5}, "gaussian option dim must be an integer >= 1, got 1.5"),
    ("gaussian", {"seed": -1}, "gaussian option seed must be >= 0, got -1"),
    ("gaussian", {"seed": False}, "gaussian option seed must be an integer >= 0, got False"),
    ("gmm", {"n": 1}, "gmm option n must be >= 2, got 1"),
    ("gmm", {"minority_weight": 0}, r"gmm option minority_weight must be in \(0, 1\), got 0.0"),
    ("gmm", {"minority_weight": 1}, r"gmm option minority_weight must be in \(0, 1\), got 1.0"),
    ("gmm", {"minority_weight": -0.1}, r"gmm option minority_weight must be in \(0, 1\), got -0.1"),
    ("gmm", {"minority_weight": NAN}, r"gmm option minority_weight must be a finite number in \(0, 1\), got nan"),
    ("linreg", {"dim": 0}, "linreg option dim must be >= 1, got 0"),
    ("linreg", {"noise": 0}, "linreg option noise must be > 0, got 0.0"),
    ("linreg", {"noise": -1.0}, "linreg option noise must be > 0, got -1.0"),
    ("linreg", {"noise": INF}, "linreg option noise must be a finite number > 0, got inf"),
    ("linreg", {"n": 11, "dim": 10}, r"linreg option n must be >= 12, got 11 \(.*dim \+ 1 = 11"),
    ("categorical", {"n": 1}, "categorical option n must be >= 2, got 1"),
    ("categorical", {"categories": 0}, "categorical option categories must be >= 2, got 0"),
    ("categorical", {"categories": 1}, "categorical option categories must be >= 2, got 1"),
    ("categorical", {"categories": True}, "categorical option categories must be an integer >= 2, got True"),
    ("categorical", {"categories": 2, "zipf": 1.1}, "categorical option categories must be large enough.*20%"),
    ("categorical", {"zipf": 0}, "categorical option zipf must be > 0, got 0.0"),
    ("categorical", {"zipf": -1.0}, "categorical option zipf must be > 0, got -1.0"),
    ("categorical", {"zipf": NAN}, "categorical option zipf must be a finite number > 0, got nan"),
    ("categorical", {"temperature": 0}, "categorical option temperature must be > 0, got 0.0"),
    ("categorical", {"temperature": -0.5}, "categorical option temperature must be > 0, got -0.5"),
    ("categorical", {"temperature": NAN}, "categorical option temperature must be a finite number > 0, got nan"),
    ("categorical", {"temperature": INF}, "categorical option temperature must be a finite number > 0, got inf"),
    ("categorical", {"temperature": True}, "categorical option temperature must be a number > 0, got True"),
    ("categorical", {"temperature": "hot"}, "categorical option temperature must be a number > 0, got 'hot'"),
    ("categorical", {"top_p": 0}, r"categorical option top_p must be in \(0, 1\], got 0.0"),
    ("categorical", {"top_p": -0.1}, r"categorical option top_p must be in \(0, 1\], got -0.1"),
    ("categorical", {"top_p": 1.5}, r"categorical option top_p must be in \(0, 1\], got 1.5"),
    ("categorical", {"top_p": NAN}, r"categorical option top_p must be a finite number in \(0, 1\], got nan"),
    ("digits", {"n": 9}, "digits option n must be >= 10, got 9"),
    ("digits", {"pca_dim": 0}, r"digits option pca_dim must be in \[1, 64\], got 0"),
    ("digits", {"pca_dim": 65}, r"digits option pca_dim must be in \[1, 64\], got 65"),
    ("text", {"n": 1}, "text option n must be >= 2, got 1"),
    ("text", {"doc_words": 1}, "text option doc_words must be >= 2, got 1"),
    ("text", {"eval_words": 0}, "text option eval_words must be >= 2, got 0"),
    ("text", {"temperature": 0}, "text option temperature must be > 0, got 0.0"),
    ("gaussian", {"bogus": 1}, r"scenario 'gaussian' has no option\(s\) \['bogus'\]"),
    ("gaussian", {"name": "x"}, r"scenario 'gaussian' has no option\(s\) \['name'\]"),  # a class constant, not an option
]


@pytest.mark.parametrize("scenario,options,message", BAD_SCENARIO_OPTIONS,
                         ids=[f"{s}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for s, o, _ in BAD_SCENARIO_OPTIONS])
def test_bad_scenario_options_are_rejected_when_configured(tmp_path, scenario, options, message):
    with pytest.raises(ValueError, match=message):
        make_scenario(scenario, **options)
    with pytest.raises(ValueError, match=message):
        RunConfig(scenario, ["replace"], generations=1, seeds=1, options=options).validate()
    with pytest.raises(ValueError, match=message):  # run() refuses before it writes anything
        run(RunConfig(scenario, ["replace"], generations=1, seeds=1, options=options), tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_scenario_classes_check_options_on_construction():
    from synthfilter.collapse.scenarios import SCENARIOS
    with pytest.raises(ValueError, match="gaussian option n must be >= 2, got 1"):
        SCENARIOS["gaussian"](n=1)
    with pytest.raises(ValueError, match="categorical option temperature must be > 0"):
        SCENARIOS["categorical"](temperature=0.0)


@pytest.mark.parametrize("scenario,options", [("gaussian", {"n": 2}), ("gaussian", {"n": 50, "dim": 3}),
                                              ("gmm", {"minority_weight": 0.3}), ("linreg", {"n": 12, "dim": 10}),
                                              ("categorical", {"categories": 2, "zipf": 3.17, "top_p": 1}),
                                              ("categorical", {"temperature": 1e-9, "top_p": 1e-9}),
                                              ("digits", {"n": 10, "pca_dim": 64}), ("text", {"doc_words": 2})])
def test_options_at_the_edge_of_their_range_are_accepted(scenario, options):
    scn = make_scenario(scenario, **options)
    assert all(getattr(scn, k) == v for k, v in options.items())


@pytest.mark.parametrize("temperature", [1e-6, 1e6])
def test_extreme_sampling_temperatures_run(temperature):
    # p ** (1 / T) used to underflow to all zeros (NaN probabilities inside numpy) for small T
    cfg = RunConfig("categorical", ["replace"], generations=2, seeds=1,
                    options={"n": 300, "categories": 50, "temperature": temperature})
    rows = run_cell(cfg, "replace", 0)
    assert len(rows) == 3 and all(np.isfinite(r["kl_real_model"]) for r in rows)
    if temperature < 1:  # greedy sampling: everything collapses onto the most likely category
        assert rows[-1]["support_ratio"] == pytest.approx(1 / 50)
    else:  # flat sampling over the support: nothing new is lost after the first refit
        assert rows[-1]["support_ratio"] > 0.5


BAD_RUN_FIELDS = [
    ({"generations": 0}, "generations must be >= 1, got 0"),
    ({"generations": -3}, "generations must be >= 1, got -3"),
    ({"generations": 2.0}, "generations must be an integer >= 1, got 2.0"),
    ({"generations": True}, "generations must be an integer >= 1, got True"),
    ({"generations": "3"}, "generations must be an integer >= 1, got '3'"),
    ({"seeds": 0}, "seeds must be >= 1, got 0"),
    ({"seeds": -1}, "seeds must be >= 1, got -1"),
    ({"seeds": True}, "seeds must be an integer >= 1, got True"),
    ({"seeds": 1.5}, "seeds must be an integer >= 1, got 1.5"),
    ({"reference_size": 0}, "reference_size must be >= 1, got 0"),
    ({"reference_size": False}, "reference_size must be an integer >= 1, got False"),
    ({"detector_fpr": 0.0}, r"detector_fpr must be in \(0, 1\), got 0.0"),
    ({"detector_fpr": 1.0}, r"detector_fpr must be in \(0, 1\), got 1.0"),
    ({"detector_fpr": NAN}, r"detector_fpr must be a finite number in \(0, 1\), got nan"),
    ({"detector_fpr": "low"}, r"detector_fpr must be a number in \(0, 1\), got 'low'"),
    ({"policies": []}, "policies must list at least one policy"),
    ({"policies": "replace"}, "policies must be a list of policy specs"),
    ({"policies": ["replace", "replace"]}, "policies must not repeat a policy.*'replace' twice"),
    ({"policies": [3]}, "policy must be a non-empty string, got 3"),
    ({"options": [("n", 3)]}, "options must be a mapping"),
    ({"options": {1: 3}}, "options must be a mapping"),
    ({"scenario": "nope"}, r"scenario must be one of \[.*\], got 'nope'"),
    ({"scenario": None}, r"scenario must be one of \[.*\], got None"),
]


@pytest.mark.parametrize("fields,message", BAD_RUN_FIELDS, ids=[repr(f) for f, _ in BAD_RUN_FIELDS])
def test_bad_run_config_fields_are_rejected(tmp_path, fields, message):
    kwargs = {"scenario": "gaussian", "policies": ["replace"], "generations": 1, "seeds": 1, "options": {"n": 20}}
    kwargs.update(fields)
    with pytest.raises(ValueError, match=message):
        RunConfig(**kwargs).validate()
    with pytest.raises(ValueError, match=message):
        run(RunConfig(**kwargs), tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


BAD_POLICIES = [
    ("", "non-empty string"),
    ("   ", "non-empty string"),
    ("replace+", "empty part"),
    ("+quota:0.1", "empty part"),
    ("accumulate++tail", "empty part"),
    ("nope", "unknown policy step 'nope'"),
    ("Replace", "unknown policy step 'Replace'"),
    ("filter+replace", "base 'replace' must come first"),
    ("replace:1", "replace takes no argument"),
    ("keep-real", "keep-real needs a fraction"),
    ("keep-real:0.1:0.2", "keep-real needs a fraction, exactly one"),
    ("keep-real:x", r"keep-real fraction must be a number in \[0, 1\], got 'x'"),
    ("keep-real:-0.1", r"keep-real fraction must be in \[0, 1\], got -0.1"),
    ("keep-real:1.5", r"keep-real fraction must be in \[0, 1\], got 1.5"),
    ("keep-real:nan", r"keep-real fraction must be in \[0, 1\], got nan"),
    ("fresh-real:-0.5", r"fresh-real fraction must be in \[0, 1\], got -0.5"),
    ("fresh-real:2", r"fresh-real fraction must be in \[0, 1\], got 2.0"),
    ("fresh-real:inf", r"fresh-real fraction must be in \[0, 1\], got inf"),
    ("quota", "quota needs one share"),
    ("quota:0.1:0.2", "quota needs one share"),
    ("quota:1", r"quota share .*must be in \[0, 1\), got 1.0"),
    ("quota:1.5", r"quota share .*must be in \[0, 1\), got 1.5"),
    ("quota:-0.1", r"quota share .*must be in \[0, 1\), got -0.1"),
    ("quota:nan", r"quota share .*must be in \[0, 1\), got nan"),
    ("filter:0.8", "filter takes no argument or TPR:FPR"),
    ("filter:0.8:0.1:0.1", "filter takes no argument or TPR:FPR"),
    ("filter:1.2:0.05", r"true-positive rate TPR must be in \[0, 1\], got 1.2"),
    ("filter:-0.1:0.05", r"true-positive rate TPR must be in \[0, 1\], got -0.1"),
    ("filter:0.8:-0.05", r"false-positive rate FPR must be in \[0, 1\], got -0.05"),
    ("filter:0.8:1.01", r"false-positive rate FPR must be in \[0, 1\], got 1.01"),
    ("filter:a:0.1", r"true-positive rate TPR must be a number in \[0, 1\], got 'a'"),
    ("tail:x", "tail takes no argument or 'ref'"),
    ("select-likely:1", "select-likely takes no argument"),
]


@pytest.mark.parametrize("spec,message", BAD_POLICIES, ids=[repr(p) for p, _ in BAD_POLICIES])
def test_bad_policies_are_rejected(tmp_path, spec, message):
    with pytest.raises(ValueError, match=message):
        parse_policy(spec)
    cfg = RunConfig("gaussian", ["replace", spec], generations=1, seeds=1, options={"n": 20})
    with pytest.raises(ValueError, match="^policies: .*" + message):
        cfg.validate()
    with pytest.raises(ValueError, match=message):
        run_cell(RunConfig("gaussian", ["replace"], generations=1, seeds=1, options={"n": 20}), spec, 0)


@pytest.mark.parametrize("spec", ["keep-real:0", "keep-real:1", "fresh-real:0", "fresh-real:1", "quota:0", "quota:0.999",
                                  "filter:0:0", "filter:1:1", " accumulate + quota:0.1 "])
def test_policies_at_the_edge_of_their_range_are_accepted(spec):
    policy = parse_policy(spec)
    assert policy.spec == spec and policy.base in ("accumulate", "keep-real", "fresh-real")


@pytest.mark.parametrize("scenario,options,spec,message", [
    ("gaussian", {"n": 20}, "replace+quota:0.1", "base 'replace' has 0 real row"),
    ("gmm", {"n": 20}, "keep-real:0+quota:0.5", "base 'keep-real:0' has 0 real row"),
    ("gmm", {"n": 20}, "keep-real:0.02+quota:0.5", "base 'keep-real:0.02' has 0 real row"),
    ("gaussian", {"n": 20}, "fresh-real:0+filter+quota:0.3", "base 'fresh-real:0' has 0 real row"),
    ("digits", {"n": 20}, "keep-real:0.2+quota:0.5", r"at most 8 row\(s\) are left.*digits model needs at least 10"),
])
def test_policies_that_leave_nothing_to_train_on_are_rejected_up_front(scenario, options, spec, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(scenario, [spec], generations=1, seeds=1, options=options).validate()


def test_a_pool_too_small_to_fit_stops_with_a_clear_error():
    # accumulate-subsample keeps ever fewer real rows; with quota:0 the training set shrinks to nothing
    cfg = RunConfig("gaussian", ["accumulate-subsample+quota:0"], generations=30, seeds=1, options={"n": 2})
    with pytest.raises(ValueError, match=r"left [01] training row\(s\) at generation \d+; the gaussian model needs"):
        run_cell(cfg, "accumulate-subsample+quota:0", 0)


@pytest.mark.parametrize("seed,message", [(-1, "seed must be >= 0, got -1"), (1.0, "seed must be an integer >= 0"),
                                          (True, "seed must be an integer >= 0, got True")])
def test_run_cell_rejects_bad_seeds(seed, message):
    with pytest.raises(ValueError, match=message):
        run_cell(RunConfig("gaussian", ["replace"], generations=1, seeds=1, options={"n": 20}), "replace", seed)


@pytest.mark.parametrize("workers", [0, -1, 1.5])
def test_run_rejects_bad_workers(tmp_path, workers):
    with pytest.raises(ValueError, match="workers must be"):
        run(RunConfig("gaussian", ["replace"], generations=1, seeds=1, options={"n": 20}), tmp_path / "r",
            workers=workers, progress=False)


# -- the CLI repeats these errors with its own option names, exit status 2

CLI_BAD = [
    (["--generations", "0"], "--generations must be >= 1, got 0"),
    (["--generations", "-2"], "--generations must be >= 1, got -2"),
    (["--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["--seeds", "-1"], "--seeds must be >= 1, got -1"),
    (["--workers", "0"], "--workers must be >= 1, got 0"),
    (["--option", "n=1"], "--option n must be >= 2, got 1"),
    (["--option", "n=0"], "--option n must be >= 2, got 0"),
    (["--option", "n=2.5"], "--option n must be an integer >= 2, got 2.5"),
    (["--option", "n=true"], "--option n must be an integer >= 2, got True"),
    (["--option", "dim=0"], "--option dim must be >= 1, got 0"),
    (["--option", "seed=-1"], "--option seed must be >= 0, got -1"),
    (["--option", "bogus=1"], r"--option: scenario 'gaussian' has no option\(s\) \['bogus'\]"),
    (["--option", "n"], "--option expects KEY=VALUE"),
    (["--policies", "keep-real:2"], r"--policies: policy 'keep-real:2': the keep-real fraction must be in \[0, 1\]"),
    (["--policies", "replace,fresh-real:-1"], r"--policies: policy 'fresh-real:-1'.* must be in \[0, 1\]"),
    (["--policies", "quota:1"], r"--policies: policy 'quota:1': the quota share .*must be in \[0, 1\)"),
    (["--policies", "filter:2:0"], r"--policies: policy 'filter:2:0': .*TPR must be in \[0, 1\], got 2.0"),
    (["--policies", "replace+quota:0.1"], "--policies: policy 'replace\\+quota:0.1': .*0 real row"),
    (["--policies", "bogus"], "--policies: unknown policy step 'bogus'"),
    (["--policies", "replace,replace"], "--policies must not repeat a policy"),
    (["--policies", ","], "--policies must list at least one policy"),
    (["--scenario", "nope"], r"--scenario must be one of \[.*\], got 'nope'"),
    (["--scenario", "categorical", "--option", "temperature=0"], "--option temperature must be > 0, got 0.0"),
    (["--scenario", "categorical", "--option", "temperature=NaN"],
     "--option temperature must be a finite number > 0, got nan"),
    (["--scenario", "categorical", "--option", "top_p=1.5"], r"--option top_p must be in \(0, 1\], got 1.5"),
    (["--scenario", "categorical", "--option", "zipf=-1"], "--option zipf must be > 0, got -1.0"),
    (["--scenario", "linreg", "--option", "noise=0"], "--option noise must be > 0, got 0.0"),
    (["--scenario", "digits", "--option", "pca_dim=100"], r"--option pca_dim must be in \[1, 64\], got 100"),
]


def _cli(argv, capsys):
    from synthfilter.cli import main
    rc = main(["collapse", "run", *argv])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("extra,message", CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_rejects_bad_options_by_their_flag_names(tmp_path, capsys, extra, message):
    base = {"--scenario": "gaussian", "--policies": "replace", "--generations": "1", "--seeds": "1"}
    for flag, value in zip(extra[::2], extra[1::2]):
        base.pop(flag, None)
    argv = [x for kv in base.items() for x in kv] + extra + ["--out", str(tmp_path / "r")]
    rc, err = _cli(argv, capsys)
    assert rc == 2
    assert err.startswith("synthfilter collapse: error: ")
    assert len(err.strip().splitlines()) == 1, err  # one clean line, no traceback
    assert __import__("re").search(message, err), err
    assert not (tmp_path / "r").exists()


def test_cli_names_config_file_keys(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"scenario": "gaussian", "policies": ["replace"], "generations": 0,
                                  "options": {"n": 1}}))
    rc, err = _cli(["--config", str(config), "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and f"option n (from --config {config}) must be >= 2, got 1" in err
    rc, err = _cli(["--config", str(config), "--option", "n=20", "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and f"generations (from --config {config}) must be >= 1, got 0" in err
    rc, err = _cli(["--config", str(config), "--option", "n=20", "--generations", "-1", "--out", str(tmp_path / "r")],
                   capsys)
    assert rc == 2 and "--generations must be >= 1, got -1" in err
    config.write_text(json.dumps({"scenario": "gaussian", "policies": ["replace"], "generation": 3}))
    rc, err = _cli(["--config", str(config), "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and "unknown key(s) ['generation']" in err
    config.write_text("[1, 2]")
    rc, err = _cli(["--config", str(config), "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and "must hold a mapping" in err
    assert not (tmp_path / "r").exists()


# -- resuming never duplicates rows

def _key(row):
    return row["policy"], row["seed"], row["generation"]


def _raw_rows(run_dir):
    """Every parseable line of results.jsonl, repeats included (what a reader of the file sees)."""
    rows = []
    for line in (run_dir / "results.jsonl").read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def test_resume_after_overlapping_and_partial_writes_keeps_each_row_once(tmp_path):
    cfg = RunConfig("gaussian", ["replace", "accumulate"], generations=3, seeds=3, options={"n": 20})
    ref = tmp_path / "ref"
    run(cfg, ref, workers=1, progress=False)
    expected = sorted(load_results(ref), key=_key)
    assert len(expected) == 2 * 3 * 4

    broken = tmp_path / "broken"
    run(cfg, broken, workers=1, progress=False)
    lines = (broken / "results.jsonl").read_text().splitlines()
    cell = [line for line in lines if _key(json.loads(line))[:2] == ("replace", 0)]
    # drop cell (accumulate, 2) to a partial write, then: a second run appended cell (replace, 0) again,
    # and a third was killed while writing it, leaving two rows of it and a truncated line
    partial = [line for line in lines if _key(json.loads(line))[:2] == ("accumulate", 2)][:2]
    kept = [line for line in lines if _key(json.loads(line))[:2] != ("accumulate", 2)]
    text = "\n".join(kept + partial + cell + cell[:2]) + "\n" + cell[2][:25]
    (broken / "results.jsonl").write_text(text)
    assert len(_raw_rows(broken)) > len(expected)

    run(cfg, broken, workers=1, progress=False)
    raw = _raw_rows(broken)
    keys = [_key(r) for r in raw]
    assert len(keys) == len(set(keys)) == len(expected), "each (policy, seed, generation) once in the file"
    assert (broken / "results.jsonl").read_text().endswith("}\n"), "the truncated line is gone"
    assert sorted(raw, key=_key) == expected
    assert sorted(load_results(broken), key=_key) == expected
    # and the report counts every seed once
    assert json.loads((write_report(broken) / "summary.json").read_text())["summary"] == \
        json.loads((write_report(ref) / "summary.json").read_text())["summary"]


def test_resume_reruns_a_cell_cut_by_a_truncated_last_line(tmp_path):
    cfg = RunConfig("gaussian", ["replace"], generations=4, seeds=2, options={"n": 20})
    ref = tmp_path / "ref"
    run(cfg, ref, workers=1, progress=False)
    broken = tmp_path / "broken"
    run(cfg, broken, workers=1, progress=False)
    lines = (broken / "results.jsonl").read_text().splitlines()
    last = [line for line in lines if json.loads(line)["seed"] == 1]
    first = [line for line in lines if json.loads(line)["seed"] == 0]
    # killed while writing seed 1's cell: three complete rows and half of the fourth
    (broken / "results.jsonl").write_text("\n".join(first + last[:3]) + "\n" + last[3][: len(last[3]) // 2])
    assert len(load_results(broken)) == 5 + 3
    run(cfg, broken, workers=1, progress=False)
    raw = _raw_rows(broken)
    assert len(raw) == len({_key(r) for r in raw}) == 2 * 5
    assert sorted(raw, key=_key) == sorted(load_results(ref), key=_key)


def test_results_and_report_count_repeated_rows_once(tmp_path):
    cfg = RunConfig("gaussian", ["replace", "accumulate"], generations=3, seeds=4, options={"n": 20})
    clean = tmp_path / "clean"
    run(cfg, clean, workers=1, progress=False)
    dup = tmp_path / "dup"
    run(cfg, dup, workers=1, progress=False)
    with open(dup / "results.jsonl", "a") as handle:  # a file written by an older or overlapping run
        for row in load_results(dup)[:4]:
            handle.write(json.dumps(row) + "\n")
    rows = load_results(dup)
    assert len(rows) == len({_key(r) for r in rows}) == 2 * 4 * 4
    from synthfilter.collapse.report import aggregate
    doubled = _raw_rows(dup)
    assert len(doubled) == 2 * 4 * 4 + 4
    agg, want = aggregate(doubled), aggregate(load_results(clean))
    assert all(np.array_equal(agg[p][m], want[p][m], equal_nan=True) for p in want for m in want[p])
    assert summary_table(doubled, "gaussian")[0] == summary_table(load_results(clean), "gaussian")[0]
    assert json.loads((write_report(dup) / "summary.json").read_text())["summary"] == \
        json.loads((write_report(clean) / "summary.json").read_text())["summary"]


def test_a_second_run_on_a_busy_folder_is_refused(tmp_path):
    import socket
    import subprocess
    import sys

    from synthfilter.io import LOCK_NAME

    cfg = RunConfig("gaussian", ["replace"], generations=1, seeds=1, options={"n": 20})
    run(cfg, tmp_path, workers=1, progress=False)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # as a run still writing here would hold it
        (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        with pytest.raises(ValueError, match=f"another synthfilter run \\(pid {sleeper.pid}\\)"):
            run(cfg, tmp_path, workers=1, progress=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    with pytest.warns(UserWarning):  # the lock of a process that is gone is taken over
        run(cfg, tmp_path, workers=1, progress=False)
    assert len(_raw_rows(tmp_path)) == 2


def test_text_scenario_finds_wikitext_by_option_or_environment(tmp_path, monkeypatch):
    from synthfilter.collapse.scenarios import WIKITEXT_ENV, wikitext_dir

    assert wikitext_dir(tmp_path) == tmp_path
    monkeypatch.setenv(WIKITEXT_ENV, str(tmp_path / "env"))
    assert wikitext_dir() == tmp_path / "env"
    monkeypatch.delenv(WIKITEXT_ENV)
    monkeypatch.chdir(tmp_path)
    assert wikitext_dir() == tmp_path.resolve().parent / "shared" / "data" / "wikitext2"
    (tmp_path / "w").mkdir()
    words = " ".join(f"w{i % 50}" for i in range(4000))
    (tmp_path / "w" / "valid.txt").write_text(words)
    (tmp_path / "w" / "test.txt").write_text(words)
    scn = make_scenario("text", n=20, doc_words=10, eval_words=200, data_dir=str(tmp_path / "w"))
    rng = np.random.default_rng(0)
    assert len(scn.real(rng, 5)) == 5
    with pytest.raises(FileNotFoundError, match=WIKITEXT_ENV):
        make_scenario("text", n=20, data_dir=str(tmp_path / "missing")).real(rng, 5)
