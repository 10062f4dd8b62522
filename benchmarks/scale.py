"""Scale benchmark: ``synthfilter clean`` on generated short documents, local vs Ray engine.

    python benchmarks/scale.py [--rows 1000000] [--resample 100000] [--workers 2]

Generates ``--rows`` short documents (two styles, 15-40 words, 5% verbatim repeats so
dedup has work), runs ``clean --max-synthetic 0.01 --detector fast --embedder hashing`` with
``--engine local``
and ``--engine ray``, each in a fresh process, and records wall time, documents per
second, time per step and whether the two outputs are byte-identical. Writes
benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

_CASUAL = ("honestly the bus was late again and my coffee went cold so i just sat there reading about "
           "the match we lost on penalties nobody expected that keeper to save two lol anyway tomorrow "
           "i fix the shed roof before it rains again").split()
_FORMAL = ("furthermore it is important to note that comprehensive strategies foster seamless collaboration "
           "across diverse teams while ensuring robust sustainable outcomes in an evolving landscape of "
           "innovation and growth overall").split()


def generate(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    recent: list[str] = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            if recent and rng.random() < 0.05:  # verbatim repeats for the dedup step
                text = rng.choice(recent)
            else:
                vocab = _FORMAL if rng.random() < 0.4 else _CASUAL
                text = " ".join(rng.choice(vocab) for _ in range(rng.randint(15, 40))).capitalize() + "."
                recent = (recent + [text])[-1000:]
            handle.write(json.dumps({"id": i, "text": text, "topic": rng.randint(0, 20)}) + "\n")


def run_clean(engine: str, src: Path, out: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "synthfilter.cli", "clean", str(src), str(out), "--max-synthetic", "0.01",
           "--resample", str(args.resample), "--engine", engine, "--workers", str(args.workers),
           "--detector", "fast", "--embedder", "hashing", "--batch-size", "5000"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} run failed:\n{proc.stderr[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    output = Path(report["output"])
    return {"wall_s": round(wall, 1), "docs_per_s": round(args.rows / wall, 1),
            "rows_out": report["rows_out"], "realised_synthetic_share": report["realised_synthetic_share"],
            "steps_rows_out": {k: v["rows_out"] for k, v in report["steps"].items()},
            "output_sha256": hashlib.sha256(output.read_bytes()).hexdigest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resample", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engines", default="local,ray")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sf-scale-"))
    try:
        src = work / "docs.jsonl"
        t0 = time.perf_counter()
        generate(src, args.rows)
        print(f"generated {args.rows} documents ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s",
              flush=True)
        runs = {}
        for engine in args.engines.split(","):
            runs[engine] = run_clean(engine, src, work / engine, args)
            print(f"  {engine}: {json.dumps(runs[engine])}", flush=True)
        result = {"machine": {"cpus": mp.cpu_count(), "python": platform.python_version()},
                  "rows": args.rows, "resample": args.resample, "workers": args.workers,
                  "detector": "fast", "embedder": "hashing", "runs": runs}
        if {"local", "ray"} <= set(runs):
            result["identical_output"] = runs["local"]["output_sha256"] == runs["ray"]["output_sha256"]
            result["ray_over_local_wall"] = round(runs["ray"]["wall_s"] / runs["local"]["wall_s"], 3)
        print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = "scale.json" if (args.rows, args.workers) == (1_000_000, 2) else f"scale_{args.rows}_w{args.workers}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS / name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
