"""Scoring several windows of a long text, and distilling ``accurate`` into ``fast``, leave-one-folder-out.

    python benchmarks/detect_distil.py teachers [--threads 2]   # fit accurate per fold, score test/calibration/pool
    python benchmarks/detect_distil.py teachers --teacher-params '{"fit_windows": 4}'   # another teacher, same scoring
    python benchmarks/detect_distil.py teachers --rescore --teacher-params '{"fit_windows": 4}'   # re-score cached folds
    python benchmarks/detect_distil.py students                 # fit fast students on teacher labels
    python benchmarks/detect_distil.py --docs | --check

Same folds, training sets and test samples as ``benchmarks/detect_folders.py`` (the teacher is
that script's ``accurate`` fold model as benchmarked there: 150 documents per folder and label,
grouped 80% fitted, 20% calibration; the student is its ``fast`` fold model: 1500 per folder and
label; the test sample is ``fast``'s: at most 400 documents per language and label).

``teachers``: for every held-out folder, fit ``accurate`` on the other folders and score

* the held-out folder's test sample and the calibration humans with ``windows`` = 1 (the first
  128 tokens, as shipped) and ``--windows`` (up to that many consecutive 128-token windows, their
  logits averaged by token count), reported with :func:`detect_folders.summarise` (AUROC, TPR at
  1% FPR on the folder's own humans, transferred thresholds);
* the *distillation pool*: documents of the other folders that the teacher did not fit on and
  that are not calibration documents (the next ``--pool-cap`` per folder and label in the
  students' hash order), plus WikiText-2 paragraphs (validation and test files, headings and
  paragraphs with ``<unk>`` dropped, detokenised) as unlabelled human-domain text (default teacher
  only; ``--teacher-params`` fits and scores another teacher, e.g. one fitted on several windows).

``students``: fit ``fast`` per fold on its usual training set where every pool document's target
is ``(1 - mix) * label + mix * teacher probability`` (a soft target, fitted as two weighted rows),
plus the WikiText-2 paragraphs with the teacher's probability as their target; ``mix = 0`` with no
WikiText-2 is the plain ``fast`` fold model. Nothing of the held-out folder is seen by teacher or
student.

Teacher fold files and scores are kept in ``~/.cache/synthfilter/distil/`` (``students`` needs
the ``teachers`` run of the same machine); figures go to ``benchmarks/results/detect_distil.json``
and the docs section between ``<!-- detect-distil:begin -->`` and ``<!-- detect-distil:end -->``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
from benchmarks.detect_folders import summarise, test_sample  # noqa: E402
from synthfilter.detect.corpus import (  # noqa: E402
    Document, balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, grouped_split, load_corpus,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path.home() / ".cache" / "synthfilter" / "distil"
BEGIN, END = "<!-- detect-distil:begin -->", "<!-- detect-distil:end -->"
TEACHER_CAP, STUDENT_CAP = 150, 1500
#: the teacher's parameters unless ``--teacher-params`` says otherwise: ``accurate@3``'s, fitted on each text's first
#: 128 tokens (``accurate``'s defaults are now four windows, which ``--teacher-params '{"fit_windows": 4}'`` measures)
FIRST_WINDOW = {"fit_windows": 1, "windows": 1}


def wikitext_paragraphs(folder: Path, min_words: int = 40) -> list[str]:
    """WikiText-2 validation and test paragraphs of at least ``min_words`` words, without headings or
    ``<unk>``, with the corpus's tokenisation undone (`` @-@ `` -> ``-``, space before punctuation)."""
    out = []
    for name in ("valid.txt", "test.txt"):
        path = folder / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("=") or "<unk>" in line or len(line.split()) < min_words:
                continue
            line = re.sub(r" @(.)@ ", r"\1", line)
            line = re.sub(r" ([.,;:!?)'])", r"\1", line).replace("( ", "(").replace(" n't", "n't")
            out.append(line)
    return out


