"""`synthfilter clean` holds the true synthetic share: end to end, on sources the detector never saw.

    python benchmarks/clean_true_share.py [--seeds 3] [--folders a,b] [--embedder NAME] [--docs | --check]

For each English folder of ``../shared/data/detect`` the shipped ``fast`` recipe is
retrained without it (``benchmarks/_lofo.py``) and saved as a detector file, which
``clean --detector`` takes, as a user's own detector would be. Per seed the folder's
groups are split as in ``benchmarks/estimate.py`` and two corpora are written as JSONL
(each distinct text once per class: some folders repeat a human text, whole or cut shorter,
under several generators' files; a folder with fewer distinct texts gives a smaller corpus):

* **dated**: 1,500 rows "first seen" in 2024, 40% of them AI, plus up to 500 human rows
  of the other groups first seen in 2019; ``clean IN OUT --max-synthetic 0.1 --resample
  N --first-seen-column date --human-before 2022-11-30`` (no other file);
* **reference**: the 1,500 rows alone, with the 500 human rows as ``--reference``;
  ``--resample N``; N is 30% (dated) or 25% (reference) of the post-cut rows (450 / 375 of 1,500).

Every other option is ``clean``'s default. Measured: the true AI share of ``output.jsonl``
(from the labels kept beside the text), its rows, the rows left after the quota, what the
report certified, and whether the run refused. Writes ``benchmarks/results/clean_true_share.json``
and the docs section between the markers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lofo import lofo_detector_path, tagged_folder  # noqa: E402
from benchmarks._proc import RESULTS, add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
from synthfilter.detect.corpus import default_corpus_dir  # noqa: E402
from synthfilter.pipeline import CleanConfig, clean  # noqa: E402

ENGLISH = ("fastdetectgpt", "glimpse", "l2r", "outfox", "seqxgpt")
CORPUS_ROWS, AI_SHARE, DATED_ROWS = 1500, 0.4, 500
#: --resample as a share of the post-cut rows: 450 of 1,500 is what the issue asks a quota to keep at 40% AI
SCENARIOS = {"dated": 0.3, "reference": 0.25}
BEGIN, END = "<!-- clean-true-share:begin -->", "<!-- clean-true-share:end -->"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def corpora(name: str, seed: int, data: Path) -> tuple[list[dict], list[dict]]:
    """(post-cut corpus rows, known-human rows of other groups), with ``truth`` kept beside the text."""
    tagged = tagged_folder(data, name)
    truth = np.asarray(tagged["truth"])
    scored = np.isfinite(np.asarray(tagged["sf_score"], dtype=np.float64))
    groups = np.asarray(tagged["group"], dtype=object)
    texts = tagged["text"]
    # some folders repeat one human text (whole or cut at another length) under several generators' files: each
    # text once per class (by its first 200 characters, spacing and case ignored; an AI text continuing a human
    # prefix stays), so that dated rows, reference and corpus never share a text and near-duplicate removal
    # measures nothing of the folder's making
    heads = np.asarray([f"{c}:{' '.join(str(t).lower().split())[:200]}" for c, t in zip(truth, texts)], dtype=object)
    distinct = np.zeros(len(texts), dtype=bool)
    distinct[np.unique(heads, return_index=True)[1]] = True
    scored &= distinct
    rng = np.random.default_rng([seed, sum(map(ord, name)), 1])
    unique = np.unique(groups)
    in_ref = np.isin(groups, unique[rng.permutation(len(unique))[: len(unique) // 3]])
    pool_h = np.flatnonzero(~in_ref & (truth == 0) & scored)
    pool_a = np.flatnonzero(~in_ref & (truth == 1) & scored)
    n = CORPUS_ROWS
    while n > 0 and (round(AI_SHARE * n) > len(pool_a) or n - round(AI_SHARE * n) > len(pool_h)):
        n -= 1
    k = round(AI_SHARE * n)
    post = np.r_[rng.choice(pool_a, k, replace=False), rng.choice(pool_h, n - k, replace=False)]
    known = np.flatnonzero(in_ref & (truth == 0) & scored)
    known = rng.choice(known, min(DATED_ROWS, len(known)), replace=False)

    def rows(idx: np.ndarray, date: str) -> list[dict]:
        return [{"text": texts[int(i)], "truth": int(truth[i]), "date": date} for i in idx]

    order = rng.permutation(len(post))
    return rows(post[order], "2024-01-01"), rows(known, "2019-01-01")


def one_run(name: str, seed: int, scenario: str, data: Path, embedder: str | None, tmp: Path) -> dict:
    post, known = corpora(name, seed, data)
    resample = round(SCENARIOS[scenario] * len(post))
    folder = tmp / f"{name}-{seed}-{scenario}"
    folder.mkdir(parents=True)
    options = dict(max_synthetic=0.1, resample=resample, detector=str(lofo_detector_path(data, name)), seed=seed)
    if embedder:
        options["embedder"] = embedder
    if scenario == "dated":
        src = write_jsonl(folder / "in.jsonl", post + known)
        options.update(first_seen_column="date", human_before="2022-11-30")
    else:
        src = write_jsonl(folder / "in.jsonl", post)
        options["reference"] = str(write_jsonl(folder / "ref.jsonl", [{"text": r["text"]} for r in known]))
    run = {"folder": name, "seed": seed, "scenario": scenario, "rows_in": len(post) + (len(known) if scenario == "dated"
                                                                                      else 0),
           "true_share_in": round(sum(r["truth"] for r in post) / (len(post) + (len(known) if scenario == "dated"
                                                                                 else 0)), 4),
           "reference_rows": len(known), "resample": resample}
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = clean(src, folder / "out", CleanConfig(**options), progress=False)
    except ValueError as err:  # a refusal (unfit reference, too few rows left) is a result, not a crash
        run.update(refused=True, why=str(err)[:200], seconds=round(time.perf_counter() - started, 1))
        return run
    out = [json.loads(line) for line in (folder / "out" / "output.jsonl").read_text().splitlines()]
    est = report.get("estimated_synthetic_share") or {}
    after = est.get("after") or {}
    run.update(refused=False, rows_out=len(out), true_share_out=round(sum(r["truth"] for r in out) / len(out), 4),
               rows_after_quota=report["steps"]["quota"]["rows_out"],
               true_share_after_quota=_true_share_after(folder / "out"),
               estimated_before=(est.get("before") or {}).get("share"),
               certified=[after.get("low"), after.get("high")],
               seconds=round(time.perf_counter() - started, 1))
    return run


def _true_share_after(out: Path) -> float:
    """The true AI share of the quota step's output (read from its Parquet files, ``truth`` kept beside the text)."""
    import pyarrow.parquet as pq

    folder = next(p for p in (out / "steps").iterdir() if p.name.endswith("-quota"))
    truth = np.concatenate([pq.read_table(f, columns=["truth"]).column("truth").to_numpy()
                            for f in sorted(folder.glob("*.parquet"))])
    return round(float(truth.mean()), 4) if len(truth) else 0.0


