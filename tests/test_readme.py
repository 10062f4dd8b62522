"""The README's code (and docs/*.md's) runs as written: every ```python block, every ``synthfilter ...`` command line.

Python blocks are found by their first line. Each is either run (``RUN``: as written, after
a documented setup prelude that defines the user data it names: ``ds``, ``texts``,
``human_ds``, ...) or listed in ``ILLUSTRATIVE`` with the reason it cannot run here. A
block in ``KNOWN_WRONG`` is run too: it must fail with the error recorded there (the test
is then an expected failure naming what to change in the README) and the test fails as
soon as it runs, so the entry is removed when the README is fixed. Every block of the
README must be in exactly one of ``RUN`` and ``ILLUSTRATIVE``, so a new block needs a
decision here.

Command lines: every ``synthfilter ...`` line of a ```bash block must parse with
``build_parser().parse_args`` (optional ``[...]`` parts left out and put in; ``a|b`` as
its first and last alternative; placeholders such as ``IN``/``OUT`` filled from
``PLACEHOLDERS``), except the lines of ``UNFILLABLE``.
"""

from __future__ import annotations

import json
import random
import re
import shlex
import warnings
from pathlib import Path

import datasets
import numpy as np
import pytest

import synthfilter as sf
from synthfilter.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


#: the pages whose code is checked: the README and the user documentation it links (docs/reservoir.md's
#: walk-through and docs/architecture.md are not covered here)
PAGES = [README, *(ROOT / "docs" / f"{name}.md" for name in ("tagging", "quotas", "resample", "clean",
                                                            "integrations", "collapse"))]


def _blocks(language: str) -> list[tuple[str, str]]:
    """``("page:line of the opening fence", code)`` of every fenced block of ``language`` in :data:`PAGES`."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        out += [(f"{page.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}", m.group(1))
                for m in re.finditer(rf"^```{language}\n(.*?)^```", text, re.S | re.M)]
    return out


def _python_block(first_line: str) -> tuple[str, str]:
    found = [(line, code) for line, code in _blocks("python") if code.startswith(first_line)]
    assert len(found) == 1, f"README and docs: {len(found)} python blocks start with {first_line!r}"
    return found[0]


# ----------------------------------------------------------------------------- data for the preludes
_TOPICS = {
    "news": ["the city council", "the new bridge", "the school budget", "the local election", "the flood warning"],
    "forum": ["my old laptop", "the bike chain", "a sourdough starter", "the garden fence", "my cat's diet"],
    "science": ["soil bacteria", "coral reefs", "battery chemistry", "bird migration", "volcanic ash"],
    "recipes": ["lentil soup", "banana bread", "tomato sauce", "fried rice", "apple pie"],
}
_HUMAN = [
    "honestly i did not expect {t} to be such a mess, we spent {n} hours on it and still nothing.",
    "So yesterday {t} came up again at dinner and my uncle would not stop talking about it lol.",
    "Quick update on {t}: tried what you said, it worked for about {n} days and then broke again!",
    "not sure if anyone cares but {t} is finally sorted. took {n} tries. never again...",
    "We walked past {t} on Saturday, kids were bored, dog was happy, I got rained on. Classic.",
    "Can someone explain why {t} costs {n} quid now? it was half that last spring.",
]
_AI = [
    "{T} represents a multifaceted challenge that requires a comprehensive and holistic approach.",
    "Furthermore, it is important to note that {t} plays a pivotal role in fostering sustainable outcomes.",
    "In conclusion, {t} offers numerous benefits, including enhanced efficiency and improved collaboration.",
    "Overall, understanding {t} is crucial for navigating the complex landscape of modern society.",
    "Additionally, {t} can significantly enhance productivity while ensuring a seamless experience for all.",
    "By leveraging innovative strategies, {t} empowers communities to unlock their full potential.",
]


def corpus_rows(n: int = 200, seed: int = 0) -> list[dict]:
    """``n`` varied English texts in four domains, about 30% written in an AI style (``kind``)."""
    rng = random.Random(seed)
    domains = sorted(_TOPICS)
    rows = []
    for i in range(n):
        domain = domains[i % len(domains)]
        kind = "ai" if rng.random() < 0.3 else "human"
        parts = []
        for _ in range(rng.randint(2, 4)):
            topic = rng.choice(_TOPICS[domain])
            template = rng.choice(_AI if kind == "ai" else _HUMAN)
            parts.append(template.format(t=topic, T=topic[0].upper() + topic[1:], n=rng.randint(2, 40)))
        rows.append({"id": i, "text": " ".join(parts), "domain": domain, "kind": kind})
    return rows


def write_corpus(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps({k: r[k] for k in ("id", "text", "domain")}) + "\n" for r in rows))


def write_dated_corpus(path: Path, rows: list[dict], seed: int = 1) -> None:
    """The corpus with a ``date`` column: about 40% of its human rows first seen in 2019, every other row in 2024."""
    rng = random.Random(seed)
    dates = ["2019-05-01" if r["kind"] == "human" and rng.random() < 0.4 else "2024-03-01" for r in rows]
    path.write_text("".join(json.dumps({**{k: r[k] for k in ("id", "text", "domain")}, "date": d}) + "\n"
                            for r, d in zip(rows, dates)))


@pytest.fixture(scope="module")
def tagged():
    """The corpus tagged by the default detector, with its true class as ``is_synthetic``."""
    rows = corpus_rows()
    ds = datasets.Dataset.from_list([{**r, "is_synthetic": r["kind"] == "ai"} for r in rows])
    return ds.map(sf.tag, batched=True)


def _texts(kind: str, seed: int) -> list[str]:
    return [r["text"] for r in corpus_rows(400, seed) if r["kind"] == kind]


# ----------------------------------------------------------------------------- preludes
def _prelude_detectors(tagged) -> dict:
    """``texts``/``labels`` to fit on (six of each class: the stack runs a language model over every
    text), ``my_known_human_texts`` (at least 100, as a 1% rate needs), and ``ds`` of the texts fitted on."""
    texts = _texts("human", 3)[:6] + _texts("ai", 3)[:6]
    labels = ["human"] * 6 + ["ai"] * 6
    return {"sf": sf, "texts": texts, "labels": labels, "my_known_human_texts": _texts("human", 4)[:150],
            "ds": datasets.Dataset.from_dict({"text": texts})}


def _prelude_quotas(tagged) -> dict:
    """``ds`` tagged (with ``is_synthetic`` and ``domain``); ``h``/``s`` large enough for ``size=100_000``
    at ``synthetic_fraction=0.2``; ``before``/``after`` a quota's input and output."""
    h = datasets.Dataset.from_dict({"text": [f"human row {i}" for i in range(80_000)]})
    s = datasets.Dataset.from_dict({"text": [f"synthetic row {i}" for i in range(20_000)]})
    return {"sf": sf, "ds": tagged, "h": h, "s": s, "before": tagged, "after": sf.enforce_quota(tagged, 0.1)}