def fold_sets(docs: list[Document], held: str) -> dict[str, list[Document]]:
    """The held-out folder's test sample and the other folders' teacher, calibration, student and pool sets."""
    held_docs = [d for d in docs if d.source == held]
    others = exclude_overlap([d for d in docs if d.source != held], held_docs)
    teacher_fit, teacher_cal = grouped_split(cap_per_cell(others, cap=TEACHER_CAP), test_fraction=0.2)
    student_fit, student_cal = grouped_split(cap_per_cell(others, cap=STUDENT_CAP), test_fraction=0.2)
    seen = {d.key for d in teacher_fit}
    cal_groups = {d.group for d in student_cal} | {d.group for d in teacher_cal}
    pool = [d for d in student_fit if d.key not in seen and d.group not in cal_groups]
    return {"test": test_sample(held_docs, 400), "teacher_fit": teacher_fit, "teacher_cal": teacher_cal,
            "student_fit": student_fit, "student_cal": student_cal, "pool": pool}


def soft_target_rows(target: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, 0/1 label, weight) rows whose weighted log-loss equals the soft-target log-loss of ``target``
    (each in [0, 1]) with ``weight``: a target of 0 or 1 is one row, any other ``t`` a positive row of weight
    ``w * t`` and a negative one of weight ``w * (1 - t)``."""
    soft = (target > 0) & (target < 1)
    rows = np.concatenate([np.flatnonzero(~soft), np.flatnonzero(soft), np.flatnonzero(soft)])
    labels = np.concatenate([target[~soft].round(), np.ones(soft.sum()), np.zeros(soft.sum())]).astype(int)
    weights = np.concatenate([weight[~soft], weight[soft] * target[soft], weight[soft] * (1 - target[soft])])
    return rows, labels, weights


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def params_suffix(params: dict) -> str:
    """Cache-file and result suffix of a teacher with constructor ``params`` ("" for the defaults)."""
    return "".join(f"-{k}{v}" for k, v in sorted(params.items()))


def run_teachers(docs: list[Document], wiki: list[str], windows: int, pool_cap: int, params: dict,
                 rescore: bool = False) -> dict:
    """Fit (or with ``rescore``, load the cached fold model and re-score only the multi-window variant)
    and score every fold's teacher; per-fold fitting seconds, pool sizes and scoring speeds."""
    import synthfilter as sf

    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    for held in sorted({d.source for d in docs}):
        sets = fold_sets(docs, held)
        pool = cap_per_cell(sets["pool"], cap=pool_cap, seed=1)
        fit, test = sets["teacher_fit"], sets["test"]
        model_file = CACHE / f"accurate{params_suffix(params)}_{held}.npz"
        scores_file = CACHE / f"teacher{params_suffix(params)}_{held}.npz"
        if rescore:
            det = sf.load_detector(model_file, **{**FIRST_WINDOW, **params})
            arrays = dict(np.load(scores_file))
            fit_s = float(arrays["fit_s"])
            if [str(d.key) for d in test] != arrays["key"].tolist():
                raise ValueError(f"{scores_file}: cached test texts differ from this corpus; fit again")
        else:
            t0 = time.perf_counter()
            det = sf.load_detector("accurate", fitted=False, **{**FIRST_WINDOW, **params})
            det.fit([d.text for d in fit], [d.label for d in fit], sample_weight=balanced_weights(fit))
            fit_s = time.perf_counter() - t0
            det.save(model_file)
            arrays = {"y": np.array([d.label for d in test]), "lang": np.array([d.lang for d in test]),
                      "key": np.array([str(d.key) for d in test]), "pool_key": np.array([str(d.key) for d in pool]),
                      "n_train": np.array(len(fit)), "fit_s": np.array(fit_s)}
        cal_human = [d.text for d in sets["teacher_cal"] if d.label == 0]
        timing = {int(k[len("speed_w"):]): float(v) for k, v in arrays.items() if k.startswith("speed_w")}
        for w in sorted({1, windows}):
            if rescore and (w == 1 or f"rescored_w{w}" in arrays):
                continue  # first-window scores do not depend on how later windows are chosen
            det.set_params(windows=w)
            t0 = time.perf_counter()
            arrays[f"s_w{w}"] = det.ai_score([d.text for d in test], any_language=True)
            if rescore:  # speeds stay those of the fitting run (a re-score may share the machine)
                arrays[f"rescored_w{w}"] = np.array(1)
            else:
                timing[w] = len(test) / (time.perf_counter() - t0)
                arrays[f"speed_w{w}"] = np.array(timing[w])
            arrays[f"cal_w{w}"] = det.ai_score(cal_human, any_language=True)
        if not params and not rescore:  # the students learn from the default teacher only
            det.set_params(windows=1)
            arrays["pool_s"] = det.ai_score([d.text for d in pool], any_language=True)
            arrays["wiki_s"] = det.ai_score(wiki, any_language=True)
        np.savez_compressed(scores_file, **arrays)
        out[held] = {"fit_s": round(fit_s, 1), "pool": len(pool), "wiki": len(wiki),
                     "test_docs_per_s": {str(w): round(v, 1) for w, v in sorted(timing.items())}}
        print(f"  teacher held out {held}: {json.dumps(out[held])}", flush=True)
    return out


