"""The torch scenarios of the collapse harness: ``vae`` (digits) and ``lstm`` (WikiText-2), at tiny sizes."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from synthfilter.collapse import RunConfig, run_cell
from synthfilter.collapse.directions import check_better
from synthfilter.collapse.scenarios import SCENARIOS, LSTMScenario, VAEScenario, make_scenario

from .conftest import DATA_DIR

TINY_VAE = {"n": 100, "epochs": 2, "hidden": 32}
TINY_LSTM = {"n": 16, "doc_words": 12, "vocab_size": 150, "embed_dim": 16, "hidden": 32, "epochs": 2,
             "batch_size": 8, "eval_words": 240, "rare_count": 6}


@pytest.fixture(scope="module")
def small_wikitext(tmp_path_factory):
    """A WikiText-2 slice (the first 6000 valid and 1000 test words) in a folder of its own."""
    source = DATA_DIR / "wikitext2"
    if not (source / "valid.txt").exists() or not (source / "test.txt").exists():
        pytest.skip(f"WikiText-2 (valid.txt, test.txt) not found under {source}: the lstm scenario needs it "
                    "(see ../shared/data/README.md)")
    folder = tmp_path_factory.mktemp("wikitext2")
    for name, words in (("valid.txt", 6000), ("test.txt", 1000)):
        text = (source / name).read_text(encoding="utf-8").split()[:words]
        (folder / name).write_text(" ".join(text), encoding="utf-8")
    return str(folder)


def test_both_scenarios_are_registered_with_declared_directions():
    assert SCENARIOS["vae"] is VAEScenario and SCENARIOS["lstm"] is LSTMScenario
    for name in ("vae", "lstm"):
        scn = make_scenario(name)
        assert scn.name == name and scn.metrics
        assert all(check_better(better) == better for better in scn.metrics.values())
        assert {scn.tail_metric, scn.quality_metric} <= set(scn.metrics)
    assert make_scenario("vae").metrics["latent_std"] == "higher"
    assert make_scenario("lstm").metrics == {"perplexity": "lower", "rare_word_mass": "target:1"}


def test_importing_the_library_does_not_import_torch():
    code = ("import sys, synthfilter, synthfilter.collapse; from synthfilter.collapse.scenarios import make_scenario; "
            "make_scenario('vae'); make_scenario('lstm'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


BAD_OPTIONS = [
    ("vae", {"n": 1}, "vae option n must be >= 2, got 1"),
    ("vae", {"latent_dim": 0}, "vae option latent_dim must be >= 1, got 0"),
    ("vae", {"hidden": 2.5}, "vae option hidden must be an integer >= 1, got 2.5"),
    ("vae", {"epochs": 0}, "vae option epochs must be >= 1, got 0"),
    ("vae", {"batch_size": 0}, "vae option batch_size must be >= 1, got 0"),
    ("vae", {"lr": 0}, "vae option lr must be > 0, got 0.0"),
    ("vae", {"lr": float("nan")}, "vae option lr must be a finite number > 0"),
    ("vae", {"threads": 0}, "vae option threads must be >= 1, got 0"),
    ("lstm", {"n": 1}, "lstm option n must be >= 2, got 1"),
    ("lstm", {"doc_words": 1}, "lstm option doc_words must be >= 2, got 1"),
    ("lstm", {"vocab_size": 9}, "lstm option vocab_size must be >= 10, got 9"),
    ("lstm", {"hidden": 3}, "lstm option hidden must be >= 4, got 3"),
    ("lstm", {"embed_dim": True}, "lstm option embed_dim must be an integer >= 1, got True"),
    ("lstm", {"doc_words": 64, "eval_words": 63}, "lstm option eval_words must be >= 64, got 63"),
    ("lstm", {"rare_count": 0}, "lstm option rare_count must be >= 1, got 0"),
    ("lstm", {"lr": -1.0}, "lstm option lr must be > 0, got -1.0"),
    ("lstm", {"threads": 0}, "lstm option threads must be >= 1, got 0"),
    ("lstm", {"temperature": 0.5}, r"scenario 'lstm' has no option\(s\) \['temperature'\]"),
]


@pytest.mark.parametrize("scenario,options,message", BAD_OPTIONS,
                         ids=[f"{s}-{json.dumps(o)}" for s, o, _ in BAD_OPTIONS])
def test_bad_options_are_rejected_naming_the_option(scenario, options, message):
    with pytest.raises(ValueError, match=message):
        make_scenario(scenario, **options)


def test_cli_names_a_bad_vae_option_by_its_flag(tmp_path, capsys):
    from synthfilter.cli import main

    rc = main(["collapse", "run", "--scenario", "vae", "--policies", "replace", "--generations", "1", "--seeds", "1",
               "--option", "epochs=0", "--out", str(tmp_path / "r")])
    assert rc == 2
    assert "--option epochs must be >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cli_runs_the_vae_scenario(tmp_path, capsys):
    from synthfilter.cli import main

    out = tmp_path / "r"
    rc = main(["collapse", "run", "--scenario", "vae", "--policies", "replace,keep-real:0.5", "--generations", "1",
               "--seeds", "1", "--workers", "1", "--option", "n=40", "--option", "epochs=1", "--option", "hidden=16",
               "--out", str(out)])
    assert rc == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and set(VAEScenario.metrics) <= set(rows[0])
    assert {r["real_rows"] for r in rows if r["generation"] == 1} == {0, 20}


def test_vae_is_deterministic_for_a_seed_and_its_metrics_are_in_range():
    cfg = RunConfig("vae", ["replace"], generations=1, seeds=1, options=TINY_VAE)
    first, again, other = run_cell(cfg, "replace", 0), run_cell(cfg, "replace", 0), run_cell(cfg, "replace", 1)
    assert first == again
    assert first != other
    for row in first:
        assert set(VAEScenario.metrics) <= set(row)
        assert 0.0 <= row["class_coverage"] <= 1.0 and 0.0 <= row["class_entropy"] <= 1.0
        assert row["fid"] >= 0.0 and row["latent_std"] >= 0.0 and np.isfinite(row["nll_real"])


def test_vae_samples_are_digits_and_the_hooks_agree_on_shapes():
    scn = make_scenario("vae", **TINY_VAE)
    rng = np.random.default_rng(0)
    real = scn.real(rng, 30)
    model = scn.fit(real, rng)
    gen = scn.sample(model, 7, rng)
    assert real.shape == (30, 64) and gen.shape == (7, 64)
    assert gen.min() >= 0.0 and gen.max() <= 1.0
    assert scn.log_likelihood(model, gen).shape == (7,)
    assert len(scn.to_dataset(gen, np.ones(7, bool), np.arange(7))) == 7


def test_vae_replace_loses_latent_spread_and_classes():
    """Trained on its own decoded means, the VAE collapses onto few digits within two generations."""
    cfg = RunConfig("vae", ["replace"], generations=2, seeds=1,
                    options={"n": 200, "epochs": 100, "hidden": 128, "lr": 2e-3})
    rows = run_cell(cfg, "replace", 0)
    assert rows[0]["class_entropy"] > 0.8 and rows[0]["class_coverage"] == 1.0
    assert rows[2]["latent_std"] < 0.5 * rows[0]["latent_std"]
    assert rows[2]["class_entropy"] < rows[0]["class_entropy"] - 0.3
    assert rows[2]["fid"] > rows[0]["fid"]


def test_lstm_is_deterministic_for_a_seed(small_wikitext):
    options = {**TINY_LSTM, "data_dir": small_wikitext}
    cfg = RunConfig("lstm", ["replace"], generations=1, seeds=1, options=options)
    first, again, other = run_cell(cfg, "replace", 0), run_cell(cfg, "replace", 0), run_cell(cfg, "replace", 1)
    assert first == again
    assert first != other
    for row in first:
        assert set(LSTMScenario.metrics) <= set(row)
        assert 1.0 < row["perplexity"] < 10 * TINY_LSTM["vocab_size"] and row["rare_word_mass"] > 0.0


def test_lstm_samples_documents_of_vocabulary_words(small_wikitext):
    scn = make_scenario("lstm", **TINY_LSTM, data_dir=small_wikitext)
    rng = np.random.default_rng(0)
    real = scn.real(rng, 16)
    model = scn.fit(real, rng)
    docs = scn.sample(model, 5, rng)
    vocab = set(scn._corpus()["vocab"])
    assert len(docs) == 5
    assert all(len(d.split()) == TINY_LSTM["doc_words"] and set(d.split()) <= vocab for d in docs)
    assert "<bos>" not in " ".join(docs)
    assert len(vocab) == TINY_LSTM["vocab_size"] and "<unk>" in vocab
    ll = scn.log_likelihood(model, np.concatenate([real[:3], docs]))
    assert ll.shape == (8,) and np.all(ll < 0)
    assert scn.to_dataset(docs, np.ones(5, bool), np.arange(5))["text"] == list(docs)


def test_lstm_without_wikitext_says_where_it_looked(tmp_path):
    scn = make_scenario("lstm", **TINY_LSTM, data_dir=str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "missing")) + ".*data_dir"):
        scn.real(np.random.default_rng(0), 3)


@pytest.mark.parametrize("scenario", ["vae", "lstm"])
@pytest.mark.parametrize("policy", ["tail:ref", "filter", "select-likely", "accumulate+quota:0.1"])
def test_policies_that_transform_the_pool_run_on_the_torch_scenarios(scenario, policy, request):
    options = TINY_VAE if scenario == "vae" else {**TINY_LSTM, "data_dir": request.getfixturevalue("small_wikitext")}
    cfg = RunConfig(scenario, [policy], generations=1, seeds=1, options=options, reference_size=20)
    last = run_cell(cfg, policy, 0)[-1]
    n = options["n"]
    assert set(SCENARIOS[scenario].metrics) <= set(last)
    if policy == "accumulate+quota:0.1":
        assert last["real_rows_trained"] == n and last["synthetic_share"] <= 0.1
    elif policy == "filter":
        assert 0.0 <= last["detector_tpr"] <= 1.0 and last["real_rows_detector"] == 40
    else:
        assert last["train_rows"] == n
