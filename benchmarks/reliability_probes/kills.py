"""Kill and resume: the reference run (rows accounted step by step, a second run byte-identical) and SIGKILL
at seeded points of ``clean``, then a rerun compared byte for byte."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import (LOCK_NAME, REPO, STEPS, Setup, account_clean, cli, compare_with_reference, env_for, error_line,
                     fit_detector, make_corpus, progress_state, read_jsonl, reap_group)


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


