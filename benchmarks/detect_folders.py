"""Leave-one-folder-out detection over every folder of the corpus, per folder and per language.

    python benchmarks/detect_folders.py [--tiers fast,static] [--cap 1500] [--test-cap 400]
    python benchmarks/detect_folders.py --docs          # rewrite the docs section from the JSON
    python benchmarks/detect_folders.py --check           # exit 1 when the docs section differs
    python benchmarks/detect_folders.py --cascade fast,accurate   # the cascade, from both tiers' saved scores
    python benchmarks/detect_folders.py --sum fast,accurate,lm    # the tiers' standardised sum, from saved scores

For every folder of ``../shared/data/detect`` (English, zh/es/pt, ar): fit each tier on
all other folders (texts and groups shared with the held-out folder removed; at most
``--cap`` documents per (folder, label), chosen by hash; every cell weighted equally) on
a grouped 80% split, keep the other 20% as the calibration set, and score the held-out
folder (at most ``--test-cap`` documents per (language, label), chosen by hash). Texts
are scored whatever their language (``any_language=True``), so the table shows what a
tier does on a language it was never trained on. Reported per held-out folder and per
language:

* AUROC and TPR at 1% FPR with the threshold taken from the held-out folder's own human
  texts (what ``calibrate`` on in-domain human text gives: the ranking's worth);
* FPR / TPR at the *training* threshold (1% of the calibration humans);
* FPR / TPR at the *transferred* threshold: the calibration-human quantile ``1 - alpha``
  where ``alpha`` is the largest level at which the **other** folders' unseen humans were
  flagged at most 1% on average (chosen without the folder it is applied to); the same
  rule over all folders gives the shipped threshold of a tier trained on everything
  (``shipped_alpha`` in the JSON);
* documents/second on 128-token texts (about 95 words) on this machine.

Writes benchmarks/results/detect_folders.json; ``--docs`` writes the tables between
``<!-- detect-folders:begin -->`` and ``<!-- detect-folders:end -->`` of docs/benchmarks/detect.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import add_docs_flags, rewrite_docs_section, write_result  # noqa: E402
from benchmarks.detect import rates, tpr_at_fpr  # noqa: E402
from benchmarks.detect_cascade import cascade_summary  # noqa: E402
from benchmarks.detect_sum import sum_summary  # noqa: E402
from synthfilter.detect.calibration import threshold_for_fpr  # noqa: E402
from synthfilter.detect.corpus import (  # noqa: E402
    Document, balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, grouped_split, load_corpus,
)
from synthfilter.hashing import hash64  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BEGIN, END = "<!-- detect-folders:begin -->", "<!-- detect-folders:end -->"
#: alpha levels (share of calibration humans flagged) searched for the transferred threshold
ALPHAS = np.geomspace(1e-4, 0.2, 60)
TARGET_FPR = 0.01
#: a language other than English is scored when its mean leave-one-folder-out AUROC reaches this
LANGUAGE_AUROC = 0.8
#: tiers side by side in one README table (three columns each)
TIERS_PER_TABLE = 4


def make_tier(name: str) -> Callable[[], object]:
    """An unfitted detector of tier ``name`` (any registry name)."""
    import synthfilter as sf

    return lambda: sf.load_detector(name, fitted=False)


def fit(det, docs: list[Document]):
    """Fit ``det`` with every cell weighted equally; ``stack`` cross-fits its n-gram score by folder (as shipped)."""
    return det.fit([d.text for d in docs], [d.label for d in docs], sample_weight=balanced_weights(docs),
                   groups=[d.source for d in docs])


def scores_of(det, docs: list[Document]) -> np.ndarray:
    return det.ai_score([d.text for d in docs], any_language=True)


def test_sample(docs: list[Document], cap: int) -> list[Document]:
    """At most ``cap`` documents per (language, label), chosen by hash of the text key."""
    cells: dict[tuple[str, int], list[Document]] = {}
    for d in sorted(docs, key=lambda d: hash64(11, str(d.key))):
        cells.setdefault((d.lang, d.label), []).append(d)
    return [d for key in sorted(cells) for d in cells[key][:cap]]


def alpha_threshold(cal_human: np.ndarray, alpha: float) -> float:
    """The score above which ``alpha`` of the calibration humans lie (linear quantile; past the top when alpha -> 0)."""
    return float(np.quantile(cal_human, 1.0 - alpha))


def fpr_curve(cal_human: np.ndarray, unseen_human: np.ndarray) -> np.ndarray:
    """Unseen-human FPR at the threshold of each level of :data:`ALPHAS`."""
    return np.array([(unseen_human >= alpha_threshold(cal_human, a)).mean() for a in ALPHAS])


def choose_alpha(curves: list[np.ndarray]) -> float:
    """The largest alpha whose mean unseen-human FPR over ``curves`` is at most :data:`TARGET_FPR`."""
    mean = np.mean(curves, axis=0)
    ok = np.flatnonzero(mean <= TARGET_FPR)
    return float(ALPHAS[ok.max()]) if ok.size else float(ALPHAS[0])


def _block(y: np.ndarray, s: np.ndarray, t_train: float, t_transfer: float | None) -> dict:
    out = {"n_human": int((y == 0).sum()), "n_ai": int((y == 1).sum())}
    if out["n_human"] and out["n_ai"]:
        out["auroc"] = round(float(roc_auc_score(y, s)), 4)
        out["tpr_at_1pct_fpr_in_domain"] = round(tpr_at_fpr(y, s), 4)
    out["fpr_train_threshold"], out["tpr_train_threshold"] = (round(v, 4) for v in rates(y, s, t_train))
    if t_transfer is not None:
        out["fpr_transferred"], out["tpr_transferred"] = (round(v, 4) for v in rates(y, s, t_transfer))
    return out


def run_tier(name: str, docs: list[Document], cap: int, test_cap: int, params: dict) -> tuple[dict, object]:
    """Leave-one-folder-out for one tier: per folder, scores and calibration quantities, then thresholds."""
    folders = sorted({d.source for d in docs})
    folds = {}
    for held in folders:
        held_docs = [d for d in docs if d.source == held]
        train = cap_per_cell(exclude_overlap([d for d in docs if d.source != held], held_docs), cap=cap)
        fit_part, cal_part = grouped_split(train, test_fraction=0.2)
        test = test_sample(held_docs, test_cap)
        t0 = time.perf_counter()
        det = fit(make_tier(name)().set_params(**params), fit_part)
        fit_s = time.perf_counter() - t0
        cal = scores_of(det, [d for d in cal_part if d.label == 0])
        s = scores_of(det, test)
        y = np.array([d.label for d in test])
        folds[held] = {"test": test, "s": s, "y": y, "cal": cal, "n_train": len(fit_part), "fit_s": fit_s}
        print(f"  {name} held out {held}: AUROC {roc_auc_score(y, s):.4f} ({fit_s:.0f} s fit)", flush=True)
    save_folds(name, folds)
    return summarise(folds), det


def save_folds(name: str, folds: dict) -> Path:
    """Every fold's scores, labels, languages and calibration scores, so summaries can be redone without refitting."""
    path = RESULTS / "detect_folders" / f"{name}_scores.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for held, f in folds.items():
        arrays.update({f"{held}__s": f["s"], f"{held}__y": f["y"], f"{held}__cal": f["cal"],
                       f"{held}__lang": np.array([d.lang for d in f["test"]]),
                       f"{held}__key": np.array([str(d.key) for d in f["test"]]),
                       f"{held}__info": np.array([f["n_train"], f["fit_s"]])})
    np.savez_compressed(path, **arrays)
    return path


