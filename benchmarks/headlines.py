"""The README's headline figures, each taken from a committed result that a docs/benchmarks page shows in full.

    python benchmarks/headlines.py --docs    # rewrite the README section between the markers
    python benchmarks/headlines.py --check   # exit 1 when README.md differs from the results

Every figure is formatted as the page's own table formats it, so the README and the page agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import RESULTS, add_docs_flags, rewrite_docs_section  # noqa: E402

BEGIN, END = "<!-- headlines:begin -->", "<!-- headlines:end -->"
COMMAND = "python benchmarks/headlines.py --docs"


def _load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def detection() -> str:
    tiers = _load("detect_folders.json")["tiers"]
    fast, accurate = tiers["fast"], tiers["accurate"]
    return (f"| tag: rank AI text of sources never trained on (leave-one-folder-out AUROC) | `fast` (default) "
            f"{fast['per_language']['en']['mean_auroc']:.3f} on English folders; `accurate` "
            f"{accurate['summary']['mean_auroc']:.3f} over all seven folders, Arabic included; humans of unseen "
            f"folders flagged at the shipped threshold: `fast` {fast['summary']['mean_fpr_transferred_scored']:.3f} "
            f"on average | [detect](docs/benchmarks/detect.md) |")


def true_share() -> str:
    folders = {k: v for k, v in _load("estimate.json")["folders"].items() if v.get("estimable")}
    same = {k: v["summary"]["quota"]["same"].get("median_true_share") for k, v in folders.items()}
    err = {k: v["summary"]["estimates"]["same"]["median_abs_error"] for k, v in folders.items()}
    best = min(err, key=err.get)
    return (f"| estimate / quota: the true share against same-kind human text | median abs. error "
            f"{err[best]:.3f} ({best}) to {max(err.values()):.3f} ({max(err, key=err.get)}); true share kept by "
            f"`max_synthetic=0.1` from corpora 20% or 40% AI, median per folder: {min(same.values()):.3f} to "
            f"{max(same.values()):.3f} "
            "(the quota holds only where the detector ranks the source well) | [estimate](docs/benchmarks/estimate.md) |")


def quota() -> str:
    r = _load("quota.json")
    big = [x for x in r["runs"] if x["rows"] >= 10_000_000]
    exact = all(r["summary"]["exact_to_the_row"].values())
    return (f"| quota: exact mix at scale | {big[0]['rows']:,} rows in {min(x['seconds'] for x in big)}-"
            f"{max(x['seconds'] for x in big)} s, {'exact to the row' if exact else 'NOT exact'} | "
            "[quota](docs/benchmarks/quota.md) |")


def tails() -> str:
    fams = _load("resample_topics.json")["families"]
    iso = [f["summary"]["static/isolation"]["gain_mean"] for f in fams.values()]
    rnd = [f["summary"]["random"]["gain_mean"] for f in fams.values()]
    dedup = _load("dedup_threshold.json")["models"]["static"]
    return (f"| resample: keep rare real topics (share kept / share before, at most 5.00) | {min(iso):.2f}-"
            f"{max(iso):.2f} (a random sample {min(rnd):.2f}-{max(rnd):.2f}); near-duplicates at the shipped "
            f"threshold {dedup['threshold']}: {dedup['held_out']['merged']:.1%} of light edits merged, "
            f"{dedup['held_out']['distinct_dropped']:.1%} of distinct texts dropped | "
            "[diversity](docs/benchmarks/diversity.md) |")


def reliability() -> str:
    s = _load("reliability.json")["summary"]
    return (f"| clean: kill, corrupt, hostile input | {s['held']} of {s['tried']} probes hold, {s['rows_lost']} rows "
            f"lost ({s['kills']} SIGKILLs and resumes byte-identical) | [reliability](docs/benchmarks/reliability.md) |")


def collapse() -> str:
    d = _load("collapse_demo.json")
    better = [name for name, h in d["scenarios"].items()
              if any(r.get("p_adjusted") is not None and r["p_adjusted"] < 0.05 and r.get("estimate")
                     and float(r["estimate"]) > 0 for r in h["records"] if r["policy"] not in ("replace", "real-only"))]
    return (f"| collapse demo: mitigations against `replace` | {len(better)} of {len(d['scenarios'])} scenarios show "
            "a mitigation better on the tail metric (Holm-adjusted p < 0.05) | "
            "[collapse](docs/benchmarks/collapse.md) |")


def render() -> str:
    rows = [detection(), true_share(), quota(), tails(), reliability(), collapse()]
    return "\n".join(["| what | measured | page |", "|---|---|---|", *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if not (args.docs or args.check):
        print(render())
        return 0
    return rewrite_docs_section(BEGIN, END, render(), args.check, "headlines", COMMAND)


if __name__ == "__main__":
    sys.exit(main())
