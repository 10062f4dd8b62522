"""What every reliability probe shares: generated text, running the command line, comparing ``clean``'s folders
(the helpers that turn a command's outcome into a probe result are in :mod:`.base`)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from synthfilter.pipeline import STEPS as PIPELINE_STEPS

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
STEPS = tuple(step.name for step in PIPELINE_STEPS)
LOCK_NAME = ".synthfilter.lock"

# ----------------------------------------------------------------------------- generated text
_HUMANISH = ("ok so i think the bus was late again lol and my coffee got cold but whatever "
             "we went to the lake kids screamed water freezing honestly best day gutted lost "
             "penalties keeper saved two nobody expected fixed config tab three hours").split()
_AIISH = ("furthermore it is important to note that comprehensive innovative solutions foster "
          "seamless collaboration enhance productivity navigate complex challenges overall "
          "multifaceted landscape crucial pivotal ensure robust sustainable future").split()
DOMAINS = ("news", "forum", "chat", "wiki")


def make_text(rng: random.Random, kind: str) -> str:
    """One generated document: two styles with different vocabularies and punctuation."""
    vocab = _HUMANISH if kind == "human" else _AIISH
    sentences = []
    for _ in range(rng.randint(2, 5)):
        words = [rng.choice(vocab) for _ in range(rng.randint(4, 14))]
        end = rng.choice(["!", ".", "?", "..."]) if kind == "human" else "."
        sentences.append(" ".join(words).capitalize() + end)
    return " ".join(sentences)


UNSCORABLE = (None, "", "   \n\t", "Вчера вечером мы долго гуляли по старому парку и разговаривали о планах на лето.",
              "昨天下午我们去了公园散步，天气非常好，孩子们在草地上玩耍，我们一直聊到太阳落山才回家。")


def make_corpus(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(f"corpus:{seed}")
    out: list[dict[str, Any]] = []
    for i in range(rows):
        r = rng.random()
        if i > 20 and r < 0.05:
            text = out[rng.randrange(i)]["text"]  # exact duplicate
        elif i > 20 and r < 0.07:
            earlier = out[rng.randrange(i)]["text"] or "x"
            text = earlier + " " + rng.choice(_HUMANISH + _AIISH)  # near duplicate
        elif r < 0.08:
            text = UNSCORABLE[rng.randrange(len(UNSCORABLE))]
        else:
            text = make_text(rng, "ai" if rng.random() < 0.4 else "human")
        domain = None if rng.random() < 0.02 else DOMAINS[rng.randrange(len(DOMAINS))]
        out.append({"id": i, "text": text, "domain": domain})
    write_jsonl(path, out)


def fit_detector(path: Path, seed: int) -> None:
    sys.path.insert(0, str(REPO))
    from synthfilter.detect import FastDetector

    rng = random.Random(f"detector:{seed}")
    human = [make_text(rng, "human") for _ in range(300)]
    ai = [make_text(rng, "ai") for _ in range(300)]
    FastDetector().fit(human + ai, ["human"] * 300 + ["ai"] * 300).save(path)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Rows as JSON lines; a ``str`` row is written as it is (for hand-made lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ----------------------------------------------------------------------------- running the CLI
def env_for(cache: Path) -> dict[str, str]:
    return {**os.environ, "HF_DATASETS_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1", "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def cli(args: list[Any], cache: Path, timeout: float = 600, cwd: Path = REPO, prefix: list[str] = ()
        ) -> dict[str, Any]:
    """``python -m synthfilter ARGS`` (after ``prefix``, e.g. a command that switches user) with its own cache."""
    t0 = time.perf_counter()
    proc = subprocess.run([*prefix, sys.executable, "-m", "synthfilter", *map(str, args)], capture_output=True,
                          text=True, env=env_for(cache), cwd=cwd, timeout=timeout)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "seconds": round(time.perf_counter() - t0, 2)}


def error_line(stderr: str) -> str:
    """The command's own error message (``synthfilter <command>: error: ...``, wherever a progress bar left it on
    its line, with its continuation lines), else the last line."""
    found = list(re.finditer(r"synthfilter [\w ]+: error: ", stderr))
    if found:  # the message and its continuation lines, without progress bars
        lines = re.split(r"[\n\r]", stderr[found[-1].start():])
        return " ".join(ln.strip() for ln in lines if ln.strip() and not re.search(r"/s\]|\d+%\|", ln))[:800]
    lines = [ln for ln in re.split(r"[\n\r]", stderr) if ln.strip()]
    return (lines or [""])[-1][:800]


def group_pids(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def reap_group(pgid: int, grace: float = 2.0) -> int:
    """Wait ``grace`` seconds for processes left in the group to exit, then SIGKILL them; how many were killed."""
    deadline = time.monotonic() + grace
    while group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = group_pids(pgid)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(left)


# ----------------------------------------------------------------------------- clean: state and comparison
def progress_state(out: Path) -> str:
    """What the run was doing, from the files present: the step running, or a phase before/after the steps."""
    if not out.exists():
        return "start-up (no output folder yet)"
    steps = out / "steps"
    done = [s for n, s in enumerate(STEPS, 1) if (steps / f"{n}-{s}" / "_SUCCESS").exists()]
    if not (out / "manifest.json").exists() and not done:
        return "start-up (output folder created)"
    if len(done) < len(STEPS):
        n = len(done) + 1
        step = STEPS[n - 1]
        writing = (steps / f".tmp-{n}-{step}").exists()
        return f"{n}-{step}" + (" (writing its folder)" if writing else "")
    if not (out / "output.jsonl").exists():
        return "writing output.jsonl"
    if not (out / "report.json").exists():
        return "writing report.json"
    return "finished (all files written)"


def _without_run_specifics(value: Any, out: str) -> Any:
    """``value`` without timings (keys ``seconds``) and with the run folder's path written as ``OUT``."""
    if isinstance(value, dict):
        return {k: _without_run_specifics(v, out) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_run_specifics(v, out) for v in value]
    return value.replace(out, "OUT") if isinstance(value, str) else value


