"""The README's report picture (docs/report.png), drawn from a real `synthfilter clean` run.

    python benchmarks/report_picture.py [--folder glimpse] [--resample 150] [--seed 0]

The corpus is built from ``../shared/data/detect`` as ``benchmarks/clean_true_share.py``'s dated
scenario builds it (its ``corpora``): 1,500 rows of one folder "first seen" in 2024, 40% of them AI,
plus up to 500 human rows of the folder's other groups first seen in 2019, which are the corpus's own
reference. Then, in a subprocess, exactly

    synthfilter clean IN OUT --max-synthetic 0.1 --first-seen-column date --human-before 2022-11-30 --resample N

with every other option at its default (the shipped ``fast`` detector, which was trained on these
folders among others: this is a picture of the product at work, not a held-out benchmark; those are
on docs/benchmarks/estimate.md). The true class (``truth``) rides along beside the text, so the
picture shows the true share of the input and of the output next to what the run estimated and
certified. No headless browser is needed: the key figures of ``report.html`` are drawn with
matplotlib from ``report.json``. Writes docs/report.png and benchmarks/results/report_picture.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from clean_true_share import corpora, write_jsonl  # noqa: E402
from benchmarks._proc import write_result  # noqa: E402
from synthfilter.detect.corpus import default_corpus_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / "docs" / "report.png"
CUT = "2022-11-30"


def run_clean(src: Path, out: Path, resample: int) -> list[str]:
    """``synthfilter clean`` with default options but the recipe's; returns the command line."""
    command = [sys.executable, "-m", "synthfilter", "clean", str(src), str(out), "--max-synthetic", "0.1",
               "--first-seen-column", "date", "--human-before", CUT, "--resample", str(resample)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    if done.returncode != 0:
        raise SystemExit(f"synthfilter clean failed:\n{done.stderr[-2000:]}")
    return ["synthfilter", *command[3:]]


def summarise(out: Path, rows_in: list[dict]) -> dict:
    """What the picture shows: the run's own figures (report.json) beside the true shares."""
    report = json.loads((out / "report.json").read_text())
    output = [json.loads(line) for line in (out / "output.jsonl").read_text().splitlines()]
    post = [r for r in rows_in if r["date"] >= CUT]
    est = report["estimated_synthetic_share"]
    resample = report["steps"]["resample"]
    return {
        "rows_in": len(rows_in), "rows_out": len(output),
        "true_share_in": sum(r["truth"] for r in rows_in) / len(rows_in),
        "true_share_undated": sum(r["truth"] for r in post) / len(post),
        "true_share_out": sum(r["truth"] for r in output) / len(output),
        "labelled_before": est["before"]["naive"],
        "estimate_before": {k: est["before"][k] for k in ("share", "low", "high")},
        "certified_after": {k: est["after"][k] for k in ("share", "low", "high")},
        "steps": {name: step["rows_out"] for name, step in report["steps"].items()},
        "dropped": report["dropped"],
        "clusters_before": resample["before"], "clusters_after": resample["after"],
        "coverage_entropy": [resample["coverage_entropy_before"], resample["coverage_entropy_after"]],
    }


def draw(s: dict, command: list[str], folder: str, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(11, 7.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
    fig.suptitle(f"synthfilter clean on real text ({folder}: {s['rows_in']:,} rows, "
                 f"{s['true_share_in']:.0%} AI) -> {s['rows_out']} rows", fontsize=13, x=0.01, ha="left")
    fig.text(0.01, 0.935, " ".join(command).replace(command[2], "IN").replace(command[3], "OUT"),
             family="monospace", fontsize=8.5, color="#444")

    ax = fig.add_subplot(grid[0, :])
    eb, ca = s["estimate_before"], s["certified_after"]
    bars = [("true share, rows after the cut\n(not seen by the run)", s["true_share_undated"], None, "#bbbbbb"),
            ("labelled synthetic (threshold\ncalibrated on the reference)", s["labelled_before"], None, "#9ecae1"),
            ("estimated true share\nbefore (90% interval)", eb["share"], (eb["low"], eb["high"]), "#3182bd"),
            ("certified share after\nthe quota (interval)", ca["share"], (ca["low"], ca["high"]), "#31a354"),
            ("true share of the output\n(not seen by the run)", s["true_share_out"], None, "#bbbbbb")]
    for i, (label, value, interval, colour) in enumerate(bars):
        ax.bar(i, value, color=colour, width=0.6)
        if interval:
            ax.errorbar(i, value, yerr=[[value - interval[0]], [interval[1] - value]], color="black", capsize=6)
        ax.text(i, (interval[1] if interval else value) + 0.01, f"{value:.1%}", ha="center", va="bottom")
    ax.axhline(0.1, color="#d62728", linestyle="--", linewidth=1)
    ax.text(len(bars) - 0.55, 0.103, "--max-synthetic 0.1", color="#d62728", ha="right", va="bottom", fontsize=9)
    ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=9)
    ax.set_ylabel("synthetic share")
    ax.set_ylim(0, max(0.5, eb["high"] + 0.08))
    ax.set_title("The quota holds the estimated true share (reference: the corpus's own rows dated before "
                 f"{CUT})", fontsize=10.5)

    ax = fig.add_subplot(grid[1, 0])
    names = ["input", *s["steps"]]
    counts = [s["rows_in"], *s["steps"].values()]
    ax.bar(range(len(names)), counts, color="#6baed6")
    for i, c in enumerate(counts):
        ax.text(i, c, f"{c:,}", ha="center", va="bottom", fontsize=8.5)
    ax.set_xticks(range(len(names)), names, fontsize=9)
    ax.set_ylabel("rows")
    ax.set_ylim(0, max(counts) * 1.12)
    ax.set_title("Rows after each step (every dropped row is in dropped/ with its reason)", fontsize=10)

    ax = fig.add_subplot(grid[1, 1])
    order = sorted(s["clusters_before"], key=lambda k: -s["clusters_before"][k])
    x = range(len(order))
    ax.bar([i - 0.2 for i in x], [s["clusters_before"][k] for k in order], width=0.4, label="before", color="#3182bd")
    ax.bar([i + 0.2 for i in x], [s["clusters_after"].get(k, 0) for k in order], width=0.4, label="after",
           color="#fd8d3c")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("cluster (largest first)")
    ax.set_ylabel("rows")
    ax.legend(fontsize=8)
    kept = sum(1 for k in order if s["clusters_after"].get(k, 0) > 0)
    ax.set_title(f"Tail resampling: {kept} of {len(order)} clusters kept, small ones whole", fontsize=10)

    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--folder", default="glimpse")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resample", type=int, default=150,
                        help="rows kept (near-duplicate removal leaves about 250 of this folder's 2,000)")
    parser.add_argument("--out", default=str(PICTURE))
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"SKIP: detector corpus not found at {data} (see ../shared/data/README.md)")
        return 0
    post, known = corpora(args.folder, args.seed, data)
    rows = post + known
    with tempfile.TemporaryDirectory(prefix="sf-picture-") as tmp:
        src = write_jsonl(Path(tmp) / "in.jsonl", rows)
        command = run_clean(src, Path(tmp) / "out", args.resample)
        summary = summarise(Path(tmp) / "out", rows)
    draw(summary, command, args.folder, Path(args.out))
    write_result("report_picture.json", {"folder": args.folder, "seed": args.seed, "resample": args.resample,
                                         "command": " ".join(command[:2] + ["IN", "OUT"] + command[4:]),
                                         **summary})
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
