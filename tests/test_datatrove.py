"""synthfilter.integrations.datatrove in a real datatrove pipeline: reader -> tagger -> filter -> writer."""

import gzip
import importlib
import json
import math
import pickle
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("datatrove")
pytest.importorskip("orjson")  # datatrove's JSONL reader and writer need it

import datasets  # noqa: E402
from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

import synthfilter  # noqa: E402
import synthfilter.integrations.datatrove as sfdt  # noqa: E402
from synthfilter import Tagger  # noqa: E402
from synthfilter.integrations.datatrove import MissingTagsError, SynthfilterFilter, SynthfilterTagger  # noqa: E402
from synthfilter.models import is_loaded  # noqa: E402

from tests.conftest import make_texts  # noqa: E402

KEYS = ("sf_score", "sf_label", "sf_lang", "sf_reason", "sf_detector")
#: Below the shipped fast threshold (fast@2 flags about 0.15% of held-out human text), so that the
#: small generated AI texts are flagged and the filter has something to drop.
THRESHOLD = 0.8
ROOT = Path(__file__).resolve().parents[1]


def _texts() -> list[str]:
    sample = resources.files("synthfilter") / "data" / "sample.jsonl"
    shipped = [json.loads(line)["text"] for line in sample.read_text().splitlines()]
    shipped = [t for t in shipped if isinstance(t, str) and t.strip()]
    return shipped + make_texts(6, "human", seed=7) + make_texts(6, "ai", seed=7) + ["   \n ", "hi there"]


def _write_input(folder: Path) -> dict[str, str]:
    """Two JSONL files (one per task); returns id -> text."""
    texts = _texts()
    folder.mkdir()
    by_id = {}
    for part in (0, 1):
        with open(folder / f"part{part}.jsonl", "w") as f:
            for i in range(part, len(texts), 2):
                by_id[f"doc{i}"] = texts[i]
                f.write(json.dumps({"id": f"doc{i}", "text": texts[i], "source": "web"}) + "\n")
    return by_id


def _read_output(folder: Path) -> dict[str, dict]:
    docs = {}
    for file in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(file, "rt") as f:
            for line in f:
                row = json.loads(line)
                assert row["id"] not in docs
                docs[row["id"]] = row
    return docs


def _run(tmp: Path, name: str, filter_step: SynthfilterFilter, tagger: SynthfilterTagger | None = None) -> dict:
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(tmp / "in")), tagger or SynthfilterTagger(batch_size=8, threshold=THRESHOLD), filter_step,
                  JsonlWriter(str(tmp / name / "kept"))],
        tasks=2, workers=1, logging_dir=str(tmp / name / "logs"),
    ).run()
    stats = json.loads((tmp / name / "logs" / "stats.json").read_text())
    return {"kept": _read_output(tmp / name / "kept"), "excluded": _read_output(tmp / name / "excluded"),
            "stats": {step["name"]: step["stats"] for step in stats}}


def _count(stats: dict, key: str) -> int:
    value = stats.get(key, 0)
    return value["total"] if isinstance(value, dict) else value


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dt")
    by_id = _write_input(tmp / "in")
    loads = []

    def counting_load(name):
        loads.append(name)
        return synthfilter.load_detector(name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sfdt, "load_detector", counting_load)
        mp.setattr(sfdt, "_DETECTORS", {})
        out = _run(tmp, "default", SynthfilterFilter(exclusion_writer=JsonlWriter(str(tmp / "default" / "excluded"))))
    return {"by_id": by_id, "loads": loads, "tmp": tmp, **out}


@pytest.fixture(scope="module")
def expected(run):
    ids = sorted(run["by_id"])
    ds = datasets.Dataset.from_dict({"id": ids, "text": [run["by_id"][i] for i in ids]})
    tagged = ds.map(synthfilter.Tagger(threshold=THRESHOLD), batched=True)
    return {row["id"]: row for row in tagged}


def test_kept_plus_excluded_is_the_input_and_only_synthetic_is_dropped(run):
    kept, excluded = run["kept"], run["excluded"]
    assert not set(kept) & set(excluded)
    assert set(kept) | set(excluded) == set(run["by_id"])
    assert excluded and kept
    assert {d["metadata"]["sf_label"] for d in excluded.values()} == {"synthetic"}
    assert "synthetic" not in {d["metadata"]["sf_label"] for d in kept.values()}
    assert {d["metadata"]["sf_label"] for d in kept.values()} == {"human", "unknown"}
    assert all(d["metadata"]["filter_reason"] == "sf_label=synthetic" for d in excluded.values())
    for doc in (*kept.values(), *excluded.values()):
        assert doc["text"] == run["by_id"][doc["id"]]
        assert doc["metadata"]["source"] == "web"  # the reader's metadata is kept


def test_every_document_has_the_five_keys_with_plain_types(run):
    for doc in (*run["kept"].values(), *run["excluded"].values()):
        meta = doc["metadata"]
        assert set(KEYS) <= set(meta)
        assert meta["sf_score"] is None or (type(meta["sf_score"]) is float and 0.0 <= meta["sf_score"] <= 1.0)
        assert (meta["sf_score"] is None) == (meta["sf_label"] == "unknown")
        for key in KEYS[1:]:
            assert type(meta[key]) is str
        assert meta["sf_detector"] == "fast@2"


