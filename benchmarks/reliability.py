"""Reliability probes: kill-and-resume, corrupted step files and hostile inputs.

    python benchmarks/reliability.py [--kills 20] [--seed 0] [--rows 4000] [--work DIR] [--skip kills,...]

Every command runs as ``python -m synthfilter ...`` in a subprocess, with its own
Hugging Face datasets cache (a killed run and its resumption share one, as they
would for a user). The input is generated (deterministic for ``--seed``): ``--rows``
JSON lines with ``id``, ``text`` (human-like and AI-like English in the style of
tests/conftest.py, 5% exact and 2% near duplicates, 1% unscorable texts: None, empty,
white space, Russian, Chinese) and ``domain`` (2% null). Tagging uses a FastDetector
fitted on generated text (saved to a temporary .npz; the shipped ``fast`` detector
calls almost none of this text synthetic, so the quota would drop nothing),
embedding the ``hashing`` embedder.

1. Reference: ``clean IN REF --max-synthetic 0.1 --resample ROWS/4 --embedder hashing
   --detector DET.npz --by domain``, uninterrupted; its rows are accounted step by
   step from report.json (quota and near-duplicate drops, rows without an embedding,
   rows not selected by the resampling: any other difference is a lost row). A
   second uninterrupted run into a fresh folder must be byte-identical. Both runs'
   folders are polled, which gives the timeline (when start-up ended and each step
   finished; each phase the shorter of its two durations) that places the kill points.
2. Kill and resume (``--kills`` probes): the same command into a fresh folder, SIGKILL
   of the ``clean`` process after a seeded delay on the reference timeline (one
   during interpreter start-up, one 0.15 s before the process exits, one inside each
   step, the rest stratified over the run). The machine is shared, so its pace
   varies: a delay is taken as "so many seconds after the phase it falls in began"
   (launch, start-up done, step N complete), and the kill waits for that event in the
   probe's own run. Every fifth probe is killed a second time while resuming (a
   plain delay from launch). Then the command is rerun to completion. The step that
   was running is read from the step folders present when the process died (it is
   recorded, not assumed). Worker processes the killed process leaves behind are
   killed before the rerun (counted). A probe holds when the rerun exits 0, ``output.jsonl`` is
   byte-identical to the reference, ``report.json`` equals the reference's except the
   per-step ``resumed`` flags and the absolute ``output`` path (compared by file
   name), ``manifest.json`` is identical (it holds no timings) and the run lock is
   released. Whether the step files are byte-identical too, and leftover hidden
   temporary files, are recorded.
3. Corruption: a copy of the finished reference with (a) a step's Parquet file
   truncated, (b) bytes flipped in one, (c) one deleted, (d) a stray file added to a
   step folder, (e) a step's report.json edited, (f) a stale lock of a dead process,
   (g) a live lock (a sleeping process's pid). (a)-(e) hold when the rerun warns about
   that step folder, recomputes it and every later step (not ``resumed``), reuses the
   earlier ones and the output is byte-identical; (f) when the lock is taken over
   with a warning and the output is identical; (g) when the run is refused with exit
   code 2 and a message naming the pid, and the folder is left as it was.
4. Hostile inputs: every recognised file name in nested folders, unreadable files,
   mixed schemas, output == input or inside it, texts that are None / empty / white
   space / numbers / lone surrogates / control characters / 1 MB / Russian /
   Bulgarian / Chinese / Arabic / homoglyph-attacked, null and NaN group values,
   integer and boolean label columns, a provenance column null in the first rows
   (also past the JSON reader's first 10 MB block), ids >= 2**63, impossible
   ``--resample``, relative paths, an empty input. Each holds when the documented
   behaviour is seen: exit code 2 with a message naming the file / column / option
   (and the input untouched), or exit code 0 with every row accounted for.

"Rows lost" counts input rows that neither came out nor were explained by a reported
drop or by a refusal with a clear error. Writes benchmarks/results/reliability.json
(every probe, and a summary: tried, held, rows lost, per group) and prints it as
Markdown tables. Exit status 1 when a probe does not hold or a row is lost.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import lzma
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("tag", "quota", "embed", "dedup", "resample")
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


def cli(args: list[Any], cache: Path, timeout: float = 600, cwd: Path = REPO) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "synthfilter", *map(str, args)], capture_output=True, text=True,
                          env=env_for(cache), cwd=cwd, timeout=timeout)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "seconds": round(time.perf_counter() - t0, 2)}


def error_line(stderr: str) -> str:
    """The command's own error message (from the last line starting with 'synthfilter ' to the end), else the
    last line."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    starts = [i for i, ln in enumerate(lines) if ln.startswith("synthfilter ")]
    return " ".join(ln.strip() for ln in lines[starts[-1]:])[:800] if starts else (lines or [""])[-1][:800]


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


