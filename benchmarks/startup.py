"""Start-up time of the command line: ``synthfilter --help`` and ``synthfilter clean --help``.

    python benchmarks/startup.py [--runs 15] [--label after]

Each command runs ``--runs`` times in a fresh process (the ``synthfilter`` console script when it is on
PATH, else ``python -m synthfilter``); the median, minimum and maximum wall time are recorded with the
load average before and after the runs, and the heavy libraries (torch, transformers, datasets, sklearn,
pyarrow, ray, ...) that building the help imports, found in one more fresh process. Results are kept per
``--label`` (default: ``after``), so a run of the code before a change (``--label before``) and after it
sit side by side in benchmarks/results/startup.json. The target is ``--help`` under 1 s on an idle
machine; a loaded machine inflates every figure, which is why the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _proc import RESULTS, write_result  # noqa: E402

HEAVY = ("torch", "transformers", "datasets", "sklearn", "pyarrow", "ray", "scipy", "pandas", "numpy",
         "huggingface_hub", "matplotlib", "onnxruntime", "tokenizers")
COMMANDS = {"--help": ["--help"], "clean --help": ["clean", "--help"]}
_PROBE = ("import sys\nfrom synthfilter.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
          "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[0].split(',')))), "
          "file=sys.stderr)\n")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def launcher() -> list[str]:
    """The ``synthfilter`` console script when it is installed, else ``python -m synthfilter``."""
    script = shutil.which("synthfilter")
    return [script] if script else [sys.executable, "-m", "synthfilter"]


def time_command(argv: list[str], runs: int) -> dict:
    """Wall seconds of ``argv`` over ``runs`` fresh processes (after one untimed run that warms the file cache)."""
    env = _environment()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        seconds.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3), "runs": runs}


def heavy_imports(args: list[str]) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after ``synthfilter <args>`` builds its help."""
    proc = subprocess.run([sys.executable, "-c", _PROBE.replace("sys.argv[0]", repr(",".join(HEAVY)))] + args,
                          env=_environment(), capture_output=True, text=True, check=True)
    return proc.stderr.strip().splitlines()[-1].split() if proc.stderr.strip() else []


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command (default: 15)")
    parser.add_argument("--label", default="after", help="name of this measurement in the JSON (default: after)")
    args = parser.parse_args(argv)
    base = launcher()
    entry = {"commit": _commit(), "launcher": " ".join(Path(base[0]).name if i == 0 else a for i, a in enumerate(base)),
             "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(), "commands": {}}
    for name, extra in COMMANDS.items():
        entry["commands"][name] = time_command(base + extra, args.runs)
        entry["commands"][name]["heavy_imports"] = heavy_imports(extra)
        print(f"synthfilter {name}: median {entry['commands'][name]['median_s']:.3f} s over {args.runs} runs; "
              f"heavy imports: {', '.join(entry['commands'][name]['heavy_imports']) or 'none'}")
    entry["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average {entry['load_average_at_start']} -> {entry['load_average_at_end']} on {os.cpu_count()} CPUs")
    path = RESULTS / "startup.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result.setdefault("target", "synthfilter --help median under 1 s on an idle machine")
    result.setdefault("command", "python benchmarks/startup.py --label <name>")
    result.setdefault("measurements", {})[args.label] = entry
    write_result("startup.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
