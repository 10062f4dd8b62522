import datetime as dt
import json
import math
import pickle

import datasets
import numpy as np
import pyarrow as pa
import pytest
from datasets.fingerprint import Hasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthfilter import load_detector
from synthfilter.detect.base import BaseDetector
from synthfilter.models import is_loaded
from synthfilter.provenance import (HUMAN, ROUTE_COLUMN, ROUTE_DATE, ROUTE_NONE, SYNTHETIC, UNDECIDED, Decision,
                                    Provenance)
from synthfilter.tag import Tagger

CUT = dt.date(2022, 11, 30)
RULES = {"column": "source", "human": ["wikipedia-2019"], "synthetic": ["gen-v2"]}
DATE_REASON = "provenance:crawl_date<2022-11-30"
UTC = dt.timezone.utc


def rules(**kw):
    return Provenance.build(kw.pop("provenance", RULES), **kw)


def decide(values, **kw):
    return rules(**kw).decide(pa.table(values))


# --------------------------------------------------------------------------- the column rule
def test_column_rule_decides_listed_values_and_leaves_others_and_nulls_undecided():
    d = decide({"source": ["wikipedia-2019", "gen-v2", "forum", None, "gen-v2", "Wikipedia-2019"]})
    assert d.classes.dtype == np.int8
    assert d.classes.tolist() == [HUMAN, SYNTHETIC, UNDECIDED, UNDECIDED, SYNTHETIC, UNDECIDED]
    assert d.reasons.tolist() == ["provenance:source=wikipedia-2019", "provenance:source=gen-v2", "", "",
                                  "provenance:source=gen-v2", ""]
    assert d.routes.tolist() == [ROUTE_COLUMN, ROUTE_COLUMN, ROUTE_NONE, ROUTE_NONE, ROUTE_COLUMN, ROUTE_NONE]
    assert d.decided.tolist() == [True, True, False, False, True, False]
    assert d.labels() == ["human", "synthetic", "", "", "synthetic", ""]


def test_column_values_are_compared_as_strings():
    rule = rules(provenance={"column": "shard", "human": [1, "2"], "synthetic": ["30"]})
    assert rule.human == ("1", "2")
    d = rule.decide(pa.table({"shard": pa.array([1, 2, 30, 3, None], pa.int16())}))
    assert d.classes.tolist() == [HUMAN, HUMAN, SYNTHETIC, UNDECIDED, UNDECIDED]
    assert d.reasons[2] == "provenance:shard=30"
    big = rule.decide(pa.table({"shard": pa.array(["1", "30", "x"], pa.large_string())}))
    assert big.classes.tolist() == [HUMAN, SYNTHETIC, UNDECIDED]
    encoded = rule.decide(pa.table({"shard": pa.array(["30", None, "1", "30"]).dictionary_encode()}))
    assert encoded.classes.tolist() == [SYNTHETIC, UNDECIDED, HUMAN, SYNTHETIC]


