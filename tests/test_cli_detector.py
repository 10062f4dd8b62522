"""``synthfilter calibrate`` and ``synthfilter detector fit | list``."""

import json

import datasets
import numpy as np
import pytest

import synthfilter as sf
from synthfilter.cli import build_parser, main
from synthfilter.detect.calibration import threshold_for_fpr
from synthfilter.detect.fit import HELD_OUT
from synthfilter.detect.corpus import text_key
from synthfilter.hashing import hash64
from synthfilter.reservoir import Reservoir

from .conftest import make_texts


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def labelled():
    """100 human and 100 AI texts with string labels (distinct texts: hash of the text picks the held-out rows)."""
    human, ai = make_texts(100, "human", seed=11), make_texts(100, "ai", seed=11)
    return [{"text": t, "label": "human"} for t in human] + [{"text": t, "label": "ai"} for t in ai]


@pytest.fixture(scope="module")
def human_ref():
    return make_texts(200, "human", seed=12)


def _held(texts, seed=0):
    return np.array([hash64(seed, text_key(t)) / 2.0**64 < HELD_OUT for t in texts])


# ----------------------------------------------------------------------------- detector fit
def test_fit_writes_a_detector_whose_threshold_comes_from_the_held_out_humans(tmp_path, labelled, capsys):
    rows = [{"text": r["text"], "y": int(r["label"] == "ai")} for r in labelled]  # 0/1 labels
    data, out = _jsonl(tmp_path / "data.jsonl", rows), tmp_path / "det.npz"
    assert main(["detector", "fit", str(data), "--out", str(out), "--label-column", "y", "--target-fpr", "0.1"]) == 0
    printed = capsys.readouterr().out
    det = sf.load_detector(str(out))
    assert det.tag == "fast@custom" and det.classes_.tolist() == ["human", "synthetic"]
    texts, y = [r["text"] for r in rows], np.array([r["y"] for r in rows])
    held = _held(texts)
    assert 0 < held.sum() < len(rows)
    assert f"held out {held.sum()} rows ({(held & (y == 0)).sum()} human, {(held & (y == 1)).sum()} AI)" in printed
    held_human = det.score_texts([t for t, h, v in zip(texts, held, y) if h and v == 0])
    assert len(held_human) >= 10  # 1 / 0.1: enough for the held-out basis
    assert det.threshold_ == threshold_for_fpr(held_human, 0.1)
    assert (held_human >= det.threshold_).mean() <= 0.1
    assert "note:" not in printed
    auroc = float(printed.split("held-out AUROC: ")[1].split()[0])
    assert auroc > 0.9
    assert det.info_["threshold_from"] == "held-out" and det.info_["n_heldout"] == held.sum()


def test_fit_with_too_few_held_out_humans_calibrates_on_every_human_row_and_says_so(tmp_path, labelled, capsys):
    data, out = _jsonl(tmp_path / "data.jsonl", labelled), tmp_path / "det.npz"
    assert main(["detector", "fit", str(data), "--out", str(out)]) == 0  # --target-fpr 0.01 needs 100 humans
    printed = capsys.readouterr().out
    assert "note:" in printed and "threshold comes from all 100 human rows" in printed
    det = sf.load_detector(str(out))
    humans = det.score_texts([r["text"] for r in labelled if r["label"] == "human"])
    assert det.threshold_ == threshold_for_fpr(humans, 0.01)
    assert det.info_["threshold_from"] == "all-human"


def test_fit_holds_out_whole_groups(tmp_path, labelled, capsys):
    rows = [{**r, "doc": f"g{i % 12}"} for i, r in enumerate(labelled)]
    data = _jsonl(tmp_path / "data.jsonl", rows)
    assert main(["detector", "fit", str(data), "--out", str(tmp_path / "d.npz"), "--group-column", "doc",
                 "--target-fpr", "0.05"]) == 0
    held_groups = {g for g in {r["doc"] for r in rows} if hash64(0, g) / 2.0**64 < HELD_OUT}
    n_held = sum(r["doc"] in held_groups for r in rows)
    assert held_groups and f"held out {n_held} rows" in capsys.readouterr().out


def test_fit_refuses_to_overwrite_and_force_overwrites(tmp_path, labelled, capsys):
    data, out = _jsonl(tmp_path / "data.jsonl", labelled), tmp_path / "det.npz"
    out.write_bytes(b"keep me")
    assert main(["detector", "fit", str(data), "--out", str(out)]) == 2
    assert f"--out {out} exists; pass --force to overwrite it" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(["detector", "fit", str(data), "--out", str(out), "--force"]) == 0
    assert sf.load_detector(str(out)).tag == "fast@custom"