def _folds_from_cache(docs: list[Document], score: str, cal: str, suffix: str = "") -> dict:
    folds = {}
    for held in sorted({d.source for d in docs}):
        z = np.load(CACHE / f"teacher{suffix}_{held}.npz")
        folds[held] = {"s": z[score], "y": z["y"], "cal": z[cal], "n_train": int(z["n_train"]),
                       "fit_s": float(z["fit_s"]), "test": [Document("", 0, held, "", "", "", 0, str(x)) for x in z["lang"]]}
    return folds


def run_students(docs: list[Document], wiki: list[str], mixes: list[float]) -> dict:
    import synthfilter as sf

    variants = {"fast": (0.0, False)} | {f"distil mix {m:g} + wikitext" if m else "fast + wikitext": (m, True)
                                         for m in mixes}
    folds: dict[str, dict] = {name: {} for name in variants}
    for held in sorted({d.source for d in docs}):
        sets = fold_sets(docs, held)
        z = np.load(CACHE / f"teacher_{held}.npz")
        teacher = dict(zip(z["pool_key"].tolist(), _sigmoid(z["pool_s"]).tolist()))
        wiki_p = _sigmoid(z["wiki_s"])
        fit, test = sets["student_fit"], sets["test"]
        weights = np.array(balanced_weights(fit))
        cal_human = [d.text for d in sets["student_cal"] if d.label == 0]
        for name, (mix, use_wiki) in variants.items():
            target = np.array([(1 - mix) * d.label + mix * teacher.get(str(d.key), d.label) for d in fit])
            texts, w = [d.text for d in fit], weights
            if use_wiki:
                texts, target = texts + wiki, np.concatenate([target, wiki_p])
                w = np.concatenate([weights, np.ones(len(wiki))])
            rows, labels, row_w = soft_target_rows(target, w)
            t0 = time.perf_counter()
            det = sf.load_detector("fast", fitted=False)
            det.fit([texts[i] for i in rows], labels, sample_weight=row_w)
            fit_s = time.perf_counter() - t0
            s = det.ai_score([d.text for d in test], any_language=True)
            folds[name][held] = {"s": s, "y": np.array([d.label for d in test]), "n_train": len(texts), "fit_s": fit_s,
                                 "cal": det.ai_score(cal_human, any_language=True), "test": test}
            print(f"  {name} held out {held}: soft rows {len(rows) - len(target)}, fit {fit_s:.0f} s", flush=True)
    return {name: summarise(f) for name, f in folds.items()}