def test_column_of_an_ambiguous_type_raises_type_error_naming_column_and_type():
    with pytest.raises(TypeError, match=r"'source'.*double"):
        decide({"source": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"'source'.*bool"):
        decide({"source": [True]})


def test_column_of_nulls_only_leaves_every_row_undecided():
    d = decide({"source": pa.nulls(3)})
    assert d.classes.tolist() == [UNDECIDED] * 3 and d.reasons.tolist() == [""] * 3


# --------------------------------------------------------------------------- the date rule
def date_rule(values, cut=CUT):
    return Provenance.build(first_seen_column="crawl_date", human_before=cut).decide(pa.table({"crawl_date": values}))


def test_dates_before_the_cut_are_human_and_later_ones_undecided_not_synthetic():
    values = [dt.date(2019, 5, 1), CUT - dt.timedelta(days=1), CUT, CUT + dt.timedelta(days=400), None]
    for typ in (pa.date32(), pa.date64()):
        d = date_rule(pa.array(values, typ))
        assert d.classes.tolist() == [HUMAN, HUMAN, UNDECIDED, UNDECIDED, UNDECIDED], typ
        assert d.reasons.tolist() == [DATE_REASON, DATE_REASON, "", "", ""]
        assert d.routes.tolist() == [ROUTE_DATE, ROUTE_DATE, ROUTE_NONE, ROUTE_NONE, ROUTE_NONE]
        assert SYNTHETIC not in d.classes


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_naive_timestamps_are_read_as_utc_in_any_unit(unit):
    values = [dt.datetime(2022, 11, 29, 23, 59, 59), dt.datetime(2022, 11, 30), dt.datetime(2001, 1, 1), None]
    d = date_rule(pa.array(values, pa.timestamp(unit)))
    assert d.classes.tolist() == [HUMAN, UNDECIDED, HUMAN, UNDECIDED]


def test_time_zone_aware_timestamps_compare_as_instants_in_utc():
    tokyo = dt.timezone(dt.timedelta(hours=9))
    values = [
        dt.datetime(2022, 11, 30, 8, 59, tzinfo=tokyo),  # 2022-11-29T23:59Z: before
        dt.datetime(2022, 11, 30, 9, 0, tzinfo=tokyo),  # 2022-11-30T00:00Z: not before
        dt.datetime(2022, 11, 29, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),  # 2022-11-30T01:00Z
    ]
    for typ in (pa.timestamp("us", tz="Asia/Tokyo"), pa.timestamp("ns", tz="UTC"), pa.timestamp("s", tz="-05:00")):
        d = date_rule(pa.array(values, typ))
        assert d.classes.tolist() == [HUMAN, UNDECIDED, UNDECIDED], typ


def test_iso_strings_with_and_without_offsets_blank_and_null():
    values = ["2022-11-29", "2022-11-30", "2022-11-29T23:59:59", "2022-11-29 23:59:59.999999999",
              "2022-11-30T00:00:00Z", "2022-11-29T23:59:59z", "2022-11-30T04:59:00+05:00",
              "2022-11-30T05:00:00+0500", "2022-11-29T20:00-05", "  2020-01-01  ", "", "   ", None]
    expected = [HUMAN, UNDECIDED, HUMAN, HUMAN, UNDECIDED, HUMAN, HUMAN, UNDECIDED, UNDECIDED, HUMAN, UNDECIDED,
                UNDECIDED, UNDECIDED]
    assert date_rule(pa.array(values)).classes.tolist() == expected
    assert date_rule(pa.array(values, pa.large_string())).classes.tolist() == expected
    chunked = pa.chunked_array([values[:5], values[5:]])
    assert date_rule(chunked).classes.tolist() == expected


def test_unparseable_date_string_raises_value_error_naming_column_and_value():
    values = ["2020-01-01"] * 40 + ["30/11/2022"] + ["2020-01-02"] * 9
    with pytest.raises(ValueError, match=r"first_seen_column 'crawl_date' holds '30/11/2022'"):
        date_rule(pa.array(values))
    with pytest.raises(ValueError, match=r"holds '2022-02-30T10:00:00\+01:00'"):  # an offset value fails too
        date_rule(pa.array(["2022-01-01T00:00:00Z", "2022-02-30T10:00:00+01:00"]))


def test_date_column_of_another_type_raises_type_error_naming_column_and_type():
    with pytest.raises(TypeError, match=r"first_seen_column 'crawl_date'.*int64"):
        date_rule(pa.array([20221130]))


def test_date_column_of_nulls_only_leaves_every_row_undecided():
    assert date_rule(pa.nulls(2)).classes.tolist() == [UNDECIDED, UNDECIDED]


# --------------------------------------------------------------------------- both rules
def test_the_column_rule_wins_over_the_date_rule():
    d = decide({"source": ["gen-v2", "wikipedia-2019", "forum", None, "gen-v2"],
                "crawl_date": [dt.date(2001, 1, 1), dt.date(2030, 1, 1), dt.date(2001, 1, 1), dt.date(2001, 1, 1),
                               dt.date(2030, 1, 1)]},
               first_seen_column="crawl_date", human_before="2022-11-30")
    assert d.classes.tolist() == [SYNTHETIC, HUMAN, HUMAN, HUMAN, SYNTHETIC]
    assert d.reasons.tolist() == ["provenance:source=gen-v2", "provenance:source=wikipedia-2019", DATE_REASON,
                                  DATE_REASON, "provenance:source=gen-v2"]
    assert d.routes.tolist() == [ROUTE_COLUMN, ROUTE_COLUMN, ROUTE_DATE, ROUTE_DATE, ROUTE_COLUMN]
    assert d.counts() == {"provenance_column:human": 1, "provenance_column:synthetic": 2,
                          "provenance_date:human": 2, "detector": 0}


def test_missing_column_raises_key_error_naming_it_and_the_columns_present():
    rule = rules(first_seen_column="crawl_date", human_before=CUT)
    with pytest.raises(KeyError, match=r"'crawl_date' not found; columns present: \['source', 'text'\]"):
        rule.decide(pa.table({"source": ["a"], "text": ["t"]}))
    with pytest.raises(KeyError, match=r"'source' not found; columns present: \['text'\]"):
        rule.decide({"text": ["t"]})
    with pytest.raises(KeyError, match=r"'crawl_date' not found"):
        rule.decide_row({"source": "a"})


def test_decide_takes_record_batches_dicts_of_lists_and_single_rows():
    rule = rules(first_seen_column="crawl_date", human_before=CUT)
    data = {"source": ["gen-v2", "x", "x", None], "crawl_date": [None, dt.date(2020, 1, 1), "2023-01-01", None]}
    expected = [SYNTHETIC, HUMAN, UNDECIDED, UNDECIDED]
    with pytest.raises(TypeError, match="crawl_date"):  # a date and a string in one list: no Arrow type
        rule.decide(data)
    data["crawl_date"] = [None, "2020-01-01", "2023-01-01", None]
    assert rule.decide(data).classes.tolist() == expected
    assert rule.decide(pa.RecordBatch.from_pydict(data)).classes.tolist() == expected
    assert rule.decide({"source": [], "crawl_date": []}).classes.tolist() == []
    assert rule.decide_row({"source": "gen-v2", "crawl_date": None}) == (SYNTHETIC, "provenance:source=gen-v2")
    assert rule.decide_row({"source": "x", "crawl_date": dt.datetime(2020, 1, 1, tzinfo=UTC)}) == (HUMAN, DATE_REASON)
    assert rule.decide_row({"source": "x", "crawl_date": "2024-01-01"}) == (UNDECIDED, "")


def test_class_codes_match_the_quota_vocabulary():
    from synthfilter.quota import config

    assert (HUMAN, SYNTHETIC) == (config.HUMAN, config.SYNTHETIC)
    assert UNDECIDED not in (config.HUMAN, config.SYNTHETIC, config.UNKNOWN)


# --------------------------------------------------------------------------- building and validation
def test_build_returns_none_without_rules_and_the_same_rules_from_every_form():
    assert Provenance.build() is None
    full = rules(first_seen_column="crawl_date", human_before="2022-11-30")
    assert full.columns == ("source", "crawl_date")
    assert full.human_before == CUT and isinstance(full.human_before, dt.date)
    same = [
        Provenance.build({"column": "source", "synthetic": ("gen-v2", "gen-v2"), "human": {"wikipedia-2019"}},
                         first_seen_column="crawl_date", human_before=dt.datetime(2022, 11, 30)),
        Provenance.build(full),
        Provenance.build(Provenance.build(RULES), first_seen_column="crawl_date", human_before=CUT),
        Provenance.build(json.loads(json.dumps(full.to_dict()))),
        Provenance.build({**RULES, "first_seen_column": "crawl_date", "human_before": "2022-11-30T00:00:00Z"}),
        Provenance(column="source", human=["wikipedia-2019"], synthetic=["gen-v2"], first_seen_column="crawl_date",
                   human_before="2022-11-30"),
    ]
    for other in same:
        assert other == full and hash(other) == hash(full)
    assert full.to_dict() == {"column": "source", "human": ["wikipedia-2019"], "synthetic": ["gen-v2"],
                              "first_seen_column": "crawl_date", "human_before": "2022-11-30"}
    date_only = Provenance.build(first_seen_column="d", human_before=CUT)
    assert date_only.columns == ("d",) and Provenance.build(date_only.to_dict()) == date_only
    assert Provenance.build({"column": "d", "human": ["x"]}, first_seen_column="d", human_before=CUT).columns == ("d",)
    assert Provenance.build({"column": "s", "human": ["a", "b"]}) == Provenance.build({"column": "s", "human": ["b", "a"]})
    assert Provenance.build({"column": "s", "human": ["c", "a", "b", "a"]}).human == ("a", "b", "c")  # canonical
    assert Provenance.build({"column": "s", "human": ["a"]}) != Provenance.build({"column": "s", "synthetic": ["a"]})


@pytest.mark.parametrize("kwargs,error,message", [
    ({"provenance": {"column": "source", "human": ["a"], "colum": 1, "synth": []}}, ValueError,
     r"unknown keys \['colum', 'synth'\]"),
    ({"provenance": {"column": "source", "human": ["a", "b"], "synthetic": ["b", "c", "a"]}}, ValueError,
     r"\['a', 'b'\] as both human and synthetic"),
    ({"provenance": None, "first_seen_column": "crawl_date"}, ValueError, r"first_seen_column='crawl_date' needs human_before"),
    ({"provenance": None, "human_before": "2022-11-30"}, ValueError, r"human_before needs first_seen_column"),
    ({"provenance": {"column": "source"}}, ValueError, r"column='source' is an empty rule"),
    ({"provenance": {"column": "source", "human": [], "synthetic": None}}, ValueError, "empty rule"),
    ({"provenance": {}}, ValueError, "empty rule"),
    ({"provenance": {"human": ["a"]}}, ValueError, r"human/synthetic values need column"),
    ({"provenance": {"column": "source", "human": "wikipedia"}}, TypeError, r"human must be a list.*'wikipedia'"),
    ({"provenance": {"column": "source", "synthetic": [1.5]}}, TypeError, r"synthetic values must be strings"),
    ({"provenance": {"column": "", "human": ["a"]}}, TypeError, r"column must be a non-empty column name"),
    ({"provenance": ["source"]}, TypeError, r"provenance must be a dict.*got list"),
    ({"provenance": None, "first_seen_column": "d", "human_before": "30/11/2022"}, ValueError,
     r"human_before must be an ISO date.*'30/11/2022'"),
    ({"provenance": None, "first_seen_column": "d", "human_before": dt.datetime(2022, 11, 30, 12)}, ValueError,
     r"human_before must be a date.*time of day"),
    ({"provenance": None, "first_seen_column": "d", "human_before": 20221130}, TypeError, r"human_before must be a date"),
    ({"provenance": {"first_seen_column": "d", "human_before": "2022-11-30"}, "first_seen_column": "e",
      "human_before": "2021-01-01"}, ValueError, r"date rule is given twice"),
    ({"provenance": Provenance(first_seen_column="d", human_before=CUT), "first_seen_column": "e",
      "human_before": "2021-01-01"}, ValueError, r"date rule is given twice"),
])
def test_invalid_rules_raise_errors_naming_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        Provenance.build(**kwargs)
    with pytest.raises(error, match=message):
        Tagger(**kwargs)


def test_rules_pickle_equal_and_hash_deterministically():
    rule = rules(first_seen_column="crawl_date", human_before=CUT)
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert pickle.dumps(rule) == pickle.dumps(rules(provenance={**RULES, "human": ["wikipedia-2019"] * 2},
                                                    first_seen_column="crawl_date", human_before="2022-11-30"))
    assert Hasher.hash(rule) == Hasher.hash(rules(first_seen_column="crawl_date", human_before=CUT))
    assert Hasher.hash(rule) != Hasher.hash(rules(first_seen_column="crawl_date", human_before="2022-12-01"))
    with pytest.raises(dataclass_frozen_error()):
        rule.column = "other"


def dataclass_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


# --------------------------------------------------------------------------- the Tagger
FAST = load_detector("fast")


class Recording(BaseDetector):
    """The fast detector, recording every text it is asked to score."""

    name = "recording"

    def __init__(self):
        self.seen = []
        self.threshold_, self.version_, self.languages_ = FAST.threshold_, "1", FAST.languages_

    def score_texts(self, texts):
        self.seen.extend(texts)
        return FAST.score_texts(texts)


def english(i: int) -> str:
    return (f"Row {i}: we walked down to the harbour and watched the boats come in. "
            f"Furthermore, it is important to note that row {i} fosters seamless collaboration.")


SOURCES = ["wikipedia-2019", "gen-v2", "forum", None, "gen-v2", "forum", "blog", "wikipedia-2019", "forum", "blog"]
DATES = ["2019-03-01", "2020-01-01", "2021-06-01", "2024-01-01", None, "2023-05-05", "2022-11-29T23:00:00-02:00",
         "2022-11-29", "", "2022-12-01"]


def tagged_table():
    texts = [english(i) for i in range(len(SOURCES))]
    texts[1], texts[3], texts[6] = None, "short", "これは日本語の文章です。" * 3
    return {"id": list(range(len(texts))), "text": texts, "source": SOURCES, "crawl_date": DATES}


#   0 wikipedia -> human (column), 1 gen-v2 -> synthetic (column, text None), 2 forum 2021 -> human (date),
#   3 None 2024 -> undecided (too_short), 4 gen-v2 -> synthetic, 5 forum 2023 -> undecided,
#   6 blog 2022-11-30T01:00Z -> undecided (Japanese), 7 wikipedia -> human, 8 forum "" -> undecided, 9 blog -> undecided
DECIDED = [0, 1, 2, 4, 7]
UNDECIDED_ROWS = [3, 5, 6, 8, 9]


def test_tagger_decides_rows_by_provenance_and_still_scores_them():
    rec = Recording()
    tagger = Tagger(detector=rec, provenance=RULES, first_seen_column="crawl_date", human_before="2022-11-30")
    batch = tagged_table()
    out = tagger(batch)
    # every scorable row is scored, decided or not: the known-human ones are the corpus's own reference
    assert rec.seen == [batch["text"][i] for i in (0, 2, 4, 5, 7, 8, 9)]
    labels, reasons, scores = out["sf_label"], out["sf_reason"], out["sf_score"]
    assert [labels[i] for i in DECIDED] == ["human", "synthetic", "human", "synthetic", "human"]
    assert [reasons[i] for i in DECIDED] == ["provenance:source=wikipedia-2019", "provenance:source=gen-v2",
                                             DATE_REASON, "provenance:source=gen-v2", "provenance:source=wikipedia-2019"]
    assert [math.isnan(scores[i]) for i in DECIDED] == [False, True, False, False, False]  # row 1 has no text
    assert out["sf_detector"] == ["recording@1"] * len(SOURCES)
    assert out["sf_lang"][0] == "en" and out["sf_lang"][1] == ""  # language as for any row; "" without text

    plain = Tagger(detector=Recording())(batch)
    for name in ("sf_label", "sf_reason", "sf_detector"):
        assert [out[name][i] for i in UNDECIDED_ROWS] == [plain[name][i] for i in UNDECIDED_ROWS], name
    np.testing.assert_array_equal(out["sf_score"][UNDECIDED_ROWS], plain["sf_score"][UNDECIDED_ROWS])
    assert out["sf_lang"] == plain["sf_lang"]
    assert [reasons[i] for i in (3, 6)] == ["too_short", "unsupported_language:ja"]
    assert all(labels[i] in ("human", "synthetic") for i in (5, 8, 9))


def test_tagger_without_rules_is_unchanged_and_rules_need_a_decision_when_given_text_only():
    rec = Recording()
    assert Tagger(detector=rec).provenance is None
    assert "provenance" not in repr(Tagger()) and "provenance=Provenance(column='source'" in repr(Tagger(provenance=RULES))
    tagger = Tagger(detector=rec, provenance=RULES)
    with pytest.raises(ValueError, match=r"provenance rules: pass decision=tagger.decide\(batch\).*\['source'\]"):
        tagger.columns([english(0)])
    batch = tagged_table()
    cols = tagger.columns(batch["text"], decision=tagger.decide(pa.table(batch)))
    assert cols["sf_label"][1] == "synthetic"
    with pytest.raises(ValueError, match="decision has 10 rows for 2 values"):
        tagger.columns(batch["text"][:2], decision=tagger.decide(batch))
    scores, labels = tagger.score([english(1)])  # text only: scored, rules do not apply
    assert labels[0] in ("human", "synthetic") and not math.isnan(scores[0])
    with pytest.raises(KeyError, match=r"provenance column 'source' not found; columns present: \['text'\]"):
        tagger({"text": [english(0)]})


def dataset():
    return datasets.Dataset.from_dict(tagged_table())


def test_map_keeps_row_count_and_order_batched_and_unbatched():
    tagger = Tagger(provenance=RULES, first_seen_column="crawl_date", human_before=CUT)
    expected = tagger(tagged_table())
    for kwargs in ({"batched": True, "batch_size": 3}, {"batched": True}, {}):
        out = dataset().map(tagger, **kwargs)
        assert len(out) == len(SOURCES) and out["id"] == list(range(len(SOURCES)))
        assert out["sf_label"] == expected["sf_label"], kwargs
        assert out["sf_reason"] == expected["sf_reason"], kwargs
        np.testing.assert_array_equal(np.array(out["sf_score"], np.float32), expected["sf_score"])
    with pytest.raises(KeyError, match=r"'crawl_date' not found; columns present"):
        dataset().remove_columns("crawl_date").map(tagger, batched=True)


def test_map_reads_typed_date_columns():
    ds = dataset().cast_column("crawl_date", datasets.Value("string"))
    stamps = [None if not d else dt.datetime.fromisoformat(d.replace("Z", "+00:00")) for d in DATES]
    stamps = [None if s is None else (s if s.tzinfo else s.replace(tzinfo=UTC)) for s in stamps]
    typed = ds.remove_columns("crawl_date").add_column(
        "crawl_date", pa.array(stamps, pa.timestamp("us", tz="Europe/Paris")))
    assert typed.features["crawl_date"] == datasets.Value("timestamp[us, tz=Europe/Paris]")
    tagger = Tagger(provenance=RULES, first_seen_column="crawl_date", human_before=CUT)
    a = typed.map(tagger, batched=True, batch_size=4)
    b = ds.map(tagger, batched=True)
    c = typed.map(tagger)
    assert a["sf_reason"] == b["sf_reason"] == c["sf_reason"]
    assert a["sf_reason"].count(DATE_REASON) == 1


def test_num_proc_two_matches_single_process():
    ds = datasets.concatenate_datasets([dataset()] * 3)
    tagger = Tagger(provenance=RULES, first_seen_column="crawl_date", human_before=CUT)
    one = ds.map(tagger, batched=True, batch_size=7)
    two = ds.map(tagger, batched=True, batch_size=4, num_proc=2)
    assert two["id"] == one["id"] == list(range(len(SOURCES))) * 3
    assert one["sf_label"] == two["sf_label"] and one["sf_reason"] == two["sf_reason"]
    np.testing.assert_array_equal(np.array(one["sf_score"]), np.array(two["sf_score"]))


def test_fingerprint_is_deterministic_and_follows_the_rules(tmp_path):
    def make(**kw):
        return Tagger(provenance={"column": "source", "human": ["b", "a"]}, first_seen_column="crawl_date",
                      human_before=kw.get("human_before", CUT))

    tagger = make()
    assert Hasher.hash(tagger) == Hasher.hash(Tagger(provenance={"column": "source", "human": ["a", "b", "a"]},
                                                     first_seen_column="crawl_date", human_before="2022-11-30"))
    assert Hasher.hash(tagger) != Hasher.hash(make(human_before="2022-11-29"))
    assert Hasher.hash(tagger) != Hasher.hash(Tagger())
    clone = pickle.loads(pickle.dumps(tagger))
    assert clone.provenance == tagger.provenance and Hasher.hash(clone) == Hasher.hash(tagger)

    dataset().save_to_disk(str(tmp_path / "ds"))
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    first = ds.map(make(), batched=True)
    fresh = make()
    second = ds.map(fresh, batched=True)
    assert second._fingerprint == first._fingerprint and second.cache_files == first.cache_files
    assert not is_loaded(fresh, "loaded_detector"), "the transform ran again instead of loading the cached result"
    assert ds.map(make(human_before="2020-01-01"), batched=True)._fingerprint != first._fingerprint


# --------------------------------------------------------------------------- property
class Stub(BaseDetector):
    """Scores ``<words> <n>`` as n / 1000, so a score shows which row it belongs to."""

    name = "stub"

    def __init__(self):
        self.seen = []
        self.threshold_, self.version_, self.languages_ = 0.5, "1", ("en",)

    def score_texts(self, texts):
        self.seen.extend(texts)
        return np.array([int(t.rsplit(" ", 1)[1]) / 1000 for t in texts])


MIDNIGHT = dt.time(0)
labels_ = st.sampled_from(["a", "b", "c", "7"])
instants = st.datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2030, 12, 31))
offsets = st.sampled_from([-480, -300, 0, 330, 540])