def _prelude_true_share(tagged) -> dict:
    """``ds`` untagged, with ``crawl_date`` (a third of its human rows before 2022-11-30, the rest after),
    ``source`` (its early human rows come from ``wiki-2019``) and ``domain``; ``human_ds``, known-human text
    of the same kind."""
    rows = [r for r in corpus_rows(900, seed=8)]
    early = [r["kind"] == "human" and i % 3 == 0 for i, r in enumerate(rows)]
    ds = datasets.Dataset.from_list([{"text": r["text"], "domain": r["domain"],
                                      "crawl_date": "2019-05-01" if e else "2024-02-01",
                                      "source": "wiki-2019" if e else "crawl"} for r, e in zip(rows, early)])
    return {"sf": sf, "ds": ds, "human_ds": datasets.Dataset.from_dict({"text": _texts("human", 5)})}


def _prelude_provenance(tagged) -> dict:
    """``ds`` with a ``source`` column (some values the rules name) and ISO ``crawl_date`` strings."""
    sources = ["wikipedia-2019", "gen-v2", "forum-dump"]
    dates = ["2019-05-01", "2022-11-29", "2023-03-15", "2024-01-02"]
    ds = datasets.Dataset.from_list([{"text": r["text"], "source": sources[i % 3], "crawl_date": dates[i % 4]}
                                     for i, r in enumerate(corpus_rows(300, seed=7))])
    return {"sf": sf, "ds": ds}


