"""Reliability probes: kill-and-resume, corrupted step files, hostile inputs, issue 30's failures and a sweep.

    python benchmarks/reliability.py [--kills 20] [--seed 0] [--rows 4000] [--work DIR] [--skip kills,...]
                                     [--only issue30,sweep] [--docs | --check]

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
   byte-identical to the reference, ``report.json`` and ``manifest.json`` equal the
   reference's except timings (``seconds``), the per-step ``resumed`` flags and the run
   folder's own path (in the command and the output paths), and the run lock is
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
5. Issue 30's failures, re-run (:mod:`reliability_probes.issue30`): stale results after a detector file is
   replaced at the same path, ``clean`` in a folder it did not write, JSON text decoded, outputs reached
   through symlinks or named like the input, a group named ``<null>``, a stray hidden Parquet file in a
   step folder, file symlinks read twice, invalid UTF-8, a 96,000-character token (timed against ordinary
   text of the same length: at most 5x), orphan workers after SIGKILL, temporary files after a killed
   final write, a full disk (a tmpfs in a private mount namespace), unclear errors.
6. A sweep of other probes (:mod:`reliability_probes.sweep_inputs`, ``sweep_commands``, ``sweep_engines``):
   other formats and encodings, huge and empty inputs, every other command (quota, resample, estimate,
   calibrate, detector fit, reservoir), ``IterableDataset``, Ray, concurrent runs.

The docs section between ``<!-- reliability:begin -->`` and ``<!-- reliability:end -->`` is generated
from the JSON (``--docs`` rewrites only it, ``--check`` compares); a full run (nothing skipped) rewrites
it too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import RESULTS, add_docs_flags, rewrite_docs_section  # noqa: E402
from benchmarks.reliability_probes.common import Setup  # noqa: E402
from benchmarks.reliability_probes.corruption import corruption_probes  # noqa: E402
from benchmarks.reliability_probes.hostile import Hostile  # noqa: E402
from benchmarks.reliability_probes.issue30 import Issue30  # noqa: E402
from benchmarks.reliability_probes.kills import kill_points, kill_probe, reference_run  # noqa: E402
from benchmarks.reliability_probes.sweep_commands import SweepCommands  # noqa: E402
from benchmarks.reliability_probes.sweep_engines import SweepEngines  # noqa: E402
from benchmarks.reliability_probes.sweep_inputs import SweepInputs  # noqa: E402

BEGIN, END = "<!-- reliability:begin -->", "<!-- reliability:end -->"
PARTS = ("kills", "corruption", "hostile", "issue30", "sweep")

# ----------------------------------------------------------------------------- report
GROUPS = {"reference": "reference run", "kill": "kill and resume", "corruption": "corrupted step files and locks",
          "hostile": "hostile inputs", "issue30": "issue 30's failures, re-run", "sweep": "new sweep"}


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
    """The per-group table and one row per probe (the docs section)."""
    lines = ["| probe group | tried | held | rows lost |", "|---|---|---|---|"]
    lines += [f"| {g} | {x['tried']} | {x['held']} | {x['rows_lost']} |" for g, x in summary["by_group"].items()]
    lines += [f"| **all** | **{summary['tried']}** | **{summary['held']}** | **{summary['rows_lost']}** |", "",
              "| group | probe | expected | held | rows in | rows out | rows explained | rows lost |",
              "|---|---|---|---|---:|---:|---:|---:|"]
    for r in results:
        name = r["name"].replace("|", "\\|")
        if r["kind"] == "kill":
            name += " (killed during " + "; then ".join(k["state"] for k in r["detail"]["kills"]) + ")"
        lines.append(f"| {r['kind']} | {name} | {r['expected'].replace('|', '/')} | {'yes' if r['held'] else '**no**'} | "
                     f"{r['rows_in']} | {r['rows_out']} | {r['rows_explained']} | {r['rows_lost']} |")
    return "\n".join(lines)


def readme_section(result: dict[str, Any]) -> str:
    """The README's reliability section: the verdict, then every probe's."""
    s = result["summary"]
    timing = next((p["detail"] for p in result["probes"] if p["name"].startswith("a 96,000-character token")), None)
    lines = [f"{s['tried']} probes, {s['held']} held, {s['rows_lost']} rows lost"
             + (f" (parts skipped: {', '.join(s['skipped'])})" if s.get("skipped") else "") + "."]
    if timing and "ratio" in timing:
        lines[0] += (f" A 96,000-character token took {timing['ratio']:.1f}x the time of ordinary text of the same "
                     f"length to tag (target at most 5x; load average {timing['loadavg'][0]:.1f} during the run).")
    not_held = s.get("not_held") or []
    lines[0] += " Every probe holds." if not not_held else f" Not held: {'; '.join(not_held)}."
    return "\n".join(lines) + "\n\n" + markdown(result["probes"], s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="kill-and-resume probes (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=4000, help="rows of the generated input (default 4000)")
    parser.add_argument("--work", default=None, help="keep the work files in this folder (default: a temporary one)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to skip: {', '.join(PARTS)}")
    parser.add_argument("--only", default="", help="comma-separated parts to run (the others are skipped)")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if args.docs or args.check:
        return rewrite_docs_section(BEGIN, END, readme_section(json.loads((RESULTS / "reliability.json").read_text())),
                                    args.check, "reliability", "python benchmarks/reliability.py --docs")
    skip = {p for p in args.skip.split(",") if p}
    if args.only:
        skip |= set(PARTS) - {p for p in args.only.split(",") if p}
    unknown = skip - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; the parts are {', '.join(PARTS)}")
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
        if "issue30" not in skip:
            print("issue 30's failures, re-run ...", flush=True)
            results += Issue30(s).all()
        if "sweep" not in skip:
            print("new sweep ...", flush=True)
            for group in (SweepInputs, SweepCommands, SweepEngines):
                results += group(s).all()
    finally:
        if tmp is not None:
            tmp.cleanup()
    summary = {**summarise(results), "run_seconds": total, "timeline_s": timeline, "kills": args.kills,
               "seed": args.seed, "rows": args.rows, "skipped": sorted(skip),
               "seconds": round(time.perf_counter() - t_start, 1), "loadavg": list(os.getloadavg())}
    print()
    print(markdown(results, summary))
    print("\nsummary: " + json.dumps(summary))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps({"summary": summary, "probes": results}, indent=2,
                                                         default=str) + "\n")
    print(f"wrote {RESULTS / 'reliability.json'}")
    if not skip:
        rewrite_docs_section(BEGIN, END, readme_section({"summary": summary, "probes": results}), False,
                             "reliability", "python benchmarks/reliability.py --docs")
    return 0 if summary["held"] == summary["tried"] and summary["rows_lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