def iso(instant: dt.datetime, minutes: int | None) -> str:
    if minutes is None:
        return instant.isoformat(sep=" ")
    return instant.replace(tzinfo=UTC).astimezone(dt.timezone(dt.timedelta(minutes=minutes))).isoformat()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.one_of(st.none(), labels_), st.one_of(st.none(), instants),
                            st.one_of(st.none(), offsets)), max_size=25),
    human=st.sets(labels_), synthetic=st.sets(labels_), use_column=st.booleans(),
    cut=st.one_of(st.none(), st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2026, 1, 1))),
    form=st.sampled_from(["date32", "timestamp", "timestamp_tz", "iso"]),
)
def test_property_rows_are_decided_iff_listed_or_dated_before_the_cut(rows, human, synthetic, use_column, cut, form):
    synthetic -= human
    if not use_column or not (human or synthetic):
        human = synthetic = set()
    if not (human or synthetic) and cut is None:
        cut = dt.date(2015, 1, 1)
    rule = Provenance.build({"column": "src", "human": human, "synthetic": synthetic} if human or synthetic else None,
                            first_seen_column=None if cut is None else "seen", human_before=cut)
    values = [v for v, _, _ in rows]
    if form == "date32":
        seen = pa.array([None if t is None else t.date() for _, t, _ in rows], pa.date32())
    elif form == "timestamp":
        seen = pa.array([t for _, t, _ in rows], pa.timestamp("us"))
    elif form == "timestamp_tz":
        seen = pa.array([None if t is None else t.replace(tzinfo=UTC) for _, t, _ in rows],
                        pa.timestamp("us", tz="America/New_York"))
    else:
        seen = pa.array([None if t is None else iso(t, m) for _, t, m in rows], pa.string())
    texts = [f"the quick brown fox jumps over the lazy dog {i}" for i in range(len(rows))]
    table = pa.table({"text": pa.array(texts, pa.string()), "src": pa.array(values, pa.string()), "seen": seen})

    d = rule.decide(table)
    expected_classes, expected_reasons = [], []
    for value, instant, _ in rows:
        if value in human or value in synthetic:
            expected_classes.append(HUMAN if value in human else SYNTHETIC)
            expected_reasons.append(f"provenance:src={value}")
        elif cut is not None and instant is not None and (
                instant.date() < cut if form == "date32" else instant < dt.datetime.combine(cut, MIDNIGHT)):
            expected_classes.append(HUMAN)
            expected_reasons.append(f"provenance:seen<{cut.isoformat()}")
        else:
            expected_classes.append(UNDECIDED)
            expected_reasons.append("")
    assert d.classes.tolist() == expected_classes
    assert d.reasons.tolist() == expected_reasons
    assert sum(d.counts().values()) == len(rows)
    assert isinstance(d, Decision) and len(d) == len(rows)

    stub = Stub()
    out = Tagger(detector=stub, provenance=rule, languages=())(table.to_pydict())
    assert len(out["sf_label"]) == len(out["sf_score"]) == len(out["sf_reason"]) == len(rows)
    assert stub.seen == texts, "every row is scored, decided or not"
    for i, c in enumerate(expected_classes):
        assert out["sf_score"][i] == np.float32(i / 1000)
        if c == UNDECIDED:
            assert out["sf_reason"][i] == "" and out["sf_label"][i] == ("synthetic" if i / 1000 >= 0.5 else "human")
        else:  # the rule's class whatever the score says
            assert out["sf_reason"][i] == expected_reasons[i]
            assert out["sf_label"][i] == ("human" if c == HUMAN else "synthetic")