def load_folds(name: str, docs: list[Document] | None = None) -> dict:
    """The folds :func:`save_folds` wrote (test documents reduced to their language, plus ``key``: their
    text keys; files written before keys were saved get them back from ``docs``, the same corpus)."""
    z = np.load(RESULTS / "detect_folders" / f"{name}_scores.npz")
    folds = {}
    for held in sorted({k.split("__")[0] for k in z.files}):
        n_train, fit_s = z[f"{held}__info"]
        langs, y = z[f"{held}__lang"], z[f"{held}__y"]
        folds[held] = {"s": z[f"{held}__s"], "y": y, "cal": z[f"{held}__cal"], "n_train": int(n_train),
                       "fit_s": float(fit_s), "test": [Document("", 0, held, "", "", "", 0, str(x)) for x in langs]}
        if f"{held}__key" in z.files:
            folds[held]["key"] = z[f"{held}__key"]
        elif docs is not None:
            cap = max(int(((langs == lang) & (y == label)).sum()) for lang in set(langs) for label in (0, 1))
            test = test_sample([d for d in docs if d.source == held], cap)
            if [d.label for d in test] != y.tolist():
                raise ValueError(f"{name}/{held}: saved scores do not match this corpus; rerun the tier")
            folds[held]["key"] = np.array([str(d.key) for d in test])
    return folds