def summarise(runs: list[dict]) -> dict:
    out = {}
    for name in dict.fromkeys(r["folder"] for r in runs):
        for scenario in SCENARIOS:
            rs = [r for r in runs if r["folder"] == name and r["scenario"] == scenario]
            done = [r for r in rs if not r["refused"]]
            out.setdefault(name, {})[scenario] = {
                "runs": len(rs), "refused": sum(r["refused"] for r in rs),
                "corpus_rows": min((r["rows_in"] - (r["reference_rows"] if scenario == "dated" else 0) for r in rs),
                                   default=None),
                "worst_true_share_after_quota": max((r["true_share_after_quota"] for r in done), default=None),
                "median_true_share_after_quota": (float(np.median([r["true_share_after_quota"] for r in done]))
                                                  if done else None),
                "worst_true_share_out": max((r["true_share_out"] for r in done), default=None),
                "median_true_share_out": float(np.median([r["true_share_out"] for r in done])) if done else None,
                "min_rows_after_quota": min((r["rows_after_quota"] for r in done), default=None),
                "exact_rows_out": all(r["rows_out"] == r["resample"] for r in done) if done else None,
                "why_refused": sorted({r["why"] for r in rs if r["refused"]})[:2]}
    return out


def render(result: dict) -> str:
    def f(x, spec=".3f"):
        return "-" if x is None else format(x, spec)

    p = result["protocol"]
    summary = summarise(result["runs"])
    lines = [f"`clean` with default options but the held-out detector (`--detector`), {p['seeds']} seeds; the input is "
             f"up to {p['corpus_rows']:,} distinct rows first seen after the cut (fewer where the folder has fewer "
             f"distinct texts), {p['ai_share']:.0%} of them AI, plus (dated) up to {p['dated_rows']} human rows first "
             "seen before it, or (reference) those rows as `--reference`; `--resample` takes "
             f"{p['resample']['dated']:.0%} (dated) or {p['resample']['reference']:.0%} (reference) of the post-cut "
             "rows. True share of the rows the quota kept and of `output.jsonl` (after near-duplicate removal and "
             "tail resampling), worst run / median; rows left after the quota (fewest); runs refused:", "",
             "| held-out folder | AUROC | post-cut rows | dated: after quota | dated: output | rows after quota | "
             "reference: after quota | reference: output | rows after quota | refused |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, x in summary.items():
        cells = [name, f(result["auroc"].get(name)), f(x["reference"]["corpus_rows"], ".0f")]
        for scenario in ("dated", "reference"):
            d = x[scenario]
            cells += [f"{f(d['worst_true_share_after_quota'])} / {f(d['median_true_share_after_quota'])}",
                      f"{f(d['worst_true_share_out'])} / {f(d['median_true_share_out'])}",
                      f(d["min_rows_after_quota"], ".0f")]
        cells.append(f"{x['dated']['refused'] + x['reference']['refused']} of {x['dated']['runs'] + x['reference']['runs']}")
        lines.append("| " + " | ".join(cells) + " |")
    refusals = sorted({w for x in summary.values() for d in x.values() for w in d["why_refused"]})
    if refusals:
        lines += ["", "Refusals said: " + "; ".join(f"\"{w}\"" for w in refusals[:3]) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--folders", default=",".join(ENGLISH))
    parser.add_argument("--embedder", default=None, help="clean's --embedder (default: clean's own default)")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if args.docs or args.check:
        result = json.loads((RESULTS / "clean_true_share.json").read_text())
        return rewrite_docs_section(BEGIN, END, render(result), args.check, "clean-true-share",
                                    "python benchmarks/clean_true_share.py")
    data = Path(args.data)
    if not data.is_dir():
        print(f"SKIP: detector corpus not found at {data} (see ../shared/data/README.md)")
        return 0
    import datasets
    from sklearn.metrics import roc_auc_score

    datasets.disable_progress_bars()
    started = time.perf_counter()
    runs, auroc = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in [f for f in args.folders.split(",") if f]:
            tagged = tagged_folder(data, name)
            scores = np.asarray(tagged["sf_score"], dtype=np.float64)
            ok = np.isfinite(scores)
            auroc[name] = round(float(roc_auc_score(np.asarray(tagged["truth"])[ok], scores[ok])), 4)
            for seed in range(args.seeds):
                for scenario in SCENARIOS:
                    run = one_run(name, seed, scenario, data, args.embedder, Path(tmp))
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    result = {"protocol": {"seeds": args.seeds, "corpus_rows": CORPUS_ROWS, "ai_share": AI_SHARE,
                           "dated_rows": DATED_ROWS, "resample": SCENARIOS, "max_synthetic": 0.1,
                           "embedder": args.embedder or CleanConfig.__dataclass_fields__["embedder"].default},
              "auroc": auroc, "summary": summarise(runs), "runs": runs,
              "seconds": round(time.perf_counter() - started, 1)}
    write_result("clean_true_share.json", result)
    return rewrite_docs_section(BEGIN, END, render(result), False, "clean-true-share",
                                "python benchmarks/clean_true_share.py")


if __name__ == "__main__":
    sys.exit(main())