def normalised_report(path: Path) -> dict[str, Any] | None:
    """A run's ``report.json`` or ``manifest.json`` as two runs of the same command must agree on it: without
    timings, per-step ``resumed`` flags and the run folder's own path."""
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for step in report.get("steps", {}).values() if isinstance(report.get("steps"), dict) else ():
        step.pop("resumed", None)
    return _without_run_specifics(report, str(path.parent))


def step_checksums(out: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text() for p in sorted((out / "steps").glob("*/_CHECKSUMS.json"))}


def hidden_leftovers(out: Path) -> list[str]:
    """Hidden temporary files/folders left in the run folder and its steps folder."""
    found = []
    for folder in (out, out / "steps"):
        if folder.is_dir():
            found += [str(p.relative_to(out)) for p in sorted(folder.iterdir())
                      if p.name.startswith(".") and p.name != LOCK_NAME]
    return found


def compare_with_reference(out: Path, ref: Path) -> dict[str, Any]:
    got = (out / "output.jsonl").read_bytes() if (out / "output.jsonl").exists() else None
    want = (ref / "output.jsonl").read_bytes()
    same_output = got == want
    missing = Counter(want.splitlines()) - Counter((got or b"").splitlines())
    return {
        "output_identical": same_output,
        "report_identical": normalised_report(out / "report.json") == normalised_report(ref / "report.json"),
        "manifest_identical": (out / "manifest.json").exists()
        and normalised_report(out / "manifest.json") == normalised_report(ref / "manifest.json"),
        "lock_released": not (out / LOCK_NAME).exists(),
        "step_files_identical": step_checksums(out) == step_checksums(ref),
        "leftover_temporary": hidden_leftovers(out),
        "rows_missing_vs_reference": sum(missing.values()),
    }


def account_clean(report: dict[str, Any], rows_in: int) -> dict[str, Any]:
    """Rows in vs out of ``clean``, step by step, from its report: every difference must be a reported drop."""
    steps = report["steps"]
    unexplained: dict[str, int] = {}
    explained: dict[str, int] = {}

    def check(name: str, before: int, after: int, dropped: int) -> None:
        explained[name] = dropped
        if before - after - dropped:
            unexplained[name] = before - after - dropped

    check("tag", rows_in, steps["tag"]["rows_out"], 0)
    q = steps["quota"]
    check("quota", steps["tag"]["rows_out"], q["rows_out"], sum(q["dropped"].values()))
    check("embed", q["rows_out"], steps["embed"]["rows_out"], 0)
    d = steps["dedup"]
    again = d["quota_again"]
    check("dedup", steps["embed"]["rows_out"], again["rows_before"], 0 if d.get("skipped") else d["dropped"])
    check("dedup quota", again["rows_before"], d["rows_out"], sum(again["dropped"].values()))
    r = steps["resample"]
    # not selected by the resampling, or without a usable embedding (no text): both reported
    check("resample", d["rows_out"], r["rows_out"], r["rows_before"] - r["rows_after"] + r["invalid_dropped"])
    if r["rows_before"] + r["invalid_dropped"] != d["rows_out"] or r["rows_after"] != r["rows_out"]:
        unexplained["resample report"] = (abs(r["rows_before"] + r["invalid_dropped"] - d["rows_out"])
                                          + abs(r["rows_after"] - r["rows_out"]))
    return {"rows_in": rows_in, "rows_out": report["rows_out"], "rows_explained": sum(explained.values()),
            "explained_by_step": explained, "unexplained_by_step": unexplained,
            "rows_lost": sum(abs(v) for v in unexplained.values())}


class Setup:
    def __init__(self, work: Path, rows: int, seed: int) -> None:
        self.work, self.rows, self.seed = work, rows, seed
        self.input = work / "corpus" / "input.jsonl"
        self.detector = work / "detector.npz"
        self.ref = work / "reference"
        self.resample = max(1, rows // 4)
        self.args = ["--max-synthetic", "0.1", "--basis", "labels", "--resample", str(self.resample), "--embedder", "hashing",
                     "--detector", str(self.detector), "--by", "domain"]

    def command(self, out: Path) -> list[str]:
        return [sys.executable, "-m", "synthfilter", "clean", str(self.input), str(out), *self.args]


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60]


def _key(value: Any) -> Any:
    """Row ids compared as exact values (an int id read back as a float does not match)."""
    return (type(value).__name__, value)