def normalised_report(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for step in report.get("steps", {}).values():
        step.pop("resumed", None)
    if "output" in report:
        report["output"] = Path(report["output"]).name
    return report


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
        and (out / "manifest.json").read_bytes() == (ref / "manifest.json").read_bytes(),
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


# ----------------------------------------------------------------------------- 1-2. reference, kill and resume
class Setup:
    def __init__(self, work: Path, rows: int, seed: int) -> None:
        self.work, self.rows, self.seed = work, rows, seed
        self.input = work / "corpus" / "input.jsonl"
        self.detector = work / "detector.npz"
        self.ref = work / "reference"
        self.resample = max(1, rows // 4)
        self.args = ["--max-synthetic", "0.1", "--resample", str(self.resample), "--embedder", "hashing",
                     "--detector", str(self.detector), "--by", "domain"]

    def command(self, out: Path) -> list[str]:
        return [sys.executable, "-m", "synthfilter", "clean", str(self.input), str(out), *self.args]


def timed_run(s: Setup, out: Path, cache: Path) -> dict[str, Any]:
    """Run ``clean`` uninterrupted, polling its folder: when start-up ended (manifest written), each step's
    folder was complete, the output and the report were written, and the process exited (s from the start)."""
    marks = {"start-up": out / "manifest.json",
             **{f"{n}-{st}": out / "steps" / f"{n}-{st}" / "_SUCCESS" for n, st in enumerate(STEPS, 1)},
             "output.jsonl": out / "output.jsonl", "report.json": out / "report.json"}
    seen: dict[str, float] = {}
    log = out.parent / f"{out.name}.log"
    t0 = time.perf_counter()
    with open(log, "wb") as handle:
        proc = subprocess.Popen(s.command(out), stdout=handle, stderr=handle, env=env_for(cache), cwd=REPO)
        while proc.poll() is None:
            for name, path in marks.items():
                if name not in seen and path.exists():
                    seen[name] = round(time.perf_counter() - t0, 2)
            time.sleep(0.05)
    total = round(time.perf_counter() - t0, 2)
    for name, path in marks.items():
        if name not in seen and path.exists():
            seen[name] = total
    return {"rc": proc.returncode, "seconds": total, "stderr": log.read_text(errors="replace"),
            "timeline": {**dict(sorted(seen.items(), key=lambda kv: kv[1])), "exit": total}}


def reference_run(s: Setup) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The reference run (rows accounted step by step) and a second uninterrupted run into a fresh folder (must
    be byte-identical); returns both probes and the mean timeline of the two runs."""
    make_corpus(s.input, s.rows, s.seed)
    fit_detector(s.detector, s.seed)
    r = timed_run(s, s.ref, s.work / "cache-reference")
    if r["rc"] != 0:
        raise SystemExit(f"reference run failed (exit {r['rc']}):\n{r['stderr'][-3000:]}")
    report = json.loads((s.ref / "report.json").read_text())
    acc = account_clean(report, rows_in=len(read_jsonl(s.input)))
    in_ids = [row["id"] for row in read_jsonl(s.input)]
    out_ids = [row["id"] for row in read_jsonl(s.ref / "output.jsonl")]
    ids_ok = len(set(out_ids)) == len(out_ids) and set(out_ids) <= set(in_ids) and len(out_ids) == s.resample
    held = acc["rows_lost"] == 0 and ids_ok and report["realised_synthetic_share"] <= 0.1
    probes = [{"name": "reference run: rows accounted step by step", "kind": "reference",
               "expected": "exit 0; every row in = out + reported drops; --resample rows out, unique input ids; "
                           "share <= 0.1",
               "held": held, "seconds": r["seconds"], "rows_in": acc["rows_in"], "rows_out": acc["rows_out"],
               "rows_explained": acc["rows_explained"], "rows_lost": acc["rows_lost"],
               "detail": {**acc, "ids_unique_and_from_input": ids_ok, "timeline_s": r["timeline"],
                          "realised_synthetic_share": report["realised_synthetic_share"],
                          "synthetic_share_after_tag": report["synthetic_share_after"]["tag"],
                          "dedup_dropped": report["steps"]["dedup"].get("dropped")}}]
    again = timed_run(s, s.work / "second", s.work / "cache-second")
    cmp = compare_with_reference(s.work / "second", s.ref) if again["rc"] == 0 else {}
    held = again["rc"] == 0 and cmp["output_identical"] and cmp["report_identical"] and cmp["manifest_identical"]
    probes.append({"name": "second uninterrupted run into a fresh folder", "kind": "reference",
                   "expected": "exit 0; output.jsonl byte-identical; report/manifest equal", "held": bool(held),
                   "seconds": again["seconds"], "rows_in": s.rows, "rows_out": s.resample if held else 0,
                   "rows_explained": 0, "rows_lost": cmp.get("rows_missing_vs_reference", 0),
                   "detail": {"exit": again["rc"], "timeline_s": again["timeline"], **cmp}})
    # the machine is shared: a phase takes the shorter of its two durations (a kill planned on a slow timeline
    # would land after the end of a run made at a quieter moment)
    both = [r["timeline"], again["timeline"]] if again["rc"] == 0 else [r["timeline"]]
    names = [k for k in r["timeline"] if all(k in t for t in both)]
    timeline, at, prev = {}, 0.0, None
    for name in names:
        at += min(t[name] - (t[prev] if prev else 0.0) for t in both)
        timeline[name], prev = round(at, 2), name
    return probes, timeline


def kill_points(timeline: dict[str, float], kills: int, seed: int) -> list[list[float]]:
    """Delays (s) per probe on the uninterrupted runs' timeline: one during interpreter start-up, one just
    before the process exits, one inside each step, the rest stratified over the whole run; sorted. Every fifth
    probe also kills its first resumption (uniform over 10-60% of the run). See :func:`anchor_of`."""
    rng = random.Random(f"kills:{seed}")
    total = timeline["exit"]
    if kills <= 0:
        return []
    firsts = [min(0.3, 0.02 * total), max(0.0, total - 0.15)][:kills]
    bounds = [timeline.get("start-up", 0.0)] + [timeline[f"{n}-{st}"] for n, st in enumerate(STEPS, 1)
                                                 if f"{n}-{st}" in timeline]
    for lo, hi in zip(bounds, bounds[1:]):
        if len(firsts) < kills:
            firsts.append(rng.uniform(lo, hi))
    inner = kills - len(firsts)
    lo, hi = 0.02 * total, 0.99 * total
    firsts += [lo + (hi - lo) * (k + rng.random()) / inner for k in range(inner)]
    firsts.sort()
    plans = []
    for i, d in enumerate(firsts):
        plan = [round(d, 2)]
        if i % 5 == 3:
            plan.append(round(rng.uniform(0.1, 0.6) * total, 2))
        plans.append(plan)
    return plans


def phases(timeline: dict[str, float]) -> list[tuple[str, float]]:
    """``(anchor, start)`` of each phase of the reference run: the process launch, then start-up done (the
    manifest written: step 1 runs), then each step's folder complete (the next step, or the output, follows)."""
    out = [("launch", 0.0)]
    for name in ["start-up"] + [f"{n}-{st}" for n, st in enumerate(STEPS, 1)]:
        if name in timeline:
            out.append((name, timeline[name]))
    return out


def anchor_of(delay: float, timeline: dict[str, float]) -> tuple[str, float]:
    """The reference delay as (phase anchor, seconds after it): the kill waits for that event in the probe's own
    run, so a machine slower or faster than during the reference still kills inside the intended phase."""
    anchor, start = next((a, t) for a, t in reversed(phases(timeline)) if t <= delay)
    return anchor, delay - start


def anchor_path(out: Path, anchor: str) -> Path | None:
    if anchor == "launch":
        return None
    if anchor == "start-up":
        return out / "manifest.json"
    return out / "steps" / anchor / "_SUCCESS"


def run_and_kill(s: Setup, out: Path, cache: Path, log: Path, anchor: str, offset: float) -> dict[str, Any]:
    """Start ``clean``; SIGKILL it ``offset`` s after ``anchor`` is seen (``launch``: its start)."""
    marker = anchor_path(out, anchor)
    with open(log, "ab") as handle:
        t0 = time.perf_counter()
        proc = subprocess.Popen(s.command(out), stdout=handle, stderr=handle, env=env_for(cache), cwd=REPO,
                                start_new_session=True)
        seen = t0 if marker is None else None
        while proc.poll() is None:
            now = time.perf_counter()
            if seen is None and marker.exists():
                seen = now
            if seen is not None and now - seen >= offset:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return {"anchor": anchor, "offset_s": round(offset, 2), "delay_s": round(now - t0, 2),
                        "killed": True, "state": progress_state(out), "orphans_killed": reap_group(proc.pid),
                        "lock_left": (out / LOCK_NAME).exists()}
            time.sleep(0.02)
    return {"anchor": anchor, "offset_s": round(offset, 2), "delay_s": round(time.perf_counter() - t0, 2),
            "killed": False, "finished_first_with": proc.returncode, "state": progress_state(out),
            "orphans_killed": 0}


def kill_probe(s: Setup, index: int, delays: list[float], timeline: dict[str, float]) -> dict[str, Any]:
    """Kill the first run at the phase-anchored equivalent of ``delays[0]``; later kills (of the resumption) after
    plain delays from launch (the resumed run's folder already holds the earlier markers)."""
    out = s.work / "kills" / f"k{index:02d}"
    cache = s.work / "kills" / f"cache-k{index:02d}"
    log = s.work / "kills" / f"k{index:02d}.log"
    kills = []
    for k, delay in enumerate(delays):
        anchor, offset = anchor_of(delay, timeline) if k == 0 else ("launch", delay)
        kills.append({"planned_delay_s": delay, **run_and_kill(s, out, cache, log, anchor, offset)})
    rerun = cli(["clean", s.input, out, *s.args], cache)
    cmp = compare_with_reference(out, s.ref) if rerun["rc"] == 0 else {}
    held = (rerun["rc"] == 0 and cmp["output_identical"] and cmp["report_identical"] and cmp["manifest_identical"]
            and cmp["lock_released"])
    resumed = []
    if (out / "report.json").exists():
        resumed = [k for k, v in json.loads((out / "report.json").read_text())["steps"].items() if v.get("resumed")]
    result = {"name": f"kill {index:02d}: SIGKILL after " + " s, then ".join(f"{k['delay_s']:.2f}" for k in kills)
              + " s",
              "kind": "kill", "expected": "rerun exits 0; output.jsonl byte-identical; report/manifest equal",
              "held": bool(held), "rows_in": s.rows,
              "rows_out": len((out / "output.jsonl").read_bytes().splitlines()) if rerun["rc"] == 0 else 0,
              "rows_explained": 0, "rows_lost": cmp.get("rows_missing_vs_reference", 0),
              "detail": {"kills": kills, "killed_during": kills[0]["state"] if kills else None,
                         "rerun_exit": rerun["rc"], "rerun_seconds": rerun["seconds"], "resumed_steps": resumed,
                         "stale_lock_warning": "stale lock" in rerun["stderr"], **cmp,
                         "rerun_error": error_line(rerun["stderr"]) if rerun["rc"] else ""}}
    if rerun["rc"] != 0:  # nothing came out; the error explains it, but the probe does not hold
        result["rows_lost"], result["rows_explained"] = 0, s.rows
    shutil.rmtree(cache, ignore_errors=True)
    return result


# ----------------------------------------------------------------------------- 3. corrupted step files, locks
def corruption_probes(s: Setup) -> list[dict[str, Any]]:
    base = s.work / "corrupt"

    def part(folder: Path) -> Path:
        return next(folder.glob("*.parquet"))

    def truncate(folder: Path) -> None:
        p = part(folder)
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])

    def flip(folder: Path) -> None:
        p = part(folder)
        data = bytearray(p.read_bytes())
        mid = len(data) // 2
        for k in range(mid, mid + 16):
            data[k] ^= 0xFF
        p.write_bytes(bytes(data))

    def delete(folder: Path) -> None:
        part(folder).unlink()

    def stray(folder: Path) -> None:
        (folder / "notes.txt").write_text("left here by hand\n")

    def edit_report(folder: Path) -> None:
        rep = json.loads((folder / "report.json").read_text())
        rep["rows_out"] = rep.get("rows_out", 0) + 1
        (folder / "report.json").write_text(json.dumps(rep, indent=2) + "\n")

    cases: list[tuple[str, str, Callable[[Path], None]]] = [
        ("truncated Parquet file", "2-quota", truncate),
        ("bytes flipped in a Parquet file", "3-embed", flip),
        ("Parquet file deleted", "4-dedup", delete),
        ("stray file in a step folder", "1-tag", stray),
        ("step report.json edited", "5-resample", edit_report),
    ]
    results = []
    for k, (what, step_dir, damage) in enumerate(cases):
        out = base / f"c{k}"
        shutil.copytree(s.ref, out)
        damage(out / "steps" / step_dir)
        r = cli(["clean", s.input, out, *s.args], base / f"cache-c{k}")
        cmp = compare_with_reference(out, s.ref) if r["rc"] == 0 else {}
        rep = json.loads((out / "report.json").read_text()) if r["rc"] == 0 else {"steps": {}}
        n = int(step_dir.split("-")[0])
        recomputed = [st for st in STEPS[n - 1:] if not rep["steps"].get(st, {}).get("resumed")]
        reused = [st for st in STEPS[: n - 1] if rep["steps"].get(st, {}).get("resumed")]
        warned = f"{step_dir} changed since it was written" in r["stderr"]
        held = (r["rc"] == 0 and warned and recomputed == list(STEPS[n - 1:]) and reused == list(STEPS[: n - 1])
                and cmp["output_identical"] and cmp["report_identical"] and cmp["lock_released"])
        warning = next((ln.strip() for ln in r["stderr"].splitlines() if "changed since it was written" in ln), "")
        results.append({"name": f"corrupt ({'abcde'[k]}): {what} ({step_dir})", "kind": "corruption",
                        "expected": f"warning about {step_dir}; it and later steps recomputed; output byte-identical",
                        "held": bool(held), "rows_in": s.rows,
                        "rows_out": s.resample if cmp.get("output_identical") else 0,
                        "rows_explained": 0, "rows_lost": cmp.get("rows_missing_vs_reference", 0),
                        "detail": {"exit": r["rc"], "warned": warned, "warning": warning[:400],
                                   "recomputed": recomputed, "resumed": reused, **cmp,
                                   "error": error_line(r["stderr"]) if r["rc"] else ""}})

    # (f) stale lock: a dead process's pid
    out = base / "stale-lock"
    shutil.copytree(s.ref, out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}) + "\n")
    r = cli(["clean", s.input, out, *s.args], base / "cache-stale")
    cmp = compare_with_reference(out, s.ref) if r["rc"] == 0 else {}
    warned = "took over a stale lock" in r["stderr"]
    held = r["rc"] == 0 and warned and cmp["output_identical"] and cmp["report_identical"] and cmp["lock_released"]
    results.append({"name": "lock (f): stale lock file of a dead pid", "kind": "corruption",
                    "expected": "taken over with a warning; exit 0; output byte-identical; lock released",
                    "held": bool(held), "rows_in": s.rows, "rows_out": s.resample if cmp.get("output_identical") else 0,
                    "rows_explained": 0, "rows_lost": cmp.get("rows_missing_vs_reference", 0),
                    "detail": {"exit": r["rc"], "dead_pid": dead.pid, "warned": warned, **cmp,
                               "error": error_line(r["stderr"]) if r["rc"] else ""}})

    # (g) live lock: a sleeping process's pid
    out = base / "live-lock"
    shutil.copytree(s.ref, out)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        lock = json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}) + "\n"
        (out / LOCK_NAME).write_text(lock)
        before = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        r = cli(["clean", s.input, out, *s.args], base / "cache-live")
        after = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    finally:
        sleeper.kill()
        sleeper.wait()
    message = error_line(r["stderr"])
    held = r["rc"] == 2 and f"pid {sleeper.pid}" in message and "another synthfilter run" in message and before == after
    results.append({"name": "lock (g): live lock (a sleeping process's pid)", "kind": "corruption",
                    "expected": "refused: exit 2, message naming the pid; folder (lock included) unchanged",
                    "held": bool(held), "rows_in": s.rows, "rows_out": 0, "rows_explained": s.rows if held else 0,
                    "rows_lost": 0,
                    "detail": {"exit": r["rc"], "message": message, "folder_unchanged": before == after}})
    return results


