"""clean's OUT/report.html: self-contained, with every section, readable by a real browser when one is installed."""

import base64
import html
import re
import shutil
import subprocess

import pytest

from synthfilter.cli import main
from tests.test_clean import _write_dated_input, toy_detector  # noqa: F401  (toy_detector is a fixture)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def run(tmp_path_factory, toy_detector):
    tmp = tmp_path_factory.mktemp("html")
    src = _write_dated_input(tmp / "in.jsonl", n=600)
    out = tmp / "out"
    assert main(["clean", str(src), str(out), "--max-synthetic", "0.1", "--resample", "100", "--embedder",
                 "hashing", "--by", "domain", "--batch-size", "100", "--detector", toy_detector,
                 "--first-seen-column", "date", "--human-before", "2022-11-30", "--dedup-threshold", "0.99"]) == 0
    return out


def test_report_has_every_section_and_embedded_figures(run):
    page = (run / "report.html").read_text()
    for section in ("Synthetic share", "Scores", "Rows dropped, per step and reason", "Tail resampling", "Timings",
                    "Run"):
        assert f"<h2>{section}</h2>" in page, section
    assert "synthfilter clean " in page and "--max-synthetic 0.1" in page, "the exact command is shown"
    assert "near_duplicate" in page and "resample_cap" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 3  # per language, per group, clusters
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "http://" not in page and "https://" not in page, "self-contained: nothing fetched"
    text = html.unescape(page)
    assert "Before: labels say" in text and "the quota's output held to at most 10% by a certified cut" in text
    assert "Labels: sf_label threshold" in text and "own known-human rows" in text, "which threshold, and why"


def test_report_opens_in_a_headless_browser(run, tmp_path):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium) to open the report in")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          (run / "report.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "synthfilter clean report" in dom.stdout and dom.stdout.count("<img") >= 3
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,2000", (run / "report.html").as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