#: Python blocks run here (first line -> prelude building the names the block uses).
RUN = {
    "import datasets, synthfilter as sf": None,  # the quick start: reads ./corpus.jsonl (written by the test)
    'det = sf.load_detector("fast")': _prelude_detectors,
    "ds = sf.enforce_quota(ds, max_synthetic=0.1)": _prelude_quotas,
    'ds = ds.map(sf.Tagger(first_seen_column="crawl_date"': _prelude_true_share,
    'rules = {"column": "source"': _prelude_provenance,
}

#: Python blocks not run (first line -> why).
ILLUSTRATIVE = {
    "ds = ds.map(sf.Embedder(), batched=True)":
        "needs a corpus of at least 50,000 rows (size=50_000 without replace=True) and trusted data for "
        "reference=: user data, not generated here (tests/test_diversity.py runs the same calls on small data)",
    "from datatrove.executor import LocalPipelineExecutor":
        "reads crawl/ (user data); the same pipeline runs on generated data in tests/test_datatrove.py",
    "import ray, synthfilter.integrations.ray as sfr":
        "reads s3://bucket/corpus/ (user data on S3) and starts Ray actors",
}

#: Blocks that do not run as written (first line -> (error they fail with, what to change in the README)).
KNOWN_WRONG: dict[str, tuple[str, str]] = {}


def test_every_python_block_is_run_or_listed_as_illustrative():
    firsts = [code for _, code in _blocks("python")]
    assert firsts, "no python blocks found in README.md or docs/"
    for code in firsts:
        keys = [k for k in [*RUN, *ILLUSTRATIVE] if code.startswith(k)]
        assert len(keys) == 1, f"README block starting {code.splitlines()[0]!r}: add it to RUN or ILLUSTRATIVE"
    for key in [*RUN, *ILLUSTRATIVE]:
        _python_block(key)  # every entry still names a block
    assert set(KNOWN_WRONG) <= set(RUN)


def _run(key: str, namespace: dict) -> dict:
    line, code = _python_block(key)
    try:
        exec(compile(code, line, "exec"), namespace)
    except Exception as err:  # noqa: BLE001 - compared with the known failure below
        if key in KNOWN_WRONG and KNOWN_WRONG[key][0] in str(err):
            pytest.xfail(f"{line}: {KNOWN_WRONG[key][1]} ({type(err).__name__}: {err})")
        raise
    assert key not in KNOWN_WRONG, f"{line} runs now: remove it from KNOWN_WRONG"
    return namespace


def test_quick_start_runs_as_written_on_a_corpus_in_the_current_folder(tmp_path, monkeypatch):
    rows = corpus_rows(400)
    write_dated_corpus(tmp_path / "corpus.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", sf.quota.LabelsUnderstate)  # the quick start holds the true share: no warning
        try:
            _run("import datasets, synthfilter as sf", namespace)
        finally:
            ds = namespace.get("ds")  # what the steps before any failure produced
            assert ds is not None and {"sf_score", "sf_label", "sf_lang", "sf_reason"} <= set(ds.column_names)
    kinds = {r["id"]: r["kind"] for r in rows}
    kept = [kinds[i] for i in ds["id"]]
    assert sum(r["kind"] == "ai" for r in rows) / len(rows) > 0.2 and kept.count("ai") <= 0.10 * len(kept)
    assert "sf_cluster" in ds.column_names