@pytest.mark.parametrize("change, args, message", [
    (None, ["--label-column", "y"], "--label-column y: no such column in"),
    (None, ["--text-column", "body"], "--text-column body: no such column in"),
    (None, ["--group-column", "doc"], "--group-column doc: no such column in"),
    ((3, "label", "maybe"), [], "--label-column label: row(s) 3 ('maybe') of"),
    ((4, "label", None), [], "--label-column label: row(s) 4 (None) of"),
    ((5, "text", None), [], "--text-column text of"),
    ("one-class", [], "holds only human rows; fitting needs both classes"),
    (None, ["--target-fpr", "1.5"], "--target-fpr must be a share in (0, 1)"),
    (None, ["--detector", "nope"], "--detector nope: fit needs a detector kind"),
    (None, ["--target-fpr", "0.001"], "--target-fpr 0.001 needs at least 1000 human rows"),
])
def test_fit_errors_name_the_option(tmp_path, labelled, capsys, change, args, message):
    rows = [dict(r) for r in labelled]
    if change == "one-class":
        rows = [r for r in rows if r["label"] == "human"]
    elif change:
        i, key, value = change
        rows[i][key] = value
    data = _jsonl(tmp_path / "data.jsonl", rows)
    assert main(["detector", "fit", str(data), "--out", str(tmp_path / "d.npz"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not (tmp_path / "d.npz").exists()


def test_fit_rejects_an_out_path_that_is_no_npz(tmp_path, labelled, capsys):
    data = _jsonl(tmp_path / "data.jsonl", labelled)
    assert main(["detector", "fit", str(data), "--out", str(tmp_path / "det.bin")]) == 2
    assert "--out must name a .npz file" in capsys.readouterr().err


def test_unscorable_rows_are_named_with_their_reason(tmp_path, labelled, capsys):
    rows = [dict(r) for r in labelled]
    rows[5]["text"], rows[9]["text"] = None, "   "
    data = _jsonl(tmp_path / "data.jsonl", rows)
    assert main(["detector", "fit", str(data), "--out", str(tmp_path / "d.npz")]) == 2
    assert "row(s) 5 (not_text), 9 (empty) cannot be scored" in capsys.readouterr().err


def test_a_fitted_detector_tags_from_the_command_line(tmp_path, labelled, capsys):
    data, out = _jsonl(tmp_path / "data.jsonl", labelled), tmp_path / "det.npz"
    assert main(["detector", "fit", str(data), "--out", str(out), "--target-fpr", "0.05"]) == 0
    tagged = tmp_path / "tagged.jsonl"
    assert main(["tag", str(data), str(tagged), "--detector", str(out)]) == 0
    rows = [json.loads(line) for line in tagged.read_text().splitlines()]
    assert {r["sf_detector"] for r in rows} == {"fast@custom"}
    hit = np.mean([r["sf_label"] == ("synthetic" if r["label"] == "ai" else "human") for r in rows])
    assert hit > 0.9


# ----------------------------------------------------------------------------- calibrate
def test_calibrate_sets_the_threshold_for_the_target_rate_and_saves(tmp_path, human_ref, capsys):
    ref, out = _jsonl(tmp_path / "ref.jsonl", [{"body": t} for t in human_ref]), tmp_path / "cal.npz"
    assert main(["calibrate", str(ref), "--target-fpr", "0.01", "--out", str(out), "--text-column", "body"]) == 0
    printed = capsys.readouterr().out
    shipped, det = sf.load_detector("fast"), sf.load_detector(str(out))
    scores = shipped.score_texts(human_ref)
    assert det.threshold_ == threshold_for_fpr(scores, 0.01)
    assert det.threshold_ < shipped.threshold_  # these human texts score low: the threshold comes down
    assert f"threshold {shipped.threshold_:.6g} -> {det.threshold_:.6g}" in printed
    flagged = int((scores >= det.threshold_).sum())
    assert flagged <= 2 and f"false-positive rate on the reference: {100 * flagged / 200:.2f}% ({flagged} of 200" in printed
    assert det.info_["calibrated"]["target_fpr"] == 0.01 and det.tag == shipped.tag


def test_calibrate_raises_the_threshold_on_human_text_that_scores_high(tmp_path, capsys):
    high = make_texts(200, "ai", seed=2)  # "human" reference the starting detector flags more than 1% of
    ref, out = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in high]), tmp_path / "cal.npz"
    start = sf.load_detector("fast")
    start.threshold_ = 0.5
    start.save(tmp_path / "start.npz")
    assert (start.score_texts(high) >= start.threshold_).mean() > 0.01
    assert main(["calibrate", str(ref), "--target-fpr", "0.01", "--detector", str(tmp_path / "start.npz"),
                 "--out", str(out)]) == 0
    assert sf.load_detector(str(out)).threshold_ > start.threshold_


def test_a_larger_target_rate_gives_a_lower_threshold(tmp_path, human_ref, capsys):
    ref = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in human_ref])
    for fpr in ("0.01", "0.2"):
        assert main(["calibrate", str(ref), "--target-fpr", fpr, "--out", str(tmp_path / f"{fpr}.npz")]) == 0
    strict, loose = (sf.load_detector(str(tmp_path / f"{f}.npz")) for f in ("0.01", "0.2"))
    assert loose.threshold_ < strict.threshold_
    assert "false-positive rate on the reference: 20.00% (40 of 200" in capsys.readouterr().out