def test_tags_equal_datasets_map(run, expected):
    reasons = set()
    for doc in (*run["kept"].values(), *run["excluded"].values()):
        meta, want = doc["metadata"], expected[doc["id"]]
        for key in ("sf_label", "sf_lang", "sf_reason", "sf_detector"):
            assert meta[key] == want[key], (doc["id"], key)
        if math.isnan(want["sf_score"]):
            assert meta["sf_score"] is None
        else:
            assert meta["sf_score"] == pytest.approx(want["sf_score"], rel=0, abs=1e-7)
        reasons.add(meta["sf_reason"])
    assert {"empty", "too_short", ""} <= reasons


def test_stats_count_tags_and_drops_per_reason(run):
    tagger = run["stats"]["🏷 - TAGGER: 🤖 synthfilter tagger"]
    filt = run["stats"]["🔻 - FILTER: 🤖 synthfilter filter"]
    docs = [*run["kept"].values(), *run["excluded"].values()]
    assert _count(tagger, "total") == len(run["by_id"])
    for label in ("human", "synthetic", "unknown"):
        n = sum(d["metadata"]["sf_label"] == label for d in docs)
        assert _count(tagger, f"sf_label={label}") == n
    assert _count(tagger, "sf_reason=too_short") == _count(tagger, "sf_reason=empty") == 1
    assert _count(filt, "total") == len(run["by_id"])
    assert _count(filt, "dropped") == _count(filt, "dropped_sf_label=synthetic") == len(run["excluded"])
    assert _count(filt, "forwarded") == len(run["kept"])


def test_the_detector_loads_once_per_worker_process(run):
    # two tasks, one worker: each task runs its own copy of the pipeline, in this process
    assert run["loads"] == ["fast"]


def test_max_score_and_drop_unknown(run, expected):
    tmp = run["tmp"]
    out = _run(tmp, "max", SynthfilterFilter(max_score=0.5, drop_unknown=True,
                                             exclusion_writer=JsonlWriter(str(tmp / "max" / "excluded"))))
    reasons = {}
    for doc in out["excluded"].values():
        reasons[doc["id"]] = doc["metadata"]["filter_reason"]
    want = {}
    for doc_id, row in expected.items():
        if row["sf_label"] == "unknown":
            want[doc_id] = f"unknown:{row['sf_reason']}"
        elif row["sf_score"] >= 0.5:
            want[doc_id] = "sf_score>=0.5"
    assert reasons == want
    assert any(r["sf_label"] == "human" and r["sf_score"] >= 0.5 for r in expected.values())  # the rule matters
    filt = out["stats"]["🔻 - FILTER: 🤖 synthfilter filter"]
    assert _count(filt, "dropped_unknown:too_short") == _count(filt, "dropped_unknown:empty") == 1
    assert _count(filt, "dropped_sf_score>=0.5") == sum(r == "sf_score>=0.5" for r in want.values())
    assert set(out["kept"]) == set(run["by_id"]) - set(want)


def test_filter_rules_on_single_documents():
    def doc(label, score, reason=""):
        return Document(text="x", id="1", metadata={"sf_label": label, "sf_score": score, "sf_reason": reason,
                                                   "sf_lang": "en", "sf_detector": "fast@1"})

    default = SynthfilterFilter()
    assert default.filter(doc("synthetic", 0.97)) == (False, "sf_label=synthetic")
    assert default.filter(doc("human", 0.97)) is True
    assert default.filter(doc("unknown", None, "too_short")) is True
    assert SynthfilterFilter(drop_unknown=True).filter(doc("unknown", None, "too_short")) == (False, "unknown:too_short")
    by_score = SynthfilterFilter(max_score=0.9)
    assert by_score.filter(doc("human", 0.9)) == (False, "sf_score>=0.9")
    assert by_score.filter(doc("synthetic", 0.89)) is True  # max_score alone: no label rule
    assert by_score.filter(doc("human", float("nan"))) is True
    both = SynthfilterFilter(drop_labels=["synthetic"], max_score=0.9)
    assert both.filter(doc("synthetic", 0.5)) == (False, "sf_label=synthetic")
    assert SynthfilterFilter(drop_labels=["human"]).filter(doc("human", 0.1)) == (False, "sf_label=human")
    for bad in ({"drop_labels": ["unknown"]}, {"drop_labels": ["ai"]}, {"max_score": 1.5}, {"drop_labels": "human"}):
        with pytest.raises((ValueError, TypeError)):
            SynthfilterFilter(**bad)


def test_a_document_without_tags_raises_naming_the_key_and_the_tagger():
    untagged = Document(text="Some text that nobody tagged at all.", id="d7", metadata={"source": "web"})
    with pytest.raises(MissingTagsError, match=r"'sf_label'.*put SynthfilterTagger\(\) before") as info:
        list(SynthfilterFilter().run(iter([untagged])))
    assert isinstance(info.value, KeyError) and "d7" in str(info.value)


