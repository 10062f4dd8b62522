"""The README's main job, ``synthfilter collapse demo``, run as the README runs it: wall time, CPU time, what it showed.

    python benchmarks/collapse_demo.py [--out DIR] [--docs]

Runs ``synthfilter collapse demo --out DIR`` in a subprocess (the command the README's set-up
ends with; DIR defaults to a temporary folder), and records its wall time, the CPU time of
the command and its worker processes (user + system), the load average before and after
(other work on the machine inflates the wall time, not much the CPU time) and the core
count. Copies the demo's ``index.md``, ``overview.png``, ``demo.json`` and each scenario's
tables and headline plots to ``benchmarks/results/collapse/demo/`` and writes
``benchmarks/results/collapse_demo.json``: the timings, the plan and, per scenario, the
headline comparisons (last generation, the scenario's tail metric) with their tests and
Holm-adjusted p-values. ``--docs`` then regenerates the docs sections from the results
(``benchmarks/collapse_readme.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proc import write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def time_demo(out: Path) -> dict:
    """Run the demo command into ``out``; its wall and CPU seconds and the load around it."""
    before = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "synthfilter", "collapse", "demo", "--out", str(out)], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"command": "synthfilter collapse demo", "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "load_average_before": [round(x, 2) for x in before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()}


def headline_plots(report: Path) -> list[str]:
    """The headline metrics of a scenario's report (its tail and quality metric)."""
    return json.loads((report / "summary.json").read_text())["headline"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="demo folder (default: a temporary folder)")
    parser.add_argument("--docs", action="store_true", help="then regenerate the collapse sections of the docs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "synthfilter-demo"
        timing = time_demo(out)
        demo = json.loads((out / "demo.json").read_text())
        target = RESULTS / "collapse" / "demo"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in ("index.md", "overview.png", "demo.json"):
            shutil.copy(out / name, target / name)
        for name, h in demo["scenarios"].items():  # each scenario's tables and its headline plots
            report = out / name / "report"
            (target / name / "report").mkdir(parents=True)
            keep = ["summary.md", "summary.json"] + [f"{h['scenario']}_{m}.png" for m in headline_plots(report)]
            for file in keep:
                shutil.copy(report / file, target / name / "report" / file)
    result = {**timing, "policies": demo["policies"], "plan": demo["plan"],
              "demo_seconds": demo["seconds"], "scenarios": demo["scenarios"]}
    write_result("collapse_demo.json", result, indent=1, note=f" and the demo's index and reports under {target}")
    print(f"demo: {timing['wall_seconds']} s wall, {timing['cpu_seconds']} s CPU, load average "
          f"{timing['load_average_before'][0]} -> {timing['load_average_after'][0]} on {timing['cpu_count']} cores")
    if args.docs:
        return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "collapse_readme.py")], cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
