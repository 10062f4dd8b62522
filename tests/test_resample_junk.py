"""Tail resampling never boosts junk: unknown, very short and boiler-plate rows are never
up-weighted, ``max_copies`` caps repeats, and the report shows the junk share before and after."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthfilter as sf
from synthfilter.diversity.junk import junk_rows
from synthfilter.diversity.resample import ResampleConfig

datasets.disable_progress_bars()
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]

TOPICS = {"ocean": "sea wave tide coral reef fish boat harbour salt current shore",
          "forest": "tree leaf moss fern oak pine bark root trail canopy deer",
          "city": "street tram office tower market crowd bridge traffic cafe square",
          "kitchen": "bread flour oven knife onion garlic butter pepper soup spoon",
          "stars": "nebula quasar pulsar comet orbit galaxy telescope photon redshift"}
TEMPLATES = ["Accept all cookies to continue browsing, page {n}",
             "Click HERE to subscribe to our newsletter #{n}!",
             "Home | About us | Contact | Privacy policy | {n}"]
SHORT = ["n/a", "ok", "?!", "", "see above", "tbd", "null value", "xx"]


def corpus(n: int = 1500, sizes=(0.45, 0.25, 0.15, 0.06, 0.01), boiler: float = 0.05, unknown: float = 0.03,
           seed: int = 0, dim: int = 8) -> datasets.Dataset:
    """Real-looking topic clusters of varied sizes (the last one rare), ``boiler`` boiler-plate rows
    from three templates and ``unknown`` unscorable rows, each junk kind in its own small odd cluster."""
    rng = np.random.default_rng(seed)
    n_b, n_u = int(round(n * boiler)), int(round(n * unknown))
    n_real = n - n_b - n_u
    counts = np.floor(np.array(sizes) / sum(sizes) * n_real).astype(int)
    counts[0] += n_real - counts.sum()
    centres = rng.normal(0, 6, (len(TOPICS) + len(TEMPLATES) + 1, dim))
    text, group, X = [], [], []
    for t, ((name, vocab), count) in enumerate(zip(TOPICS.items(), counts)):
        words = vocab.split()
        for i in range(count):
            text.append(f"{name} {i}: " + " ".join(rng.choice(words, int(rng.integers(6, 15)))) + ".")
            group.append(name)
            X.append(centres[t] + rng.normal(0, 1, dim))
    for i in range(n_b):
        j = i % len(TEMPLATES)
        text.append(TEMPLATES[j].format(n=int(rng.integers(1, 999))))
        group.append(f"template{j}")
        X.append(centres[len(TOPICS) + j] + rng.normal(0, 0.1, dim))
    for i in range(n_u):
        text.append(SHORT[i % len(SHORT)] + ("" if i < len(SHORT) else f" {i}"))
        group.append("unknown")
        X.append(centres[-1] + rng.normal(0, 0.3, dim))
    labels = ["unknown" if g == "unknown" else ("human" if rng.random() < 0.6 else "synthetic") for g in group]
    perm = rng.permutation(n)
    return datasets.Dataset.from_dict({
        "id": list(range(n)), "text": [text[i] for i in perm], "sf_label": [labels[i] for i in perm],
        "group": [group[i] for i in perm], "sf_embedding": np.asarray(X, np.float32)[perm].tolist()})


# --------------------------------------------------------------------------- an independent oracle
def _words(text: str | None) -> int:
    if text is None:
        return 0
    cjk = sum(1 for c in text if unicodedata.name(c, "").split(" ")[0] in ("CJK", "HIRAGANA", "KATAKANA"))
    return sum(1 for tok in text.split() if any(c.isalpha() for c in tok)) + cjk


def _template(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"\d+", "0", t)
    t = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in t)
    return " ".join(t.split())


def oracle(ds: datasets.Dataset, min_words: int = 5, repeats: int = 3) -> dict[str, np.ndarray]:
    texts = ds["text"]
    keys = Counter(_template(t) for t in texts if t is not None)
    kinds = {"unknown": np.array([lab == "unknown" for lab in ds["sf_label"]]),
             "short": np.array([_words(t) < min_words for t in texts]),
             "boilerplate": np.array([t is not None and keys[_template(t)] >= repeats for t in texts])}
    kinds["junk"] = kinds["unknown"] | kinds["short"] | kinds["boilerplate"]
    return kinds


def _positions(out: datasets.Dataset) -> np.ndarray:
    return np.asarray(out["id"])  # ids are the row positions of ``corpus``


# --------------------------------------------------------------------------- the case
@pytest.fixture(scope="module")
def data() -> datasets.Dataset:
    return corpus()


def test_junk_is_not_up_weighted_and_the_rare_cluster_still_is(data):
    size = 300
    on, rep_on = sf.resample_tails(data, size, id_column="id", return_report=True)
    off, rep_off = sf.resample_tails(data, size, id_column="id", junk=False, return_report=True)
    kinds = oracle(data)
    share_before = kinds["junk"].mean()
    assert 0.07 <= share_before <= 0.09
    # the failure the issue measured: plain balancing multiplies the junk share
    assert kinds["junk"][_positions(off)].mean() > 3 * share_before
    # with the rule: never above its input share
    assert kinds["junk"][_positions(on)].mean() <= share_before
    for kind in ("unknown", "boilerplate"):
        assert kinds[kind][_positions(on)].mean() <= kinds[kind].mean()
    rare_before = data["group"].count("stars") / data.num_rows
    assert on["group"].count("stars") / size >= 4 * rare_before, "the rare real cluster is still up-weighted"
    assert on.num_rows == size and len(set(on["id"])) == size
    assert rep_on.junk_share_after <= rep_on.junk_share_before < rep_off.junk_share_after


def test_report_fields_match_an_independent_count(data):
    size = 500
    out, rep = sf.resample_tails(data, size, id_column="id", return_report=True)
    kinds = oracle(data)
    pos = _positions(out)
    assert rep.junk_rule is True and rep.junk_kinds == ("unknown", "short", "boilerplate")
    assert rep.junk_before == {k: int(kinds[k].sum()) for k in ("junk", "unknown", "short", "boilerplate")}
    assert rep.junk_after == {k: int(kinds[k][pos].sum()) for k in ("junk", "unknown", "short", "boilerplate")}
    assert rep.junk_share_before == pytest.approx(kinds["junk"].mean())
    assert rep.junk_share_after == pytest.approx(kinds["junk"][pos].mean())
    d = rep.to_dict()
    assert d["junk_share_before"] == round(kinds["junk"].mean(), 6)
    assert d["junk_kind_share_after"]["boilerplate"] == round(kinds["boilerplate"][pos].mean(), 6)
    assert d["max_copies"] == 1 and d["max_copies_used"] == 1
    assert "junk (not up-weighted)" in str(rep) and "copies of one row: at most 1 (cap 1)" in str(rep)
    _, off = sf.resample_tails(data, size, id_column="id", junk=False, return_report=True)
    assert off.junk_rule is False and "junk (rule off)" in str(off)
    assert off.junk_before == rep.junk_before, "measured with the rule off too"
    # no text and no label column: nothing to check, nothing reported
    _, bare = sf.resample_tails(data.remove_columns(["text", "sf_label"]), size, id_column="id", return_report=True)
    assert bare.junk_kinds == () and bare.junk_before == {} and bare.junk_share_after == 0.0


def test_switching_the_rule_off_restores_the_plain_balancing(data):
    size = 400
    plain = sf.resample_tails(data.remove_columns(["text", "sf_label"]), size, id_column="id")["id"]
    assert sf.resample_tails(data, size, id_column="id", junk=False)["id"] == plain
    assert sf.resample_tails(data, size, id_column="id", min_words=0, boilerplate_min_repeats=0,
                             label_column=None)["id"] == plain
    assert sf.resample_tails(data, size, id_column="id")["id"] != plain


def test_each_kind_alone_is_held_to_its_share(data):
    size = 400
    kinds = oracle(data)
    only = {"unknown": dict(min_words=0, boilerplate_min_repeats=0),
            "short": dict(label_column=None, boilerplate_min_repeats=0),
            "boilerplate": dict(label_column=None, min_words=0)}
    for kind, kw in only.items():
        out, rep = sf.resample_tails(data, size, id_column="id", return_report=True, **kw)
        assert rep.junk_kinds == (kind,)
        assert kinds[kind][_positions(out)].sum() <= size * kinds[kind].mean()


# --------------------------------------------------------------------------- max_copies
def test_max_copies_one_never_repeats_and_three_caps_at_three(data):
    n = data.num_rows
    out = sf.resample_tails(data, n, id_column="id")
    assert sorted(out["id"]) == list(range(n)), "size = rows with max_copies=1: every row once"
    with pytest.raises(ValueError, match="max_copies=2 or more"):
        sf.resample_tails(data, n + 1, id_column="id")
    up, rep = sf.resample_tails(data, 2 * n, id_column="id", max_copies=3, return_report=True)
    counts = Counter(up["id"])
    assert up.num_rows == 2 * n and max(counts.values()) == 3 == rep.max_copies_used and rep.max_copies == 3
    assert up["id"] == sorted(up["id"]), "original order, copies adjacent"
    kinds = oracle(data)
    junk_ids = set(np.flatnonzero(kinds["junk"]).tolist())
    # junk gets at most its proportional share: 2 copies a row on average, never 3
    assert max(counts[i] for i in junk_ids) <= 2
    assert sum(counts[i] for i in junk_ids) <= 2 * len(junk_ids)
    # the rare cluster is repeated to fill its share
    stars = [i for i, g in zip(data["id"], data["group"]) if g == "stars"]
    assert all(counts[i] == 3 for i in stars)
    with pytest.raises(ValueError, match="x3"):
        sf.resample_tails(data, 3 * n + 1, id_column="id", max_copies=3)
    full = sf.resample_tails(data, 3 * n, id_column="id", max_copies=3)
    assert Counter(full["id"]) == Counter({i: 3 for i in range(n)}), "junk fills in when nothing else is left"


def test_junk_is_not_repeated_to_make_room_when_size_fits(data):
    n = data.num_rows
    out = sf.resample_tails(data, n, id_column="id", max_copies=3)
    counts = Counter(out["id"])
    assert max(counts.values()) == 3
    junk = oracle(data)["junk"]
    assert all(counts.get(i, 0) <= 1 for i in np.flatnonzero(junk))
    off = Counter(sf.resample_tails(data, n, id_column="id", max_copies=3, junk=False)["id"])
    assert max(off.get(i, 0) for i in np.flatnonzero(junk)) == 3, "without the rule junk is repeated"


def test_replace_and_max_repeats_map_onto_max_copies(data):
    sub = data.select(range(600))
    old = sf.resample_tails(sub, 900, id_column="id", replace=True, max_repeats=3)["id"]
    assert sf.resample_tails(sub, 900, id_column="id", max_copies=3)["id"] == old
    assert sf.resample_tails(sub, 900, id_column="id", max_copies=3, replace=True, max_repeats=3)["id"] == old
    assert ResampleConfig(replace=True).copies == 4 and ResampleConfig().copies == 1
    assert ResampleConfig(max_repeats=4).copies == 1, "max_repeats alone, as before, allows no repeats"
    with pytest.raises(ValueError, match="pass one"):
        ResampleConfig(replace=True, max_repeats=2, max_copies=3)
    with pytest.raises(ValueError, match="max_copies=1 forbids"):
        ResampleConfig(replace=True, max_copies=1)
    for bad in (dict(max_copies=0), dict(min_words=-1), dict(boilerplate_min_repeats=1), dict(max_copies=True)):
        with pytest.raises(ValueError):
            ResampleConfig(**bad)


# --------------------------------------------------------------------------- categories, batching
def test_by_category_leaves_junk_alone_unless_asked(data):
    size = 300
    plain = sf.resample_tails(data, size, by="group", id_column="id")
    bare = sf.resample_tails(data.remove_columns(["text", "sf_label"]), size, by="group", id_column="id")
    assert plain["id"] == bare["id"], "with by=, the rule is off by default"
    whole = data["group"].count("template0")
    assert plain["group"].count("template0") == whole, "a small template category is kept whole"
    ruled = sf.resample_tails(data, size, by="group", id_column="id", junk=True)
    assert ruled.num_rows == size
    assert ruled["group"].count("template0") <= size * whole / data.num_rows
    assert ruled["group"].count("stars") == data["group"].count("stars"), "the rare real category is kept whole"


def test_same_selection_for_embeddings_from_any_batch_size():
    ds = corpus(400, seed=3).remove_columns("sf_embedding")
    emb = sf.Embedder(model="hashing")
    feats = emb.output_features(ds.features)
    a = ds.map(emb, batched=True, batch_size=ds.num_rows, features=feats)
    b = ds.map(emb, batched=True, batch_size=7, features=feats)
    kw = dict(id_column="id", invalid="drop", seed=2, n_clusters=(8, 2))
    out_a, rep = sf.resample_tails(a, 100, return_report=True, **kw)
    assert sf.resample_tails(b, 100, **kw)["id"] == out_a["id"]
    assert rep.junk_before["junk"] > 0 and rep.junk_share_after <= rep.junk_share_before


# --------------------------------------------------------------------------- properties
@settings(max_examples=15, deadline=None, suppress_health_check=SLOW)
@given(st.integers(40, 160), st.floats(0.0, 0.3), st.floats(0.0, 0.2), st.integers(1, 3), st.data(),
       st.sampled_from([None, 4, (6, 2)]), st.sampled_from(["isolation", "hash", "centroid"]), st.integers(0, 3))
def test_junk_share_never_rises_exact_size_capped_copies_row_order_free(n, boiler, unknown, copies, data, k,
                                                                       within, seed):
    ds = corpus(n, sizes=(0.5, 0.3, 0.15, 0.05), boiler=boiler, unknown=unknown, seed=seed)
    size = data.draw(st.integers(0, n * copies), label="size")
    kw = dict(id_column="id", n_clusters=k, within=within, seed=seed, max_copies=copies)
    out, rep = sf.resample_tails(ds, size, return_report=True, **kw)
    ids = out["id"]
    junk = oracle(ds)["junk"]
    assert len(ids) == size == out.num_rows
    assert ids == sorted(ids) and max(Counter(ids).values(), default=0) <= copies
    # never up-weighted: junk rows / size <= junk rows / rows, in exact integers
    assert int(junk[ids].sum()) * n <= int(junk.sum()) * size
    assert rep.junk_after["junk"] == int(junk[ids].sum()) and rep.max_copies_used == max(Counter(ids).values(), default=0)
    assert sf.resample_tails(ds, size, **kw)["id"] == ids, "deterministic"
    perm = np.random.default_rng(seed + 7).permutation(n)
    assert sorted(sf.resample_tails(ds.select(perm), size, **kw)["id"]) == ids, "independent of row order"


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(st.integers(60, 160), st.floats(0.02, 0.3), st.data(), st.integers(0, 3))
def test_junk_share_held_within_every_stratum(n, boiler, data, seed):
    ds = corpus(n, sizes=(0.5, 0.3, 0.2), boiler=boiler, unknown=0.05, seed=seed)
    src = ["h" if lab == "human" else "s" for lab in ds["sf_label"]]
    a = data.draw(st.integers(0, src.count("h")), label="h")
    b = data.draw(st.integers(0, src.count("s")), label="s")
    out = sf.resample_tails(ds, a + b, strata=src, stratum_sizes={"h": a, "s": b}, id_column="id", n_clusters=4,
                            seed=seed)
    ids = np.asarray(out["id"], dtype=np.int64)
    junk = oracle(ds)["junk"]
    for name, budget in (("h", a), ("s", b)):
        rows = np.array([s == name for s in src])
        got = ids[rows[ids]]
        assert len(got) == budget
        assert int(junk[got].sum()) * int(rows.sum()) <= int((junk & rows).sum()) * budget


# --------------------------------------------------------------------------- detection
def test_junk_detection_per_kind():
    texts = ["Accept all cookies to continue, page 1", "accept ALL cookies to continue page 22!",
             "Accept  all cookies to continue — page 333",
             "A real sentence with quite a few words in it.", "two words", None, "",
             "我喜欢在公园里散步。", "Привет, как у тебя дела сегодня утром?", "12 34 56 78 90 11"]
    labels = ["human", "unknown", "synthetic", "human", "human", "unknown", "unknown", "human", "human", None]
    ds = datasets.Dataset.from_dict({"text": texts, "sf_label": labels})
    j = junk_rows(ds)
    assert j.kinds["boilerplate"].tolist() == [True, True, True] + [False] * 7
    assert j.kinds["short"].tolist() == [False, False, False, False, True, True, True, False, False, True]
    assert j.kinds["unknown"].tolist() == [False, True, False, False, False, True, True, False, False, False]
    assert not j.mask[[3, 7, 8]].any()
    assert junk_rows(ds, min_words=0, boilerplate_min_repeats=0, label_column=None).kinds == {}
    assert junk_rows(ds, boilerplate_min_repeats=4).kinds["boilerplate"].sum() == 0
    rev = junk_rows(ds.select(list(range(9, -1, -1))))
    for kind, mask in j.kinds.items():
        assert rev.kinds[kind].tolist() == mask[::-1].tolist(), "a function of the row and the counts only"