# ----------------------------------------------------------------------------- 4. hostile inputs
class Hostile:
    """Small hostile inputs, each run through the command it concerns."""

    def __init__(self, s: Setup) -> None:
        self.s = s
        self.base = s.work / "hostile"
        self.rng = random.Random(f"hostile:{s.seed}")

    def texts(self, n: int, kind: str = "human") -> list[str]:
        return [make_text(self.rng, kind) for _ in range(n)]

    def run(self, name: str, args: list[Any]) -> dict[str, Any]:
        return cli(args, self.base / f"cache-{slug(name)}")

    @staticmethod
    def result(name: str, expected: str, held: bool, rows_in: int, rows_out: int, rows_explained: int,
               rows_lost: int, **detail: Any) -> dict[str, Any]:
        return {"name": name, "kind": "hostile", "expected": expected, "held": bool(held), "rows_in": rows_in,
                "rows_out": rows_out, "rows_explained": rows_explained, "rows_lost": rows_lost, "detail": detail}

    def refused(self, name: str, expected: str, r: dict[str, Any], rows_in: int, needles: list[str],
                untouched: bool = True) -> dict[str, Any]:
        """A probe whose documented outcome is a clear error (exit 2) naming ``needles``."""
        message = error_line(r["stderr"])
        named = all(n in message for n in needles)
        ok = r["rc"] == 2 and named and untouched
        return self.result(name, expected, ok, rows_in, 0, rows_in if r["rc"] == 2 else 0,
                           0 if r["rc"] == 2 else rows_in, exit=r["rc"], message=message,
                           names=dict(zip(needles, [n in message for n in needles])), input_untouched=untouched)

    def tagged(self, name: str, expected: str, src: Path, in_rows: list[dict[str, Any]],
               check: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None,
               extra: list[str] | None = None) -> dict[str, Any]:
        """``tag`` ``src``; every input id must come out exactly once and pass ``check(in_row, out_row)``."""
        out = self.base / slug(name) / "out.jsonl"
        r = self.run(name, ["tag", src, out, *(extra or [])])
        if r["rc"] != 0:
            return self.result(name, expected, False, len(in_rows), 0, len(in_rows) if r["rc"] == 2 else 0,
                               0 if r["rc"] == 2 else len(in_rows), exit=r["rc"], message=error_line(r["stderr"]))
        got = read_jsonl(out)
        want_ids = Counter(_key(row["id"]) for row in in_rows)
        got_ids = Counter(_key(row.get("id")) for row in got)
        lost = sum((want_ids - got_ids).values())
        extra_rows = sum((got_ids - want_ids).values())
        by_id = {_key(row["id"]): row for row in in_rows}
        problems = {}
        for row in got:
            if row.get("sf_label") == "unknown" and not row.get("sf_reason"):
                problems[str(row.get("id"))] = "unknown without sf_reason"
            elif check is not None and _key(row.get("id")) in by_id:
                why = check(by_id[_key(row["id"])], row)
                if why:
                    problems[str(row.get("id"))] = why
        ok = lost == 0 and extra_rows == 0 and not problems
        outcomes = Counter(f"{row.get('sf_label')}/{row.get('sf_reason') or '-'}" for row in got)
        return self.result(name, expected, ok, len(in_rows), len(got), 0, lost, exit=r["rc"],
                           extra_rows=extra_rows, problems=dict(list(problems.items())[:10]),
                           outcomes=dict(outcomes.most_common()))

    def quota(self, name: str, expected: str, src: Path, in_rows: list[dict[str, Any]], args: list[str],
              id_check: bool = True) -> dict[str, Any]:
        """``quota`` ``src``; rows out + reported drops must equal rows in, ids unique and from the input."""
        out = self.base / slug(name) / "out.jsonl"
        r = self.run(name, ["quota", src, out, "--max-synthetic", "0.1", *args])
        if r["rc"] != 0:
            return self.result(name, expected, False, len(in_rows), 0, len(in_rows) if r["rc"] == 2 else 0,
                               0 if r["rc"] == 2 else len(in_rows), exit=r["rc"], message=error_line(r["stderr"]))
        got = read_jsonl(out)
        report = json.loads(Path(f"{out}.quota.json").read_text())
        dropped = sum(report["dropped"].values())
        lost = len(in_rows) - len(got) - dropped
        in_ids = Counter(_key(row["id"]) for row in in_rows)
        out_ids = Counter(_key(row["id"]) for row in got)
        ids_ok = not (out_ids - in_ids) and max(out_ids.values(), default=1) == 1
        share_ok = all(g["share_after"] <= 0.1 + 1e-9 for g in report["groups"].values())
        ok = lost == 0 and (ids_ok or not id_check) and share_ok
        return self.result(name, expected, ok, len(in_rows), len(got), dropped, max(lost, 0), exit=r["rc"],
                           ids_exact_unique_from_input=ids_ok, share_after_per_group_ok=share_ok,
                           groups={g: sum(x["before"].values()) for g, x in report["groups"].items()},
                           dropped=report["dropped"], realised_share=report["realised_share"])

    # --- the probes
    def formats_nested(self) -> dict[str, Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        root = self.base / "formats" / "in"
        layout = ["A.JSONL", "sub/b.jsonl.gz", "sub/c.json.bz2", "sub/deeper/d.jsonl.xz", "sub/deeper/e.jsonl.zst",
                  "f.csv", "sub/deeper/g.parquet", "z/h.NDJSON"]
        rows_all, order = [], []
        for k, rel in enumerate(layout):
            rows = [{"id": k * 100 + j, "text": make_text(self.rng, "human" if j % 2 else "ai").replace("...", ".")
                     + (', with a "quote", a comma' if j == 3 else "")} for j in range(15)]
            rows_all += rows
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(r) + "\n" for r in rows).encode()
            name = rel.lower()
            if name.endswith(".gz"):
                path.write_bytes(gzip.compress(lines))
            elif name.endswith(".bz2"):
                path.write_bytes(bz2.compress(lines))
            elif name.endswith(".xz"):
                path.write_bytes(lzma.compress(lines))
            elif name.endswith(".zst"):
                import zstandard
                path.write_bytes(zstandard.ZstdCompressor().compress(lines))
            elif name.endswith(".csv"):
                import csv
                with open(path, "w", newline="", encoding="utf-8") as handle:
                    w = csv.DictWriter(handle, fieldnames=["id", "text"])
                    w.writeheader()
                    w.writerows(rows)
            elif name.endswith(".parquet"):
                pq.write_table(pa.table({"id": pa.array([r["id"] for r in rows], pa.int64()),
                                         "text": [r["text"] for r in rows]}), path)
            else:
                path.write_bytes(lines)
        # the documented read order: relative paths compared folder by folder, in sorted order
        order = [k for k, _ in sorted(enumerate(layout), key=lambda kv: kv[1].split("/"))]
        res = self.tagged("every recognised file name in nested folders (tag)",
                          "exit 0; every row of .JSONL/.jsonl.gz/.json.bz2/.jsonl.xz/.jsonl.zst/.csv/.parquet/.NDJSON "
                          "files in nested folders read, files in the documented order", root, rows_all)
        if (self.base / slug(res["name"]) / "out.jsonl").exists():
            got = [r["id"] // 100 for r in read_jsonl(self.base / slug(res["name"]) / "out.jsonl")]
            files_in_order = [g for i, g in enumerate(got) if i == 0 or got[i - 1] != g]
            res["detail"]["file_order_as_documented"] = files_in_order == order
            res["held"] = res["held"] and files_in_order == order
        return res

    def unreadable(self) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        folder = self.base / "junk" / "in"
        good = [{"id": i, "text": t} for i, t in enumerate(self.texts(10))]
        write_jsonl(folder / "a.jsonl", good)
        (folder / "b.jsonl").write_bytes(random.Random(1).randbytes(5000))
        r = self.run("junk", ["tag", folder, self.base / "junk" / "out.jsonl"])
        out.append(self.refused("binary junk named .jsonl (in a folder with a good file)",
                                "exit 2, error naming b.jsonl", r, len(good), ["b.jsonl"]))
        folder = self.base / "badparquet" / "in"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"id": list(range(10)), "text": self.texts(10)}), folder / "a.parquet")
        pq.write_table(pa.table({"id": list(range(10, 400)), "text": self.texts(390)}), folder / "b.parquet")
        raw = (folder / "b.parquet").read_bytes()
        (folder / "b.parquet").write_bytes(raw[: len(raw) // 2] + raw[-200:])
        r = self.run("badparquet", ["tag", folder, self.base / "badparquet" / "out.jsonl"])
        out.append(self.refused("corrupt Parquet file (in a folder with a good file)",
                                "exit 2, error naming b.parquet", r, 400, ["b.parquet"]))
        return out

    def schemas(self) -> list[dict[str, Any]]:
        out = []
        folder = self.base / "schema-cols" / "in"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(5))])
        write_jsonl(folder / "b.jsonl",
                    [{"id": 10 + i, "text": t, "source": "web"} for i, t in enumerate(self.texts(5))])
        r = self.run("schema-cols", ["tag", folder, self.base / "schema-cols" / "out.jsonl"])
        out.append(self.refused("mixed schemas: an extra column in one file", "exit 2 naming both files and 'source'",
                                r, 10, ["a.jsonl", "b.jsonl", "'source'"]))
        folder = self.base / "schema-types" / "in"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(5))])
        write_jsonl(folder / "b.jsonl", [{"id": f"x{i}", "text": t} for i, t in enumerate(self.texts(5))])
        r = self.run("schema-types", ["tag", folder, self.base / "schema-types" / "out.jsonl"])
        out.append(self.refused("mixed schemas: id int in one file, string in another",
                                "exit 2 naming both files and 'id'", r, 10, ["a.jsonl", "b.jsonl", "'id'"]))
        return out

    def output_paths(self) -> list[dict[str, Any]]:
        out = []
        src = write_jsonl(self.base / "same" / "in.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(20))])
        before = src.read_bytes()
        r = self.run("same", ["tag", src, src])
        out.append(self.refused("tag: output == input", "exit 2 ('is the input'); input unchanged", r, 20,
                                ["is the input"], untouched=src.read_bytes() == before))
        r = self.run("same-q", ["quota", src, src, "--max-synthetic", "0.1", "--label-column", "id"])
        out.append(self.refused("quota: output == input", "exit 2 ('is the input'); input unchanged", r, 20,
                                ["is the input"], untouched=src.read_bytes() == before))
        folder = self.base / "inside" / "corpus"
        write_jsonl(folder / "a.jsonl", [{"id": i, "text": t} for i, t in enumerate(self.texts(40))])
        listing = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        content = (folder / "a.jsonl").read_bytes()
        r = self.run("inside", ["clean", folder, folder / "cleaned", "--max-synthetic", "0.1", "--resample", "10",
                                "--embedder", "hashing"])
        untouched = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == listing \
            and (folder / "a.jsonl").read_bytes() == content
        out.append(self.refused("clean: output inside the input folder",
                                "exit 2 ('inside the input folder'); input folder unchanged", r, 40,
                                ["inside the input folder"], untouched=untouched))
        return out

    def hostile_texts(self) -> list[dict[str, Any]]:
        english = ("The committee reviewed the proposal in detail and concluded that the new approach would "
                   "improve reliability, reduce maintenance costs and make the service easier to operate.")
        glyphs = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с"}
        attacked = "".join(glyphs.get(ch, ch) if k % 3 == 0 else ch for k, ch in enumerate(english))
        attacked = attacked.replace(" ", " \u200b", 5)
        megabyte = (english + " ") * (1_000_000 // (len(english) + 1) + 1)
        cases = [
            (None, "not_text"), ("", "empty"), ("   \n\t  ", "empty"), ("!!! 123 ???", "empty"),
            ("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f" * 10 + "abc", "binary"),
            ("".join(chr(b % 32) if b % 5 else "x" for b in random.Random(2).randbytes(300)), "binary"),
            (random.Random(3).randbytes(300).decode("latin-1"), "unknown"),
            ("ok thanks", "too_short"),
            ("Вчера вечером мы долго гуляли по старому парку и разговаривали о планах на лето и о новых книгах.",
             "unsupported_language:ru"),
            ("Вчера следобед отидохме до морето с приятели и се разхождахме по плажа, докато слънцето залезе "
             "зад хълмовете. Беше много хубаво и спокойно.", "unsupported_language:bg"),
            ("昨天下午我们去了公园散步，天气非常好，孩子们在草地上玩耍，我们一直聊到太阳落山才回家。",
             "unsupported_language:zh"),
            ("ذهبنا أمس إلى السوق القديم واشترينا الكثير من الفواكه والخضروات الطازجة ثم عدنا إلى البيت مساء.",
             "unsupported_language:ar"),
            (megabyte, "scored"), (english, "scored"), (attacked, "scored-like-previous"),
        ]
        rows = [{"id": i, "text": t} for i, (t, _) in enumerate(cases)]
        expect = {i: e for i, (_, e) in enumerate(cases)}
        scores: dict[int, float] = {}

        def check(row_in: dict[str, Any], row: dict[str, Any]) -> str | None:
            want = expect[row_in["id"]]
            scores[row_in["id"]] = row.get("sf_score")
            if want.startswith("scored"):
                if row["sf_label"] not in ("human", "synthetic") or row.get("sf_lang") != "en":
                    return f"expected scored English, got {row['sf_label']}/{row.get('sf_reason')}/{row.get('sf_lang')}"
                if want == "scored-like-previous":
                    clean_score = scores.get(row_in["id"] - 1)
                    if clean_score is None or abs(row["sf_score"] - clean_score) > 0.05:
                        return f"attacked score {row['sf_score']:.3f} vs clean {clean_score}"
                return None
            if row["sf_label"] != "unknown" or (row["sf_reason"] != want and want != "unknown"):
                return f"expected unknown/{want}, got {row['sf_label']}/{row['sf_reason']}"
            return None

        src = write_jsonl(self.base / "texts" / "in.jsonl", rows)
        out = [self.tagged("hostile texts (tag)",
                           "exit 0; None/empty/white space/control/binary/short/ru/bg/zh/ar -> unknown with the "
                           "matching sf_reason; 1 MB and homoglyph-attacked English scored (attacked within 0.05 of "
                           "the clean text)", src, rows, check)]
        # the same rows with ordinary ones, through the whole pipeline
        many = rows + [{"id": 100 + i, "text": t} for i, t in enumerate(self.texts(150) + self.texts(60, "ai"))]
        src2 = write_jsonl(self.base / "texts-clean" / "in.jsonl", many)
        dest = self.base / "texts-clean" / "out"
        r = self.run("texts-clean", ["clean", src2, dest, "--max-synthetic", "0.1", "--resample", "100",
                                     "--embedder", "hashing", "--detector", self.s.detector])
        if r["rc"] == 0:
            acc = account_clean(json.loads((dest / "report.json").read_text()), len(many))
            out.append(self.result("hostile texts through clean", "exit 0; rows in = out + reported drops",
                                   acc["rows_lost"] == 0, len(many), acc["rows_out"], acc["rows_explained"],
                                   acc["rows_lost"], exit=0, unexplained=acc["unexplained_by_step"]))
        else:
            out.append(self.result("hostile texts through clean", "exit 0; rows in = out + reported drops", False,
                                   len(many), 0, 0, 0, exit=r["rc"], message=error_line(r["stderr"])))
        # numbers as the text column: all numbers, and mixed with strings in one file
        nums = [{"id": i, "text": v} for i, v in enumerate([1, 22, 333, -4, 5])]
        src3 = write_jsonl(self.base / "numbers" / "in.jsonl", nums)
        out.append(self.tagged("text column of numbers", "exit 0; every row unknown/not_text", src3, nums,
                               lambda a, b: None if b["sf_reason"] == "not_text" else f"got {b['sf_reason']}"))
        mixed = [{"id": i, "text": v} for i, v in enumerate([english, 12345, None, 3.5, english + " Again."])]
        src4 = write_jsonl(self.base / "mixed-text" / "in.jsonl", mixed)
        out.append(self.tagged("text column mixing strings and numbers",
                               "exit 0; numbers and null unknown/not_text, strings scored", src4, mixed,
                               lambda a, b: None if (b["sf_reason"] == "not_text") == (not isinstance(a["text"], str))
                               else f"got {b['sf_label']}/{b['sf_reason']}"))
        # lone surrogates, written as JSON escapes (valid JSON, invalid Unicode)
        lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(self.texts(5))]
        lines.insert(3, '{"id": 99, "text": "broken \\ud800 surrogate and a long enough english sentence here"}')
        src5 = write_jsonl(self.base / "surrogate" / "in.jsonl", lines)
        r = self.run("surrogate", ["tag", src5, self.base / "surrogate" / "out.jsonl"])
        if r["rc"] == 0:
            got = read_jsonl(self.base / "surrogate" / "out.jsonl")
            ok = sorted(row["id"] for row in got) == sorted([0, 1, 2, 3, 4, 99])
            out.append(self.result("lone surrogate escapes (\\ud800) in a JSON line", "every row out, or exit 2 "
                                   "naming the file and line", ok, 6, len(got), 0, 6 - len(got), exit=0,
                                   outcomes=[(row["id"], row["sf_label"], row["sf_reason"]) for row in got]))
        else:
            out.append(self.refused("lone surrogate escapes (\\ud800) in a JSON line",
                                    "every row out, or exit 2 naming the file and line", r, 6, ["in.jsonl", "line 4"]))
        return out

    def groups(self) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        rng = random.Random(3)
        rows = [{"id": i, "sf_label": "synthetic" if rng.random() < 0.4 else "human",
                 "domain": [None, "news", "chat"][i % 3]} for i in range(300)]
        src = write_jsonl(self.base / "null-groups" / "in.jsonl", rows)
        res = self.quota("null group values (quota --by)",
                         "exit 0; null groups form one group; rows out + drops = rows in",
                         src, rows, ["--by", "domain", "--id-column", "id"])
        res["held"] = res["held"] and "<null>" in res["detail"].get("groups", {})
        out.append(res)
        vals = [float("nan"), None, 1.0, 2.0]
        table = pa.table({"id": list(range(300)), "sf_label": [r["sf_label"] for r in rows],
                          "domain": pa.array([vals[i % 4] for i in range(300)], pa.float64())})
        src = self.base / "nan-groups" / "in.parquet"
        src.parent.mkdir(parents=True)
        pq.write_table(table, src)
        res = self.quota("NaN and null group values in Parquet (quota --by)",
                         "exit 0; NaN and null are one group; rows out + drops = rows in",
                         src, [{"id": i} for i in range(300)], ["--by", "domain", "--id-column", "id"])
        res["held"] = res["held"] and res["detail"].get("groups", {}).get("<null>") == 150
        out.append(res)
        return out

    def label_columns(self) -> list[dict[str, Any]]:
        out = []
        rng = random.Random(4)
        flags = [rng.random() < 0.4 for _ in range(400)]
        ints = [{"id": i, "text": f"row {i}", "is_ai": int(f)} for i, f in enumerate(flags)]
        src = write_jsonl(self.base / "int-labels" / "in.jsonl", ints)
        out.append(self.quota("integer label column (0/1)", "exit 0; 1 = synthetic; rows out + drops = rows in",
                              src, ints, ["--label-column", "is_ai"]))
        bools = [{"id": i, "text": f"row {i}", "is_ai": f} for i, f in enumerate(flags)]
        src = write_jsonl(self.base / "bool-labels" / "in.jsonl", bools)
        out.append(self.quota("boolean label column", "exit 0; true = synthetic; rows out + drops = rows in",
                              src, bools, ["--label-column", "is_ai"]))
        bad = [{"id": i, "text": f"row {i}", "is_ai": [0, 1, 7][i % 3]} for i in range(30)]
        src = write_jsonl(self.base / "bad-labels" / "in.jsonl", bad)
        r = self.run("bad-labels", ["quota", src, self.base / "bad-labels" / "out.jsonl", "--max-synthetic", "0.1",
                                    "--label-column", "is_ai"])
        out.append(self.refused("integer label column holding 7", "exit 2 naming the column and the value", r, 30,
                                ["'is_ai'", "7"]))
        return out

    def provenance(self) -> list[dict[str, Any]]:
        out = []
        rng = random.Random(5)
        rows = [{"id": i, "text": f"row {i}", "is_synth": None if i < 50 else rng.random() < 0.4} for i in range(400)]
        src = write_jsonl(self.base / "prov-short" / "in.jsonl", rows)
        out.append(self.quota("provenance column null in the first 50 rows", "exit 0; null rows unknown (counted "
                              "human); rows out + drops = rows in", src, rows, ["--synthetic-column", "is_synth"]))
        # longer than one 10 MB block of the JSON reader: the first block holds only nulls
        filler = " ".join(["padding"] * 150)
        n_null, n_set = 11_000, 2_000
        rows = [{"id": i, "text": f"row {i} {filler}", "is_synth": None if i < n_null else rng.random() < 0.4}
                for i in range(n_null + n_set)]
        src = write_jsonl(self.base / "prov-long" / "in.jsonl", rows)
        res = self.quota(f"provenance column null in the first {n_null} rows ({src.stat().st_size / 1e6:.0f} MB file)",
                         "exit 0; null rows unknown (counted human); rows out + drops = rows in", src, rows,
                         ["--synthetic-column", "is_synth"])
        out.append(res)
        return out

    def big_ids(self) -> dict[str, Any]:
        rng = random.Random(6)
        ids = [2**63 + 5, 2**64 - 1, 2**63] + [2**63 + rng.randrange(2**62) for _ in range(197)]
        rows = [{"id": k, "text": f"row {k}", "is_ai": int(rng.random() < 0.4)} for k in ids]
        src = write_jsonl(self.base / "big-ids" / "in.jsonl", rows)
        res = self.quota("64-bit ids >= 2**63 with --id-column", "exit 0; ids read and written exactly (no float "
                         "rounding); rows out + drops = rows in", src, rows, ["--label-column", "is_ai",
                                                                              "--id-column", "id"])
        out = self.base / slug(res["name"]) / "out.jsonl"
        if out.exists():
            raw_ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
            exact = all(isinstance(v, int) for v in raw_ids) and set(raw_ids) <= set(ids)
            res["detail"]["ids_exact"] = exact
            res["detail"]["first_ids_out"] = [str(v) for v in raw_ids[:3]]
            res["held"] = res["held"] and exact
        return res

    def impossible_resample(self) -> list[dict[str, Any]]:
        out = []
        rows = [{"id": i, "text": t} for i, t in enumerate(self.texts(100, "human") + self.texts(100, "ai"))]
        src = write_jsonl(self.base / "resample" / "in.jsonl", rows)
        dest = self.base / "resample" / "out"
        r = self.run("resample", ["clean", src, dest, "--max-synthetic", "0.1", "--resample", "150",
                                  "--embedder", "hashing", "--detector", self.s.detector])
        steps = sorted(p.name for p in (dest / "steps").iterdir()) if (dest / "steps").exists() else []
        res = self.refused("clean --resample more than the quota leaves",
                           "exit 2 naming --resample and --max-synthetic, before embedding", r, 200,
                           ["--resample 150", "--max-synthetic"], untouched=not any(s.startswith("3-") for s in steps))
        res["detail"]["step_folders"] = steps
        out.append(res)
        dest = self.base / "resample2" / "out"
        r = self.run("resample2", ["clean", src, dest, "--max-synthetic", "0.1", "--resample", "500",
                                   "--embedder", "hashing", "--detector", self.s.detector])
        out.append(self.refused("clean --resample more than the input's rows", "exit 2 naming --resample, before "
                                "any work (no output folder)", r, 200, ["--resample 500", "200 rows"],
                                untouched=not dest.exists()))
        return out

    def relative_paths(self) -> dict[str, Any]:
        folder = self.base / "relative"
        rows = [{"id": i, "text": t} for i, t in enumerate(self.texts(150) + self.texts(50, "ai"))]
        write_jsonl(folder / "in.jsonl", rows)
        r = cli(["clean", "in.jsonl", "out", "--max-synthetic", "0.1", "--resample", "60", "--embedder", "hashing",
                 "--detector", self.s.detector], self.base / "cache-relative", cwd=folder)
        if r["rc"] != 0:
            return self.result("clean with relative paths (run from the input's folder)", "exit 0; rows in = out + "
                               "reported drops", False, len(rows), 0, 0, 0, exit=r["rc"],
                               message=error_line(r["stderr"]))
        acc = account_clean(json.loads((folder / "out" / "report.json").read_text()), len(rows))
        return self.result("clean with relative paths (run from the input's folder)", "exit 0; rows in = out + "
                           "reported drops", acc["rows_lost"] == 0, len(rows), acc["rows_out"], acc["rows_explained"],
                           acc["rows_lost"], exit=0, unexplained=acc["unexplained_by_step"])

    def empty_input(self) -> dict[str, Any]:
        src = self.base / "empty" / "in.jsonl"
        src.parent.mkdir(parents=True)
        src.write_text("\n  \n")
        r = self.run("empty", ["tag", src, self.base / "empty" / "out.jsonl"])
        return self.refused("input with no rows (white space only)", "exit 2 naming the file ('holds no rows')",
                            r, 0, ["in.jsonl", "no rows"])

    def all(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for probe in (self.formats_nested, self.unreadable, self.schemas, self.output_paths, self.hostile_texts,
                      self.groups, self.label_columns, self.provenance, self.big_ids, self.impossible_resample,
                      self.relative_paths, self.empty_input):
            got = probe()
            got = got if isinstance(got, list) else [got]
            for g in got:
                print(f"  {'held' if g['held'] else 'FAILED':<6} {g['name']}", flush=True)
            out += got
        return out


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60]


def _key(value: Any) -> Any:
    """Row ids compared as exact values (an int id read back as a float does not match)."""
    return (type(value).__name__, value)


# ----------------------------------------------------------------------------- report
GROUPS = {"reference": "reference run", "kill": "kill and resume", "corruption": "corrupted step files and locks",
          "hostile": "hostile inputs"}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_group: dict[str, dict[str, int]] = {}
    for r in results:
        g = by_group.setdefault(GROUPS[r["kind"]], {"tried": 0, "held": 0, "rows_lost": 0})
        g["tried"] += 1
        g["held"] += bool(r["held"])
        g["rows_lost"] += r["rows_lost"]
    return {"tried": len(results), "held": sum(bool(r["held"]) for r in results),
            "rows_lost": sum(r["rows_lost"] for r in results), "by_group": by_group,
            "not_held": [r["name"] for r in results if not r["held"]]}


def markdown(results: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The per-group table (as benchmarks/tables.py prints it for the README) and one row per probe."""
    lines = ["| probe group | tried | held | rows lost |", "|---|---|---|---|"]
    lines += [f"| {g} | {x['tried']} | {x['held']} | {x['rows_lost']} |" for g, x in summary["by_group"].items()]
    lines += [f"| **all** | **{summary['tried']}** | **{summary['held']}** | **{summary['rows_lost']}** |", "",
              "| probe | expected | held | rows in | rows out | rows explained | rows lost |",
              "|---|---|---|---:|---:|---:|---:|"]
    for r in results:
        name = r["name"].replace("|", "\\|")
        if r["kind"] == "kill":
            name += " (killed during " + "; then ".join(k["state"] for k in r["detail"]["kills"]) + ")"
        lines.append(f"| {name} | {r['expected'].replace('|', '/')} | {'yes' if r['held'] else '**no**'} | "
                     f"{r['rows_in']} | {r['rows_out']} | {r['rows_explained']} | {r['rows_lost']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="kill-and-resume probes (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=4000, help="rows of the generated input (default 4000)")
    parser.add_argument("--work", default=None, help="keep the work files in this folder (default: a temporary one)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: kills, corruption, hostile")
    args = parser.parse_args(argv)
    skip = {p for p in args.skip.split(",") if p}
    t_start = time.perf_counter()
    tmp = None
    if args.work:
        work = Path(args.work)
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="sf-reliability-")
        work = Path(tmp.name)
    try:
        s = Setup(work, args.rows, args.seed)
        print(f"reference run ({args.rows} rows) ...", flush=True)
        results, timeline = reference_run(s)
        ref, second = results[0], results[-1]
        total = timeline["exit"]
        print(f"  {'held' if ref['held'] else 'FAILED':<6} reference: {ref['seconds']:.1f} s, {ref['rows_in']} -> "
              f"{ref['rows_out']} rows, rows lost {ref['rows_lost']}", flush=True)
        print(f"  {'held' if second['held'] else 'FAILED':<6} second uninterrupted run: {second['seconds']:.1f} s, "
              f"byte-identical {second['detail'].get('output_identical')}; timeline (s): {json.dumps(timeline)}",
              flush=True)
        if "kills" not in skip:
            (work / "kills").mkdir()
            plans = kill_points(timeline, args.kills, args.seed)
            print(f"kill-and-resume: {len(plans)} probes over a {total:.1f} s run ...", flush=True)
            for i, plan in enumerate(plans):
                r = kill_probe(s, i, plan, timeline)
                print(f"  {'held' if r['held'] else 'FAILED':<6} {r['name']}: killed during "
                      f"{'; '.join(k['state'] for k in r['detail']['kills'])}; rerun {r['detail']['rerun_seconds']} s"
                      + ("" if r["held"] else f" {json.dumps({k: v for k, v in r['detail'].items() if k != 'kills'})}"),
                      flush=True)
                results.append(r)
        if "corruption" not in skip:
            print("corrupted step files and locks ...", flush=True)
            for r in corruption_probes(s):
                print(f"  {'held' if r['held'] else 'FAILED':<6} {r['name']}", flush=True)
                results.append(r)
        if "hostile" not in skip:
            print("hostile inputs ...", flush=True)
            results += Hostile(s).all()
    finally:
        if tmp is not None:
            tmp.cleanup()
    summary = {**summarise(results), "run_seconds": total, "timeline_s": timeline, "kills": args.kills,
               "seed": args.seed,
               "rows": args.rows, "seconds": round(time.perf_counter() - t_start, 1)}
    print()
    print(markdown(results, summary))
    print("\nsummary: " + json.dumps(summary))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps({"summary": summary, "probes": results}, indent=2,
                                                         default=str) + "\n")
    print(f"wrote {RESULTS / 'reliability.json'}")
    return 0 if summary["held"] == summary["tried"] and summary["rows_lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