def scored_languages(folds: dict) -> list[str]:
    """English plus every language whose mean leave-one-folder-out AUROC is at least 0.8 (the bar to declare one)."""
    aurocs: dict[str, list[float]] = {}
    for f in folds.values():
        langs = np.array([d.lang for d in f["test"]])
        for lang in sorted(set(langs)):
            m = langs == lang
            if len(set(f["y"][m].tolist())) == 2:
                aurocs.setdefault(lang, []).append(roc_auc_score(f["y"][m], f["s"][m]))
    return sorted({"en"} | {lang for lang, a in aurocs.items() if np.mean(a) >= LANGUAGE_AUROC})


def summarise(folds: dict) -> dict:
    """Per folder and per language figures, with thresholds transferred over the scored languages only."""
    scored = scored_languages(folds)
    curves = {}
    for held, f in folds.items():
        langs = np.array([d.lang for d in f["test"]])
        human = f["s"][(f["y"] == 0) & np.isin(langs, scored)]
        if human.size:
            curves[held] = fpr_curve(f["cal"], human)
    out = {"scored_languages": scored, "per_folder": {}, "per_language": {}}
    lang_parts: dict[str, list] = {}
    for held, f in folds.items():
        alpha = choose_alpha([c for h, c in curves.items() if h != held])
        t_train, t_transfer = threshold_for_fpr(f["cal"], TARGET_FPR), alpha_threshold(f["cal"], alpha)
        row = {**_block(f["y"], f["s"], t_train, t_transfer), "n_train": f["n_train"], "fit_seconds": round(f["fit_s"], 1),
               "transferred_alpha": round(alpha, 5), "scored": held in curves}
        langs = np.array([d.lang for d in f["test"]])
        if len(set(langs)) > 1:
            row["languages"] = {lang: _block(f["y"][langs == lang], f["s"][langs == lang], t_train, t_transfer)
                                for lang in sorted(set(langs))}
        out["per_folder"][held] = row
        for lang in sorted(set(langs)):
            m = langs == lang
            lang_parts.setdefault(lang, []).append((f["y"][m], f["s"][m], f["s"][m] >= t_transfer))
    for lang, parts in sorted(lang_parts.items()):
        # AUROC within each folder, averaged: scores of different fold models are not on one scale
        aurocs = [roc_auc_score(y, s) for y, s, _ in parts if len(set(y.tolist())) == 2]
        tprs = [tpr_at_fpr(y, s) for y, s, _ in parts if len(set(y.tolist())) == 2]
        human = np.concatenate([flag[y == 0] for y, _, flag in parts])
        ai = np.concatenate([flag[y == 1] for y, _, flag in parts])
        out["per_language"][lang] = {"folders": len(parts), "scored": lang in scored,
                                     "mean_auroc": round(float(np.mean(aurocs)), 4),
                                     "mean_tpr_at_1pct_fpr_in_domain": round(float(np.mean(tprs)), 4),
                                     "fpr_transferred": round(float(human.mean()), 4),
                                     "tpr_transferred": round(float(ai.mean()), 4) if ai.size else None}
    rows = out["per_folder"].values()
    scored_rows = [r for h, r in out["per_folder"].items() if h in curves]
    out["summary"] = {
        "mean_auroc": round(float(np.mean([r["auroc"] for r in rows])), 4),
        "min_auroc": round(float(np.min([r["auroc"] for r in rows])), 4),
        "mean_tpr_at_1pct_fpr_in_domain": round(float(np.mean([r["tpr_at_1pct_fpr_in_domain"] for r in rows])), 4),
        "mean_fpr_transferred_scored": round(float(np.mean([r["fpr_transferred"] for r in scored_rows])), 4),
        "worst_fpr_transferred_scored": round(float(np.max([r["fpr_transferred"] for r in scored_rows])), 4),
        "mean_tpr_transferred_scored": round(float(np.mean([r["tpr_transferred"] for r in scored_rows])), 4),
        "worst_fpr_train_threshold": round(float(np.max([r["fpr_train_threshold"] for r in rows])), 4),
        "shipped_alpha": round(choose_alpha(list(curves.values())), 5),
        "transfer_target_reached": bool(np.mean(list(curves.values()), axis=0).min() <= TARGET_FPR),
    }
    return out