@pytest.mark.parametrize("key", [k for k in RUN if RUN[k] is not None])
def test_python_block_runs_with_its_prelude(key, tagged, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that save files write here
    namespace = _run(key, RUN[key](tagged))
    if key.startswith("det ="):
        assert (tmp_path / "my-detector.npz").exists()
    if key.startswith("rules ="):
        reasons = set(namespace["ds"]["sf_reason"])
        assert {"provenance:source=wikipedia-2019", "provenance:source=gen-v2"} <= reasons
    if key.startswith("ds = sf.enforce_quota"):
        assert len(namespace["mixed"]) == 100_000


# ----------------------------------------------------------------------------- command lines
PLACEHOLDERS = {"IN": "in.jsonl", "OUT": "out.jsonl", "HUMAN": "human.jsonl", "AI": "ai.jsonl", "REF": "ref.jsonl",
                "RES": "reservoir", "N": "1000"}

#: Command lines whose arguments cannot be filled in (line -> why).
UNFILLABLE = {
    "synthfilter reservoir add|list|verify|sample RES ...":
        "four subcommands with different arguments, elided as '...'",
}


def _command_lines() -> list[tuple[str, str]]:
    out = []
    for start, code in _blocks("bash"):
        page, first = start.rsplit(":", 1)
        for offset, line in enumerate(code.replace("\\\n", " ").splitlines(), start=1):
            line = re.sub(r"\s+#.*$", "", line).strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("synthfilter ") or part == "synthfilter":
                    out.append((f"{page}:{int(first) + offset}", part))
    return out


def _variants(command: str) -> list[list[str]]:
    """Argument lists: optional parts left out, and put in with the first and with the last alternative."""
    without = re.sub(r"\s*\[[^\]]*\]", "", command)
    with_all = re.sub(r"\[([^\]]*)\]", r"\1", command)
    variants = []
    for text in (without, with_all):
        for pick in (0, -1):
            tokens = [PLACEHOLDERS.get(tok, tok) for tok in shlex.split(text)[1:]]
            tokens = [tok.split("|")[pick] if "|" in tok else tok for tok in tokens]
            if tokens not in variants:
                variants.append(tokens)
    return variants


def test_readme_has_command_lines():
    commands = [c for _, c in _command_lines()]
    assert any(c.startswith("synthfilter tag ") for c in commands) and len(commands) >= 10


def test_every_readme_command_line_parses(capsys):
    parser = build_parser()
    skipped = set()
    for line, command in _command_lines():
        if command in UNFILLABLE:
            skipped.add(command)
            continue
        for argv in _variants(command):
            try:
                args = parser.parse_args(argv)
            except SystemExit:
                pytest.fail(f"{line}: `synthfilter {' '.join(argv)}` does not parse: "
                            f"{capsys.readouterr().err.strip()}")
            assert args.command == argv[0] and callable(args.func)
    assert skipped == set(UNFILLABLE), "UNFILLABLE names a line the README no longer has"


def test_collapse_claims_follow_the_rule_on_made_up_records():
    import importlib.util

    spec = importlib.util.spec_from_file_location("collapse_readme", ROOT / "benchmarks" / "collapse_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.significant({"p_adjusted": 0.01, "estimate": 0.3})
    assert module.significant({"p_adjusted": 0.01, "estimate": -0.3})  # significantly worse is a claim too
    assert not module.significant({"p_adjusted": 0.01, "estimate": 0.0})  # no direction
    assert not module.significant({"p_adjusted": 0.2, "estimate": 0.3})
    assert not module.significant({"p_adjusted": None, "estimate": 0.3})


def _benchmark(name: str):
    """The script ``benchmarks/<name>.py`` as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_transferred_threshold_is_stricter_where_unseen_humans_score_higher():
    import numpy as np

    module = _benchmark("detect_folders")
    rng = np.random.default_rng(0)
    cal = rng.normal(size=5000)
    same = module.choose_alpha([module.fpr_curve(cal, rng.normal(size=5000))])
    shifted = module.choose_alpha([module.fpr_curve(cal, rng.normal(0.5, 1.0, size=5000))])
    assert 0.006 < same <= 0.012  # unseen humans like the calibration ones: about the 1% level itself
    assert shifted < 0.5 * same  # unseen humans score higher: a stricter level is needed for 1% on them
    t = module.alpha_threshold(cal, shifted)
    assert (rng.normal(0.5, 1.0, size=20000) >= t).mean() < 0.015


def _fold(keys, y, s, langs=None):
    """Saved fold scores as ``detect_folders.load_folds`` returns them (test documents in English unless ``langs``)."""
    import numpy as np

    from synthfilter.detect.corpus import Document

    s = np.array(s, dtype=float)
    test = [Document("", int(v), "", "", "", "", 0, lang) for v, lang in zip(y, langs or ["en"] * len(y))]
    return {"key": np.array(keys), "y": np.array(y), "s": s, "cal": s[np.array(y) == 0][:50], "test": test}


def test_the_cascade_escalates_the_gates_uncertain_band_chosen_without_the_held_out_folder():
    import numpy as np

    from benchmarks.detect_cascade import cascade_summary

    rng = np.random.default_rng(0)
    gate, deep = {}, {}
    for f in ("a", "b", "c"):
        y = rng.integers(0, 2, 600)
        keys = [f"{f}{i}" for i in range(600)]
        gate[f] = _fold(keys, y, (2 * y - 1) + rng.normal(0, 1.5, 600))  # noisy
        deep[f] = _fold(keys[::-1][:400][::-1], y[200:], (2 * y[200:] - 1) * 3 + rng.normal(0, 1, 400))  # sharp, fewer rows
    out = cascade_summary(gate, deep, gate_speed=1000.0, deep_speed=30.0)
    m = out["mean"]
    assert all(r["n"] == 400 for r in out["per_folder"].values())  # joined on the rows both tiers scored
    assert m["gate_auroc"] + 0.05 < m["cascade_auroc"] and m["cascade_auroc"] >= m["deep_auroc"] - 0.02
    assert 0.0 < m["escalated_share"] < 1.0
    assert m["sum_auroc"] > m["gate_auroc"] + 0.05  # the sharp deep tier lifts the standardised sum too
    assert out["docs_per_s"] == round(1 / (1 / 1000 + m["escalated_share"] / 30), 1)
    # a held-out folder whose gate scores are shifted does not move its own band
    moved = dict(gate, a=_fold(gate["a"]["key"], gate["a"]["y"], gate["a"]["s"] + 100))
    assert cascade_summary(moved, deep, None, None)["per_folder"]["a"]["band"] == out["per_folder"]["a"]["band"]


def test_the_cascade_refuses_tiers_whose_saved_labels_disagree():
    import pytest

    from benchmarks.detect_cascade import joined

    with pytest.raises(ValueError, match="labels disagree"):
        joined({"a": _fold(["k1", "k2"], [0, 1], [0.1, 0.2])}, {"a": _fold(["k1", "k2"], [1, 1], [0.1, 0.2])})


def test_the_engines_verdict_is_taken_at_the_batch_size_the_tier_runs():
    module = _benchmark("detect_engines")
    body = {"body": "b", "max_abs_difference": 1e-6, "tier_batch": 4, "onnxruntime_worth_it": False,
            "batches": {"1": {"torch_docs_per_s": 4.0, "onnxruntime_docs_per_s": 6.0, "ratio": 1.5},
                        "4": {"torch_docs_per_s": 7.0, "onnxruntime_docs_per_s": 7.0, "ratio": 1.0}}}
    text = module.render({"threads": 2, "onnxruntime": "x", "torch": "y", "bodies": {"smollm2": body}})
    assert "| b | 4 (the tier's) | 7.0 | 7.0 | 1.00x |" in text
    assert "| b | 1 | 4.0 | 6.0 | 1.50x |" in text
    assert text.endswith("smollm2 no.")
    ids, mask = module.inputs(100, batch=3, tokens=20, seed=0, padded=True)
    assert mask.sum(1).tolist() == [20, 13, 6]
    assert ids.min() >= 5 and ids.max() < 100


def test_soft_targets_become_weighted_rows_with_the_same_log_loss():
    module = _benchmark("detect_distil")
    target, weight = np.array([1.0, 0.0, 0.25, 0.9]), np.array([2.0, 1.0, 4.0, 1.0])
    rows, labels, w = module.soft_target_rows(target, weight)
    p = np.array([0.7, 0.2, 0.4, 0.6])  # any predicted probabilities
    soft_loss = -(weight * (target * np.log(p) + (1 - target) * np.log(1 - p))).sum()
    row_loss = -(w * np.where(labels == 1, np.log(p[rows]), np.log(1 - p[rows]))).sum()
    assert row_loss == pytest.approx(soft_loss)
    assert sorted(rows.tolist()) == [0, 1, 2, 2, 3, 3] and set(labels.tolist()) == {0, 1}


def test_the_distillation_pool_holds_no_teacher_training_or_calibration_text(tmp_path):
    module = _benchmark("detect_distil")
    from synthfilter.detect.corpus import Document

    docs = [Document(f"text {s} {i} {y}", y, s, f"{s}:{i}", "d", "g", hash((s, i, y)) % 2**63, "en")
            for s in ("a", "b", "c") for i in range(400) for y in (0, 1)]
    sets = module.fold_sets(docs, "c")
    pool = sets["pool"]
    assert pool and all(d.source != "c" for d in pool)
    assert not {d.key for d in pool} & {d.key for d in sets["teacher_fit"]}
    cal_groups = {d.group for d in sets["teacher_cal"] + sets["student_cal"]}
    assert not {d.group for d in pool} & cal_groups
    assert {d.key for d in pool} <= {d.key for d in sets["student_fit"]}
    assert {d.source for d in sets["test"]} == {"c"}


def test_wikitext_paragraphs_are_detokenised_without_headings_or_unknown_words(tmp_path):
    module = _benchmark("detect_distil")
    words = " ".join(["word"] * 40)
    (tmp_path / "valid.txt").write_text(
        f" = A heading = \n {words} , a well @-@ known 1 @,@ 000 people ( about ) . \n {words} <unk> here . \n short one . \n")
    out = module.wikitext_paragraphs(tmp_path)
    assert out == [f"{words}, a well-known 1,000 people (about)."]


def test_the_folder_tables_put_at_most_four_tiers_side_by_side_and_keep_every_tier():
    import numpy as np

    from synthfilter.detect.corpus import Document

    module = _benchmark("detect_folders")
    rng = np.random.default_rng(0)

    def folds(shift: float) -> dict:
        out = {}
        for held, lang in (("a", "en"), ("b", "en"), ("c", "ar")):
            y = np.repeat([0, 1], 100)
            test = [Document("", int(v), held, "", "", "", i, lang) for i, v in enumerate(y)]
            out[held] = {"test": test, "y": y, "s": y * shift + rng.normal(size=200),
                         "cal": rng.normal(size=100), "n_train": 10, "fit_s": 1.0}
        return out

    names = ["t1", "t2", "t3", "t4", "t5"]
    result = {"tiers": {n: {**module.summarise(folds(i + 1.0)), "cap_per_cell": 10, "test_cap": 100, "params": {}}
                        for i, n in enumerate(names)}, "speed": {}}
    text = module.render(result)
    heads = [line for line in text.splitlines() if line.startswith("| held-out folder |")]
    assert [sum(f"| {n} AUROC |" in h for n in names) for h in heads] == [4, 1]
    assert [h.count("AUROC |") for h in heads] == [4, 1]
    assert sum(line.startswith("| language |") for line in text.splitlines()) == 2
    for n in names:  # every tier has its speed row even without a measured speed
        assert f"| {n} | - |" in text


def test_speed_timings_start_from_empty_feature_memos():
    import numpy as np

    from synthfilter.detect.memo import TextMemo

    module = _benchmark("detect_folders")
    memo, computed = TextMemo(), []

    def compute(texts):
        computed.extend(texts)
        return [np.zeros(2) for _ in texts]

    memo.lookup(["a b", "c d"], compute, 2)
    assert module.clear_feature_memos() >= 1 and memo.rows == {}
    memo.lookup(["a b"], compute, 2)
    assert computed == ["a b", "c d", "a b"]  # computed again, not read from the memo


def test_the_standardised_sum_joins_every_tiers_rows_and_beats_independent_noisy_tiers():
    import numpy as np
    import pytest

    from benchmarks.detect_sum import sum_summary

    rng = np.random.default_rng(0)
    tiers = {"a": {}, "b": {}}
    for f in ("x", "y", "z"):
        y = rng.integers(0, 2, 600)
        keys = [f"{f}{i}" for i in range(600)]
        langs = ["en"] * 400 + ["ar"] * 200
        tiers["a"][f] = _fold(keys, y, y + rng.normal(0, 1.0, 600), langs)
        # tier b: another scale and offset, and it scored only the last 500 rows
        tiers["b"][f] = _fold(keys[100:], y[100:], 50 + 10 * (y[100:] + rng.normal(0, 1.0, 500)), langs[100:])
    out = sum_summary(tiers, {"a": 1000.0, "b": 10.0})
    assert all(r["n"] == 500 for r in out["per_folder"].values())  # only the rows both tiers scored
    m = out["mean"]
    assert m["sum_auroc"] > max(m["tier_auroc"].values()) + 0.03  # independent errors average out
    assert set(out["per_language"]) == {"en", "ar"} and out["per_language"]["ar"]["folders"] == 3
    assert out["docs_per_s"] == round(1 / (1 / 1000 + 1 / 10), 1)
    assert sum_summary(tiers, {"a": 1000.0, "b": None})["docs_per_s"] is None
    flipped = {**tiers["b"], "x": _fold(tiers["b"]["x"]["key"], 1 - tiers["b"]["x"]["y"], tiers["b"]["x"]["s"],
                                             ["en"] * 500)}
    with pytest.raises(ValueError, match=r"labels disagree on the same documents \(a and b\)"):
        sum_summary({"a": tiers["a"], "b": flipped}, {})