def test_calibrate_reads_a_reservoir_folder_and_a_saved_detector(tmp_path, human_ref, labelled, capsys):
    src = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in human_ref])
    res = tmp_path / "res"
    Reservoir(res).add(str(src), source="generated", licence="CC0", collected="2020-01-01")
    data, fitted = _jsonl(tmp_path / "data.jsonl", labelled), tmp_path / "fitted.npz"
    assert main(["detector", "fit", str(data), "--out", str(fitted), "--target-fpr", "0.05"]) == 0
    out = tmp_path / "cal.npz"
    assert main(["calibrate", str(res), "--detector", str(fitted), "--target-fpr", "0.05", "--out", str(out)]) == 0
    assert f"of reservoir {res}" in capsys.readouterr().out
    det = sf.load_detector(str(out))
    assert det.tag == "fast@custom"
    assert det.threshold_ == threshold_for_fpr(sf.load_detector(str(fitted)).score_texts(human_ref), 0.05)


def test_calibrate_refuses_to_overwrite_unless_forced(tmp_path, human_ref, capsys):
    ref, out = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in human_ref]), tmp_path / "cal.npz"
    out.write_bytes(b"old")
    assert main(["calibrate", str(ref), "--target-fpr", "0.01", "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err and out.read_bytes() == b"old"
    assert main(["calibrate", str(ref), "--target-fpr", "0.01", "--out", str(out), "--force"]) == 0
    assert sf.load_detector(str(out)).threshold_ < 0.898


@pytest.mark.parametrize("rows, args, message", [
    (50, [], "50 texts cannot resolve --target-fpr 0.01; give at least 100 or raise --target-fpr"),
    (200, ["--target-fpr", "0"], "--target-fpr must be a share in (0, 1)"),
    (200, ["--text-column", "body"], "--text-column body: no such column in"),
    (200, ["--detector", "nope"], "--detector 'nope' is neither a known detector"),
    ("bad", [], "(--text-column text): row(s) 7 (not_text) cannot be scored"),
])
def test_calibrate_errors_name_the_option(tmp_path, human_ref, capsys, rows, args, message):
    texts = human_ref[:50] if rows == 50 else list(human_ref)
    if rows == "bad":
        texts[7] = None
    ref = _jsonl(tmp_path / "ref.jsonl", [{"text": t} for t in texts])
    fpr = [] if "--target-fpr" in args else ["--target-fpr", "0.01"]
    assert main(["calibrate", str(ref), "--out", str(tmp_path / "c.npz"), *fpr, *args]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "error:" in x)  # progress bars may come first
    assert line.startswith("synthfilter calibrate: error: ") and message in line, err
    assert not (tmp_path / "c.npz").exists()


def test_calibrate_will_not_write_into_the_reference_folder(tmp_path, human_ref, capsys):
    folder = tmp_path / "ref"
    folder.mkdir()
    _jsonl(folder / "a.jsonl", [{"text": t} for t in human_ref])
    assert main(["calibrate", str(folder), "--target-fpr", "0.01", "--out", str(folder / "c.npz")]) == 2
    assert "inside the input folder" in capsys.readouterr().err


def test_calibrate_needs_the_target_rate_and_the_output(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["calibrate", "ref.jsonl", "--out", "x.npz"])
    assert "--target-fpr" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["calibrate", "ref.jsonl", "--target-fpr", "0.01"])
    assert "--out" in capsys.readouterr().err


# ----------------------------------------------------------------------------- list
def test_detector_list_names_every_detector_with_version_and_languages(capsys):
    assert main(["detector", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in sf.available_detectors():
        row = next(line for line in lines if line.split()[0] == name)
        det = sf.load_detector(name)
        assert row.split()[1:3] == [det.version, ",".join(sorted(det.declared_languages))], row
    assert next(line for line in lines if line.split()[0] == "accurate").split()[2] == "ar,en"
    assert next(line for line in lines if line.split()[0] == "fast").split()[1] == "2"  # the transferred threshold


def test_fit_defaults_parse():
    args = build_parser().parse_args(["detector", "fit", "d.jsonl", "--out", "x.npz"])
    assert (args.detector, args.text_column, args.label_column, args.target_fpr, args.group_column, args.force) == (
        "fast", "text", "label", 0.01, None, False)


def test_fit_reads_a_saved_datasets_folder_with_boolean_labels(tmp_path, labelled, capsys):
    folder = tmp_path / "saved"
    datasets.Dataset.from_dict({"text": [r["text"] for r in labelled],
                                "is_ai": [r["label"] == "ai" for r in labelled]}).save_to_disk(str(folder))
    out = tmp_path / "d.npz"
    assert main(["detector", "fit", str(folder), "--out", str(out), "--label-column", "is_ai",
                 "--target-fpr", "0.05"]) == 0
    assert sf.load_detector(str(out)).classes_.tolist() == ["human", "synthetic"]