def clear_feature_memos() -> int:
    """Empty every per-text feature memo in this process (tiers share the language model's), so a tier is
    never timed on features another tier already computed; returns how many memos there were."""
    import gc

    from synthfilter.detect.memo import TextMemo

    memos = [obj for obj in gc.get_objects() if type(obj) is TextMemo]
    for memo in memos:
        memo.rows.clear()
    return len(memos)


def speed(det, docs: list[Document], n: int = 2000, seconds: float = 120.0) -> dict:
    """Documents/second of the fitted detector ``det`` on ``n`` English texts cut to about 128 tokens (95 words);
    ``--speed-only`` measures the shipped weights (the tier as users get it). A slow tier is timed on fewer
    texts: as many as a 20-text warm-up says fit in about ``seconds``. Feature memos are emptied first."""
    texts = [" ".join(d.text.split()[:95]) for d in docs if d.lang == "en" and len(d.text.split()) >= 95]
    texts = sorted(texts, key=lambda t: hash64(5, t))[:n]
    clear_feature_memos()
    t0 = time.perf_counter()
    det.ai_score(texts[:20])
    texts = texts[20:][:max(20, int(20 * seconds / max(time.perf_counter() - t0, 1e-9)))]
    t0 = time.perf_counter()
    det.ai_score(texts)
    return {"n_docs": len(texts), "docs_per_s": round(len(texts) / (time.perf_counter() - t0), 1),
            "load_average": round(os.getloadavg()[0], 2), "detector": det.tag,
            "params": {k: v for k, v in det.get_params().items() if k in ("max_tokens", "max_words")}}


# ------------------------------------------------------------------------------------------ README
def _f(x, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _folder_tables(result: dict, tiers: list[str]) -> list[str]:
    """The per-folder and per-language tables of ``tiers`` (one column group of three per tier)."""
    head = "| held-out folder | " + " | ".join(f"{t} AUROC | {t} TPR@1% (own humans) | {t} FPR / TPR transferred"
                                                for t in tiers) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(tiers)]
    folders = list(result["tiers"][tiers[0]]["per_folder"])
    for folder in folders:
        cells = []
        for t in tiers:
            r = result["tiers"][t]["per_folder"][folder]
            cells.append(f"{_f(r['auroc'])} | {_f(r['tpr_at_1pct_fpr_in_domain'])} | "
                         f"{_f(r['fpr_transferred'])} / {_f(r['tpr_transferred'])}")
        scored = all(result["tiers"][t]["per_folder"][folder]["scored"] for t in tiers)
        lines.append(f"| {folder}{'' if scored else ' (not scored)'} | " + " | ".join(cells) + " |")
    cells = []
    for t in tiers:
        s = result["tiers"][t]["summary"]
        cells.append(f"**{_f(s['mean_auroc'])}** | **{_f(s['mean_tpr_at_1pct_fpr_in_domain'])}** | "
                     f"{_f(s['mean_fpr_transferred_scored'])} (worst {_f(s['worst_fpr_transferred_scored'])}) / "
                     f"{_f(s['mean_tpr_transferred_scored'])} over scored languages")
    lines += ["| **mean** | " + " | ".join(cells) + " |", ""]
    lines += ["| language | " + " | ".join(f"{t} mean AUROC | {t} TPR@1% (own humans) | {t} FPR / TPR transferred"
                                         for t in tiers) + " |",
              "|---|" + "---|---|---|" * len(tiers)]
    for lang in result["tiers"][tiers[0]]["per_language"]:
        cells = []
        for t in tiers:
            r = result["tiers"][t]["per_language"][lang]
            mark = "" if r["scored"] else " (not scored)"
            cells.append(f"{_f(r['mean_auroc'])} | {_f(r['mean_tpr_at_1pct_fpr_in_domain'])} | "
                         f"{_f(r['fpr_transferred'])} / {_f(r['tpr_transferred'])}{mark}")
        lines.append(f"| {lang} ({result['tiers'][tiers[0]]['per_language'][lang]['folders']} folder(s)) | "
                     + " | ".join(cells) + " |")
    return lines


