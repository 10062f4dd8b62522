"""The Tagger on formatted datasets (``ds.with_format("numpy" | "torch" | "arrow" | "pandas")``)."""

import math

import datasets
import numpy as np
import pyarrow as pa
import pytest

import synthfilter as sf
from synthfilter.columns import TAG_COLUMNS
from synthfilter.tag import Tagger

from .conftest import make_texts

TEXTS = [
    "We went to the lake on Saturday and the kids swam in the cold water all afternoon.",
    None,
    "short",
    "",
    "Furthermore, it is important to note that comprehensive innovative solutions foster seamless collaboration.",
    "Overall, this comprehensive approach fosters collaboration, enhances productivity, and ensures seamless integration. "
    "Additionally, it is crucial to leverage innovative strategies that empower stakeholders. In conclusion, by embracing "
    "these transformative solutions, organizations can navigate the evolving landscape and unlock their full potential.",
    "Мы ходили на озеро в субботу, и дети купались в холодной воде весь день до вечера.",
    *make_texts(4, "human", seed=7),
    *make_texts(4, "ai", seed=7),
]
TAGS = [c.name for c in TAG_COLUMNS]


@pytest.fixture(scope="module")
def ds():
    return datasets.Dataset.from_dict({"text": TEXTS, "n": list(range(len(TEXTS))),
                                       "source": ["wiki" if i % 3 == 0 else "web" for i in range(len(TEXTS))]})


@pytest.fixture(scope="module")
def plain(ds):
    return ds.map(sf.tag, batched=True, batch_size=4)


def _same_rows(out, plain, columns):
    got, want = out.with_format(None).to_dict(), plain.to_dict()
    for name in columns:
        if name == "sf_score":
            assert np.allclose(np.array(got[name], dtype=float), np.array(want[name], dtype=float), equal_nan=True)
        else:
            assert got[name] == want[name], name


def test_the_plain_reference_has_every_kind_of_row(plain):
    reasons = set(plain["sf_reason"])
    assert {"", "not_text", "too_short", "empty"} <= reasons
    assert any(r.startswith("unsupported_language:") for r in reasons)
    assert {"human", "synthetic", "unknown"} <= set(plain["sf_label"])


@pytest.mark.parametrize("fmt", ["numpy", "torch", "arrow"])
@pytest.mark.parametrize("batched", [True, False])
def test_formatted_datasets_get_the_same_columns_and_values(ds, plain, fmt, batched):
    if fmt == "torch":
        pytest.importorskip("torch")
    out = ds.with_format(fmt).map(sf.tag, batched=batched, batch_size=4, load_from_cache_file=False)
    assert out.with_format(None).features == plain.features
    _same_rows(out, plain, plain.column_names)


@pytest.mark.parametrize("batched", [True, False])
def test_pandas_format_gets_the_same_tag_columns_and_keeps_the_others(ds, plain, batched):
    out = ds.with_format("pandas").map(sf.tag, batched=batched, batch_size=4, load_from_cache_file=False)
    assert out.column_names == plain.column_names  # datasets keeps only what the function returns
    assert {n: out.features[n] for n in TAGS} == {n: plain.features[n] for n in TAGS}
    _same_rows(out, plain, plain.column_names)  # values alike; pandas stores strings as large_string


def test_numpy_format_hands_texts_as_arrays_and_they_are_read_as_texts(ds, plain):
    seen = []

    def spy(batch):
        seen.append(type(batch["text"]))
        return sf.tag(batch)

    out = ds.with_format("numpy").map(spy, batched=True, batch_size=4, load_from_cache_file=False)
    assert seen and all(t is np.ndarray for t in seen)  # the case this covers
    assert out.with_format(None)["sf_label"] == plain["sf_label"]


def test_a_numpy_unicode_array_batch_without_nulls_is_tagged(plain):
    texts = [t for t in TEXTS if t]
    batch = {"text": np.array(texts)}  # dtype '<U..', elements numpy.str_
    assert batch["text"].dtype.kind == "U"
    cols = sf.tag(batch)
    want = {t: r for t, r in zip(TEXTS, plain["sf_reason"])}
    assert list(cols["sf_reason"]) == [want[t] for t in texts]
    assert len(cols["sf_score"]) == len(texts)


def test_a_single_numpy_str_value_counts_as_text():
    text = TEXTS[0]
    row = sf.tag({"text": np.str_(text)})
    assert row["sf_reason"] == "" and row["sf_label"] in ("human", "synthetic")
    assert not math.isnan(row["sf_score"])
    assert row == sf.tag({"text": text}) == sf.tag({"text": np.array(text)})  # 0-d array too
    scores, labels = Tagger().score([np.str_(text)])
    assert labels[0] in ("human", "synthetic") and not math.isnan(scores[0])


def test_provenance_rules_read_formatted_batches(ds):
    tagger = Tagger(provenance={"column": "source", "human": ["wiki"]})
    plain = ds.map(tagger, batched=True, batch_size=4)
    assert "provenance:source=wiki" in plain["sf_reason"]
    for fmt in ("numpy", "arrow", "pandas"):
        out = ds.with_format(fmt).map(tagger, batched=True, batch_size=4, load_from_cache_file=False)
        _same_rows(out, plain, TAGS)


def test_formatted_iterable_datasets_are_tagged_like_plain(ds, plain):
    for fmt in ("numpy", "arrow", "pandas"):
        it = ds.to_iterable_dataset().with_format(fmt).map(sf.tag, batched=True, batch_size=4)
        rows = list(it.with_format(None))
        assert [r["sf_reason"] for r in rows] == plain["sf_reason"], fmt


def test_a_missing_text_column_is_named_in_an_arrow_batch():
    with pytest.raises(KeyError, match="text column 'text' not found; columns present: \\['body'\\]"):
        sf.tag(pa.table({"body": ["x"]}))


def test_an_arrow_batch_keeps_its_columns_and_replaces_stale_tags():
    table = pa.table({"text": [TEXTS[0], None], "sf_label": ["stale", "stale"]})
    out = sf.tag(table)
    assert isinstance(out, pa.Table)
    assert out.column_names == ["text", "sf_label", "sf_score", "sf_detector", "sf_lang", "sf_reason"]
    assert out.column("sf_label").to_pylist()[1] == "unknown" and "stale" not in out.column("sf_label").to_pylist()
    assert out.schema.field("sf_score").type == pa.float32()
