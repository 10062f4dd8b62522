"""Scale benchmark: ``synthfilter clean`` with default options on real-length documents, local vs Ray.

    python benchmarks/scale.py [--rows 1000000] [--resample 100000] [--engines local,ray]
    python benchmarks/scale.py [--rows N] --docs | --check   (the docs section from scale[_N].json)

Builds ``--rows`` documents of about 200 words (150-250) from real text of the shared
data: sentences of the human texts of every English folder (and WikiText-2), recombined
in seeded random order, so the words, topics and sentence lengths are real while the
documents are many; 3% of the documents repeat an earlier one verbatim and 2% repeat one
with a light edit (a few words changed), so near-duplicate removal has work. Then runs
``synthfilter clean IN OUT --max-synthetic 0.1 --resample N`` with every other option at
its default (detector ``fast``, the default embedder, its near-duplicate threshold, 2
workers) with ``--engine local`` and ``--engine ray``, each in a fresh process, and
records the wall time, the seconds of every step (``report.json``), the peak resident
memory of the whole process tree during every step (sampled every 0.5 s), the load
average, and whether the two outputs are byte-identical.
Writes benchmarks/results/scale.json (``scale_<rows>.json`` for other sizes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proc import RESULTS, add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
import topic_pools  # noqa: E402

BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
COMMAND = "python benchmarks/scale.py [--rows N] --docs"
NOT_MEASURED = "(not measured yet: run `python benchmarks/scale.py` on an idle machine)"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences() -> list[str]:
    """Sentences (5-60 words) of the English human texts of the shared data and of WikiText-2."""
    out: list[str] = []
    for family in ("mixed",):
        for texts in topic_pools.topics(family).values():
            for text in texts:
                out += [s for s in _SENTENCE.split(text) if 5 <= len(s.split()) <= 60]
    return sorted(set(out))


def generate(path: Path, rows: int, seed: int = 0) -> dict:
    """``rows`` JSONL documents of 150-250 words recombined from real sentences (see the module docs)."""
    pool = sentences()
    lengths = np.array([len(s.split()) for s in pool])
    rng = np.random.default_rng(seed)
    words = 0
    with open(path, "w", encoding="utf-8") as handle:
        recent: list[str] = []
        for i in range(rows):
            u = rng.random()
            if recent and u < 0.03:
                text = recent[int(rng.integers(0, len(recent)))]
            elif recent and u < 0.05:
                ws = recent[int(rng.integers(0, len(recent)))].split()
                for _ in range(int(rng.integers(1, 4))):
                    ws[int(rng.integers(0, len(ws)))] = pool[int(rng.integers(0, len(pool)))].split()[0]
                text = " ".join(ws)
            else:
                target, parts, n = int(rng.integers(150, 251)), [], 0
                while n < target:
                    j = int(rng.integers(0, len(pool)))
                    parts.append(pool[j])
                    n += int(lengths[j])
                text = " ".join(parts)
                recent = (recent + [text])[-1000:]
            words += len(text.split())
            handle.write(json.dumps({"id": i, "text": text}) + "\n")
    return {"sentences": len(pool), "mean_words": round(words / max(rows, 1), 1)}


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_clean(engine: str, src: Path, out: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "synthfilter.cli", "clean", str(src), str(out), "--max-synthetic", "0.1",
           "--resample", str(args.resample), "--engine", engine]
    samples: list[tuple[float, int]] = []
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), _tree_rss(proc.pid)))
            done.wait(0.5)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    done.set()
    watcher.join()
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} run failed:\n{stderr[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    steps, start = {}, t0
    for n, name in enumerate(report["steps"], start=1):
        end = (out / "steps" / f"{n}-{name}" / "_SUCCESS").stat().st_mtime
        peak = max((r for t, r in samples if start <= t <= end), default=0)
        steps[name] = {"seconds": report["steps"][name].get("seconds"), "peak_rss_gb": round(peak / 2**30, 2),
                       "rows_out": report["steps"][name]["rows_out"]}
        start = end
    tail = max((r for t, r in samples if t >= start), default=0)
    output = Path(report["output"])
    return {"wall_s": round(wall, 1), "docs_per_s": round(args.rows / wall, 1), "rows_out": report["rows_out"],
            "steps": steps, "after_steps": {"seconds": round(t0 + wall - start, 1), "peak_rss_gb": round(tail / 2**30, 2)},
            "peak_rss_gb": round(max((r for _, r in samples), default=0) / 2**30, 2),
            "dedup_dropped": report["steps"]["dedup"].get("dropped"),
            "output_sha256": hashlib.sha256(output.read_bytes()).hexdigest(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def render(r: dict) -> str:
    steps = list(next(iter(r["runs"].values()))["steps"])
    rows = [f"| engine ({r['rows']:,} documents of ~{r['data']['mean_words']:.0f} words, resample to {r['resample']:,}) "
            "| wall time (s) | documents/second | " + " | ".join(f"{s}: s / peak GB" for s in steps) + " | rows out |",
            "|---|---|---|" + "---|" * len(steps) + "---|"]
    for engine, x in r["runs"].items():
        rows.append(f"| {engine} | {x['wall_s']:,} | {x['docs_per_s']:,} | "
                    + " | ".join(f"{x['steps'][s]['seconds']:,.0f} / {x['steps'][s]['peak_rss_gb']}" for s in steps)
                    + f" | {x['rows_out']:,} |")
    rows.append("")
    line = (f"Options: {r['options']}. Load average at start {r['load_average_at_start'][0]}, "
            + ", ".join(f"after {e} {x['load_average_after'][0]}" for e, x in r["runs"].items()) + f" ({r['machine']['cpus']} cores).")
    if "identical_output" in r:
        line += (f" Ray / local wall time: {r['ray_over_local_wall']}x; byte-identical output: "
                 f"{'yes' if r['identical_output'] else 'NO'}.")
    rows.append(line)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resample", type=int, default=None, help="rows kept (default: a tenth of --rows)")
    parser.add_argument("--engines", default="local,ray")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    name = "scale.json" if args.rows == 1_000_000 else f"scale_{args.rows}.json"
    if args.docs or args.check:
        path = RESULTS / name
        body = render(json.loads(path.read_text())) if path.exists() else NOT_MEASURED
        return rewrite_docs_section(BEGIN, END, body, args.check, "scale", COMMAND)
    if not topic_pools.available():
        print(f"skipped: {topic_pools.DETECT} not found")
        return 0
    args.resample = args.resample or args.rows // 10
    work = Path(tempfile.mkdtemp(prefix="sf-scale-"))
    try:
        src = work / "docs.jsonl"
        t0 = time.perf_counter()
        data = generate(src, args.rows)
        print(f"generated {args.rows} documents ({src.stat().st_size / 1e6:.0f} MB, {data['mean_words']} words "
              f"on average) in {time.perf_counter() - t0:.0f} s", flush=True)
        result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "rows": args.rows,
                  "resample": args.resample, "data": data,
                  "options": f"--max-synthetic 0.1 --resample {args.resample}, every other option at its default",
                  "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "runs": {}}
        for engine in args.engines.split(","):
            result["runs"][engine] = run_clean(engine, src, work / engine, args)
            print(f"  {engine}: {json.dumps(result['runs'][engine])}", flush=True)
        runs = result["runs"]
        if {"local", "ray"} <= set(runs):
            result["identical_output"] = runs["local"]["output_sha256"] == runs["ray"]["output_sha256"]
            result["ray_over_local_wall"] = round(runs["ray"]["wall_s"] / runs["local"]["wall_s"], 3)
        write_result(name, result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rewrite_docs_section(BEGIN, END, render(result), False, "scale", COMMAND)


if __name__ == "__main__":
    sys.exit(main())
