"""The reservoir as the anchor of the rest of the package: calibration, mixing back, resample reference."""

import datasets
import pytest

import synthfilter as sf


@pytest.fixture()
def reservoir(tmp_path):
    res = sf.Reservoir(tmp_path / "res")
    res.add([f"we walked the dog along the river on day {i} and it rained a bit" for i in range(120)],
            source="diary", licence="CC0")
    return res


def test_calibrate_reads_a_reservoir_like_its_texts(reservoir):
    a = sf.load_detector("fast").calibrate(reservoir, target_fpr=0.05)
    b = sf.load_detector("fast").calibrate(list(reservoir.texts()), target_fpr=0.05)
    assert a.threshold_ == b.threshold_
    assert a.threshold_ != sf.load_detector("fast").threshold_


def test_mix_takes_a_reservoir_as_the_human_side(reservoir):
    synthetic = datasets.Dataset.from_dict({"text": [f"generated sample {i}" for i in range(60)]})
    mixed = sf.mix(reservoir, synthetic, synthetic_fraction=0.25, size=80, seed=3)
    assert mixed.num_rows == 80
    assert mixed["sf_source"].count("synthetic") == 20
    human = {t for t, s in zip(mixed["text"], mixed["sf_source"]) if s == "human"}
    assert human <= set(reservoir.texts())
    assert sf.mix(reservoir, synthetic, synthetic_fraction=0.25, size=80, seed=3)["text"] == mixed["text"]
    with pytest.raises(ValueError, match="only the 'text' column"):
        sf.mix(reservoir, synthetic.add_column("x", [0] * 60), synthetic_fraction=0.25, size=80)


def test_resample_command_accepts_a_reservoir_reference(reservoir, tmp_path):
    from synthfilter.cli import main

    src = tmp_path / "in.jsonl"
    datasets.Dataset.from_dict({"text": [f"row {i} about {'cats' if i % 4 else 'tax law'}" for i in range(80)]}
                               ).to_json(str(src))
    out = tmp_path / "out.jsonl"
    assert main(["resample", str(src), str(out), "--size", "20", "--embedder", "hashing",
                 "--reference", str(reservoir.path)]) == 0
    assert len(out.read_text().splitlines()) == 20