def render(result: dict) -> str:
    tiers = list(result["tiers"])
    sizes = "; ".join(f"{t}: {result['tiers'][t]['cap_per_cell']} training documents per folder and label, at most "
                      f"{result['tiers'][t]['test_cap']} test documents per language and label"
                      + (f", parameters {json.dumps(result['tiers'][t]['params'])}" if result['tiers'][t]['params'] else "")
                      for t in tiers)
    lines = ["_Generated by `python benchmarks/detect_folders.py --docs` from `benchmarks/results/detect_folders.json` "
             f"({sizes}); do not edit by hand._", ""]
    for start in range(0, len(tiers), TIERS_PER_TABLE):
        lines += _folder_tables(result, tiers[start:start + TIERS_PER_TABLE]) + [""]
    lines += ["| tier | documents/second, 128-token texts, one process on 2 cores | measured on | load average then | "
                  "transferred alpha over all folders |", "|---|---|---|---|---|"]
    for t in tiers:
        sp = result["speed"].get(t, {})
        lines.append(f"| {t} | {sp.get('docs_per_s', '-')} | {sp.get('detector', '-')} "
                     f"{json.dumps(sp.get('params', {}))} | {sp.get('load_average', '-')} | "
                     f"{result['tiers'][t]['summary']['shipped_alpha']}"
                     f"{'' if result['tiers'][t]['summary'].get('transfer_target_reached', True) else ' (1% not reached)'} |")
    cascades = result.get("cascades", {})
    if cascades:
        lines += ["", "| cascade (band chosen on the other folders) | gate AUROC | deep AUROC | cascade AUROC | "
                      "escalated share | documents/second | sum of both (standardised on calibration humans) AUROC |",
                  "|---|---|---|---|---|---|---|"]
        for name, c in cascades.items():
            m = c["mean"]
            lines.append(f"| {name.replace('>', ' then ')} (mean of {len(c['per_folder'])} folders) | "
                         f"{_f(m['gate_auroc'])} | {_f(m['deep_auroc'])} | {_f(m['cascade_auroc'])} | "
                         f"{_f(m['escalated_share'], 2)} | {c['docs_per_s'] if c['docs_per_s'] is not None else '-'} | "
                         f"{_f(m.get('sum_auroc'))} |")
    sums = result.get("sums", {})
    if sums:
        langs = sorted({lang for c in sums.values() for lang in c["per_language"]} - {"en"})
        lines += ["", "| sum of tiers (each standardised on its calibration humans) | mean AUROC | each tier alone, same rows | "
                      "English AUROC | each tier alone, English | " + " | ".join(f"{lang} AUROC" for lang in langs)
                  + " | TPR@1% (own humans) | documents/second |", "|---|---|---|---|---|" + "---|" * len(langs) + "---|---|"]
        for c in sums.values():
            en = c["per_language"].get("en", {"sum_auroc": None, "tier_auroc": {}})
            alone = ", ".join(f"{t} {_f(v)}" for t, v in c["mean"]["tier_auroc"].items())
            alone_en = ", ".join(f"{t} {_f(v)}" for t, v in en["tier_auroc"].items())
            others = " | ".join(_f(c["per_language"].get(lang, {}).get("sum_auroc")) for lang in langs)
            lines.append(f"| {' + '.join(c['tiers'])} ({len(c['per_folder'])} folders) | **{_f(c['mean']['sum_auroc'])}** | "
                         f"{alone} | **{_f(en['sum_auroc'])}** | {alone_en} | {others} | "
                         f"{_f(c['mean']['sum_tpr_at_1pct_fpr'])} | {c['docs_per_s'] if c['docs_per_s'] is not None else '-'} |")
    return "\n".join(lines)