# ------------------------------------------------------------------------------------------ README
def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def render(result: dict) -> str:
    lines = ["_Generated by `python benchmarks/detect_distil.py --docs` from `benchmarks/results/detect_distil.json`; "
             "do not edit by hand._", ""]
    variants = {name: v for key in sorted(result) if key.startswith("teachers")
                for name, v in result[key].get("variants", {}).items()}
    variants.update(result.get("students", {}).get("variants", {}))
    if not variants:
        return "\n".join(lines)
    folders = list(next(iter(variants.values()))["per_folder"])
    lines += ["| variant | mean AUROC | " + " | ".join(folders) + " | TPR@1% (own humans) | "
              "transferred human FPR, mean / worst |", "|---|---|" + "---|" * len(folders) + "---|---|"]
    for name, v in variants.items():
        s = v["summary"]
        lines.append(f"| {name} | **{_f(s['mean_auroc'])}** | "
                     + " | ".join(_f(v["per_folder"][f]["auroc"]) for f in folders)
                     + f" | {_f(s['mean_tpr_at_1pct_fpr_in_domain'])} | {_f(s['mean_fpr_transferred_scored'])} / "
                       f"{_f(s['worst_fpr_transferred_scored'])} |")
    en = {name: v["per_language"].get("en", {}).get("mean_auroc") for name, v in variants.items()}
    lines += ["", "English mean AUROC: " + "; ".join(f"{name} {_f(a)}" for name, a in en.items()) + "."]
    for key in sorted(k for k in result if k.startswith("teachers")):
        speed, fit_s = result[key].get("test_docs_per_s"), [f["fit_s"] for f in result[key]["per_fold"].values()]
        lines.append(f"`accurate`{' ' + key[len('teachers '):] if key != 'teachers' else ''}: fitting "
                     f"{np.mean(fit_s):.0f} s per fold; scoring the held-out test texts (their own lengths), "
                     "documents/second: " + "; ".join(f"windows={w}: {v}" for w, v in speed.items()) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("phase", nargs="?", choices=("teachers", "students"))
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--windows", type=int, default=4, help="windows scored by the multi-window variant (default 4)")
    parser.add_argument("--pool-cap", type=int, default=600, help="pool documents per folder and label (default 600)")
    parser.add_argument("--mixes", default="0,0.5,1", help="student soft-target mixes (default 0,0.5,1)")
    parser.add_argument("--teacher-params", default="{}",
                        help='JSON: the teacher\'s constructor parameters, e.g. \'{"fit_windows": 4}\' (default: none)')
    parser.add_argument("--rescore", action="store_true",
                        help="teachers: load the cached fold models and re-score the multi-window variant only")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    path = RESULTS / "detect_distil.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    if args.docs or args.check:
        return rewrite_docs_section(BEGIN, END, render(result), args.check, "detect-distil",
                                    "python benchmarks/detect_distil.py --docs")
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    if args.phase is None:
        parser.error("name a phase (teachers, then students) or --docs / --check")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    docs = load_corpus(args.data)
    wiki = wikitext_paragraphs(Path(args.data).parent / "wikitext2")
    if args.phase == "teachers":
        params = json.loads(args.teacher_params)
        fitted_on = f", fitted on {params['fit_windows']} windows" if params.get("fit_windows", 1) > 1 else ""
        other = {k: v for k, v in params.items() if k not in ("fit_windows", "windows")}
        fitted_on += f", {json.dumps(other)}" if other else ""
        key = "teachers" + (" " + fitted_on.lstrip(", ") if params else "")
        per_fold = run_teachers(docs, wiki, args.windows, args.pool_cap, params, args.rescore)
        if args.rescore:  # speeds come from the run that fitted the teachers
            for held, fold in per_fold.items():
                before = result.get(key, {}).get("per_fold", {}).get(held, {})
                fold.update(pool=before.get("pool", fold["pool"]), test_docs_per_s=before.get("test_docs_per_s", {}))
        speed = {str(w): round(float(np.mean([f["test_docs_per_s"][str(w)] for f in per_fold.values()])), 1)
                 for w in sorted({1, args.windows})}
        variants = {(f"accurate{fitted_on} (first 128 tokens)" if w == 1
                     else f"accurate{fitted_on}, {w} windows of 128 tokens"):
                    summarise(_folds_from_cache(docs, f"s_w{w}", f"cal_w{w}", params_suffix(params)))
                    for w in sorted({1, args.windows})}
        result[key] = {"per_fold": per_fold, "test_docs_per_s": speed, "variants": variants, "params": params,
                       "pool_cap": args.pool_cap, "wikitext_paragraphs": len(wiki)}
    else:
        key = "students"
        result[key] = {"variants": run_students(docs, wiki, [float(m) for m in args.mixes.split(",")]),
                       "wikitext_paragraphs": len(wiki)}
    latest = json.loads(path.read_text()) if path.exists() else {}  # another phase may have written meanwhile
    result = {**latest, key: result[key]}
    write_result(path.name, result)
    return rewrite_docs_section(BEGIN, END, render(result), False, "detect-distil",
                                "python benchmarks/detect_distil.py --docs")


if __name__ == "__main__":
    sys.exit(main())