def test_tagger_pickles_without_the_model_before_and_after_use():
    step = SynthfilterTagger(batch_size=4)
    before = pickle.dumps(step)
    assert b"synthfilter.detect" not in before
    clone = pickle.loads(before)
    assert not is_loaded(clone.tagger, "loaded_detector")
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(_texts()[:6])]
    tagged = list(clone.run(iter(docs)))
    assert is_loaded(clone.tagger, "loaded_detector")
    after = pickle.dumps(clone)
    assert b"synthfilter.detect" not in after and len(after) < 20_000
    again = list(pickle.loads(after).run(iter(Document(text=d.text, id=d.id) for d in docs)))
    assert [d.metadata for d in again] == [d.metadata for d in tagged]


def test_provenance_reads_metadata_like_tagger_reads_columns():
    texts = _texts()[:8]
    sources = ["gpt", "web", None, "forum", "gpt", "web", "forum", None]
    rules = {"column": "source", "human": ["forum"], "synthetic": ["gpt"]}
    docs = [Document(text=t, id=str(i), metadata={} if s is None else {"source": s})
            for i, (t, s) in enumerate(zip(texts, sources))]
    tagged = list(SynthfilterTagger(provenance=rules).run(iter(docs)))
    want = datasets.Dataset.from_dict({"text": texts, "source": sources}).map(Tagger(provenance=rules), batched=True)
    assert [d.metadata["sf_label"] for d in tagged] == want["sf_label"]
    assert [d.metadata["sf_reason"] for d in tagged] == want["sf_reason"]
    assert [d.metadata["sf_score"] for d in tagged] == pytest.approx(want["sf_score"])  # decided documents are scored too
    assert tagged[0].metadata["sf_reason"] == "provenance:source=gpt" and tagged[0].metadata["sf_label"] == "synthetic"
    # a score threshold never drops a document provenance decided human
    forum = [d for d in tagged if d.metadata.get("source") == "forum"]
    assert forum and all(SynthfilterFilter(max_score=0.0).filter(d) is True for d in forum)
    nobody = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    with pytest.raises(KeyError, match="provenance key 'source'"):
        list(SynthfilterTagger(provenance=rules).run(iter(nobody)))


def test_bad_tagger_arguments_fail_when_the_step_is_built():
    with pytest.raises(ValueError, match="batch_size"):
        SynthfilterTagger(batch_size=0)
    with pytest.raises(ValueError, match="threshold"):
        SynthfilterTagger(threshold=2.0)


def test_import_without_datatrove_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "datatrove" or m.startswith("datatrove.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "synthfilter.integrations.datatrove")
    with pytest.raises(ImportError, match=r"pip install 'synthfilter\[datatrove\]'"):
        importlib.import_module("synthfilter.integrations.datatrove")


def test_synthfilter_does_not_import_datatrove(tmp_path):
    code = ("import sys, synthfilter, synthfilter.cli, synthfilter.integrations, synthfilter.integrations.ray; "
            "print(sorted(m for m in sys.modules if 'datatrove' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_extra_installs_datatrove_and_its_jsonl_dependency():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {spec.split(">")[0].split("=")[0].strip() for spec in extras["datatrove"]}
    assert {"datatrove", "orjson"} <= names


def test_documents_with_no_metadata_or_no_string_text_are_tagged_not_crashed():
    text = _texts()[0]
    docs = [Document(text=text, id="plain"), Document(text=text, id="none-meta", metadata=None),
            Document(text=123, id="number"), Document(text=None, id="null")]
    out = list(SynthfilterTagger().run(iter(docs)))
    assert [d.id for d in out] == ["plain", "none-meta", "number", "null"]
    assert out[1].metadata["sf_label"] == out[0].metadata["sf_label"] != "unknown"
    assert [d.metadata["sf_reason"] for d in out[2:]] == ["not_text", "not_text"]
    assert [d.metadata["sf_score"] for d in out[2:]] == [None, None]


def test_the_filter_names_a_document_whose_metadata_is_none():
    with pytest.raises(MissingTagsError, match="document 'm' has no 'sf_label'"):
        list(SynthfilterFilter().run(iter([Document(text="x", id="m", metadata=None)])))


def test_a_detector_file_replaced_between_tasks_is_loaded_again(tmp_path):
    from synthfilter.detect import FastDetector

    human, ai = make_texts(100, "human", seed=3), make_texts(100, "ai", seed=3)
    det = FastDetector().fit(human + ai, ["human"] * 100 + ["ai"] * 100)
    det.threshold_ = 0.000001
    det.save(tmp_path / "d.npz")
    text = make_texts(1, "human", seed=8)[0]
    first = list(SynthfilterTagger(detector=str(tmp_path / "d.npz")).run(iter([Document(text=text, id="a")])))
    det.threshold_ = 0.999999
    det.save(tmp_path / "d.npz")
    second = list(SynthfilterTagger(detector=str(tmp_path / "d.npz")).run(iter([Document(text=text, id="a")])))
    assert (first[0].metadata["sf_label"], second[0].metadata["sf_label"]) == ("synthetic", "human")
