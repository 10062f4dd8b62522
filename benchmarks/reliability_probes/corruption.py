"""Corrupted step files and locks: a finished reference folder damaged, then ``clean`` rerun."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from synthfilter.pipeline import step_folder

from .common import LOCK_NAME, STEPS, Setup, cli, compare_with_reference, error_line


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
        ("truncated Parquet file", step_folder("quota"), truncate),
        ("bytes flipped in a Parquet file", step_folder("embed"), flip),
        ("Parquet file deleted", step_folder("dedup"), delete),
        ("stray file in a step folder", step_folder("tag"), stray),
        ("step report.json edited", step_folder("resample"), edit_report),
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