def rewrite_docs(result: dict, check: bool) -> int:
    return rewrite_docs_section(BEGIN, END, render(result), check, "detect-folders",
                                "python benchmarks/detect_folders.py --docs")


def merged_into_latest(path: Path, result: dict, tiers: list[str]) -> dict:
    """``result``'s entries for ``tiers`` laid over the file as it is now, so runs of different tiers
    in parallel do not overwrite each other's results."""
    if not path.exists():
        return result
    latest = json.loads(path.read_text())
    for part in ("tiers", "speed"):
        latest.setdefault(part, {}).update({t: result[part][t] for t in tiers if t in result.get(part, {})})
    latest.update({k: v for k, v in result.items() if k not in ("tiers", "speed", "cascades", "sums")})
    return latest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--tiers", default="fast", help="comma-separated registry names (default: fast)")
    parser.add_argument("--cap", type=int, default=1500, help="training documents per (folder, label) (default 1500)")
    parser.add_argument("--test-cap", type=int, default=400, help="test documents per (language, label) (default 400)")
    parser.add_argument("--params", default="{}",
                        help='JSON: tier -> constructor parameters, e.g. \'{"accurate": {"max_tokens": 64}}\' (default: none)')
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--speed-only", action="store_true", help="only measure the shipped weights' speed")
    parser.add_argument("--summarise-only", action="store_true",
                        help="recompute the figures of --tiers from their saved fold scores, without fitting")
    parser.add_argument("--cascade", default=None, metavar="GATE,DEEP",
                        help="only (re)compute the cascade GATE then DEEP from both tiers' saved fold scores")
    parser.add_argument("--sum", default=None, metavar="TIER,TIER[,...]",
                        help="only (re)compute the standardised sum of these tiers from their saved fold scores")
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    path = RESULTS / "detect_folders.json"
    if args.docs or args.check:
        return rewrite_docs(json.loads(path.read_text()), check=args.check)
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    docs = load_corpus(args.data)
    result = json.loads(path.read_text()) if path.exists() else {"tiers": {}, "speed": {}}
    result.update({"target_fpr": TARGET_FPR, "folders": sorted({d.source for d in docs})})
    params = json.loads(args.params)
    if args.cascade:
        gate, deep = args.cascade.split(",")
        result.setdefault("cascades", {})[f"{gate}>{deep}"] = cascade_summary(
            load_folds(gate, docs), load_folds(deep, docs), result["speed"].get(gate, {}).get("docs_per_s"),
            result["speed"].get(deep, {}).get("docs_per_s"))
        print(json.dumps(result["cascades"][f"{gate}>{deep}"]["mean"]), flush=True)
        write_result(path.name, result)
        return rewrite_docs(result, check=False)
    if args.sum:
        tiers = args.sum.split(",")
        if len(tiers) < 2:
            parser.error(f"--sum: name at least two tiers, got {args.sum!r}")
        result.setdefault("sums", {})["+".join(tiers)] = summary = sum_summary(
            {t: load_folds(t, docs) for t in tiers}, {t: result["speed"].get(t, {}).get("docs_per_s") for t in tiers})
        print(json.dumps(summary["mean"]), flush=True)
        write_result(path.name, result)
        return rewrite_docs(result, check=False)
    for name in args.tiers.split(","):
        if args.speed_only:
            import synthfilter as sf

            result["speed"][name] = speed(sf.load_detector(name), docs)
            print(f"  {name} speed: " + json.dumps(result["speed"][name]), flush=True)
            continue
        if args.summarise_only:
            result["tiers"][name].update(summarise(load_folds(name)))
            continue
        result["tiers"][name], det = run_tier(name, docs, args.cap, args.test_cap, params.get(name, {}))
        result["tiers"][name].update(params=params.get(name, {}), cap_per_cell=args.cap, test_cap=args.test_cap)
        print(f"  {name}: " + json.dumps(result["tiers"][name]["summary"]), flush=True)
        result["speed"][name] = speed(det, docs)
        print(f"  {name} speed: " + json.dumps(result["speed"][name]), flush=True)
    result = merged_into_latest(path, result, args.tiers.split(","))
    write_result(path.name, result)
    return rewrite_docs(result, check=False)


if __name__ == "__main__":
    sys.exit(main())
