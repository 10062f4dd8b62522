"""Print the README's benchmark tables (Markdown) from benchmarks/results/*.json.

The collapse mitigation tables and claims are written into the README by
benchmarks/collapse_readme.py instead, the reliability section by benchmarks/reliability.py.

    python benchmarks/tables.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results"


def detect_tables(r: dict) -> str:
    rows = ["| held-out source | human / ai | fast AUROC | TF-IDF+LR AUROC | fast TPR @1% FPR (in-domain threshold) | fast FPR / TPR at training-source threshold |",
            "|---|---|---|---|---|---|"]
    for src, x in r["leave_one_source_out"].items():
        rows.append(f"| {src} | {x['n_test_human']} / {x['n_test_ai']} | {x['fast_auroc']:.3f} | {x['tfidf_lr_auroc']:.3f} | "
                    f"{x['fast_tpr_at_1pct_fpr_in_domain_threshold']:.3f} | {x['fast_fpr_at_training_threshold']:.3f} / {x['fast_tpr_at_training_threshold']:.3f} |")
    s = r["summary"]
    rows.append(f"| **mean** | | **{s['fast_loso_mean_auroc']:.3f}** | {s['tfidf_lr_loso_mean_auroc']:.3f} | {s['fast_loso_mean_tpr_at_1pct_fpr']:.3f} | |")
    sh, sp = r["shipped_heldout"], r["throughput"]
    worst = max(sh["human_fpr_per_domain"].items(), key=lambda kv: kv[1]["fpr"])
    rows += ["", "| shipped weights (`" + sh["detector"] + "`), grouped held-out split of the training sources | value |", "|---|---|",
             f"| AUROC clean / character-attacked | {sh['auroc_clean']:.4f} / {sh['auroc_attacked']:.4f} |",
             f"| FPR on held-out human texts at the default threshold ({sh['threshold']:.3f}) | {sh['fpr_at_threshold']:.4f} |",
             f"| TPR clean / attacked at the default threshold | {sh['tpr_clean']:.4f} / {sh['tpr_attacked']:.4f} |",
             f"| worst human domain FPR (n >= 20) | {worst[0]}: {worst[1]['fpr']:.3f} (n={worst[1]['n']}) |",
             f"| documents/second, ~{sp['mean_words']:.0f}-word documents, 1 process / 2 processes | {sp['docs_per_s_1_process']} / {sp['docs_per_s_2_processes']} |"]
    return "\n".join(rows)


def tier_tables(r: dict) -> str:
    t = r["tiers"]
    names = ["fast", "lm", "embed", "stack", "stack+embed", "cascade"]
    rows = ["| held-out source | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for src, x in t["leave_one_source_out"].items():
        rows.append(f"| {src} | " + " | ".join(f"{x[n]['auroc']:.3f}" for n in names) + " |")
    rows.append("| **mean AUROC** | " + " | ".join(f"**{t['mean_auroc'][n]:.3f}**" for n in names) + " |")
    rows.append("| min AUROC | " + " | ".join(f"{t['min_auroc'][n]:.3f}" for n in names) + " |")
    rows.append("| mean TPR @1% FPR (in-domain threshold) | "
                + " | ".join(f"{t['mean_tpr_at_1pct_fpr_in_domain_threshold'][n]:.3f}" for n in names) + " |")
    fpr = {n: max(x[n]["fpr_at_training_threshold"] for x in t["leave_one_source_out"].values()) for n in names}
    rows.append("| worst FPR on an unseen source at the training threshold | " + " | ".join(f"{fpr[n]:.3f}" for n in names) + " |")
    if "tier_throughput" in r:
        sp = r["tier_throughput"]
        cells = {"fast": f"{r['throughput']['docs_per_s_2_processes']:,}", "stack+embed": "-"}
        for n in ("lm", "embed", "stack", "cascade"):
            cells[n] = f"{sp[n]['docs_per_s']}"
        rows.append("| documents/second (~200 words, 2 cores) | " + " | ".join(cells[n] for n in names) + " |")
    rows.append("")
    casc = [(src, x["cascade"]) for src, x in t["leave_one_source_out"].items()]
    rows.append("Cascade: share of rows sent to the stack on each unseen source: "
                + ", ".join(f"{src} {c['escalated_share_test']:.2f}" for src, c in casc) + ".")
    att = [(src, x["stack_attack"]) for src, x in t["leave_one_source_out"].items()]
    rows.append("Stack TPR at the training threshold, clean / character-attacked: "
                + ", ".join(f"{src} {a['tpr_clean']:.3f} / {a['tpr_attacked']:.3f}" for src, a in att) + ".")
    doms = []
    for src, x in t["leave_one_source_out"].items():
        for d, v in x["human_fpr_per_domain_at_training_threshold"].items():
            if v["n"] >= 20:
                doms.append((v["fpr_stack"], v["fpr_fast"], f"{src}/{d}", v["n"]))
    doms.sort(reverse=True)
    rows.append("Highest human FPR per domain on unseen sources at the training threshold (n >= 20), stack / fast: "
                + ", ".join(f"{name} {a:.2f} / {b:.2f} (n={n})" for a, b, name, n in doms[:5]) + ".")
    if "fit_in_source" in r:
        f = r["fit_in_source"]
        rows += ["", "| `fit` on one source (500 per class; seqxgpt has 140 human) | train human / ai | fast | lm | stack | stack FPR / TPR after `calibrate` (1%) on the training humans |",
                 "|---|---|---|---|---|---|"]
        for src, x in f.items():
            c = x["stack_after_calibrate"]
            rows.append(f"| {src} | {x['n_train_human']} / {x['n_train_ai']} | {x['fast']:.3f} | {x['lm']:.3f} | "
                        f"{x['stack']:.3f} | {c['fpr']:.3f} / {c['tpr']:.3f} |")
    return "\n".join(rows)


def head_tables(r: dict) -> str:
    names = list(r["mean_auroc"])
    rows = ["| head (trained on 4 sources, tested on the 5th) | mean AUROC | min AUROC |", "|---|---|---|"]
    for n in names:
        rows.append(f"| {n} | {r['mean_auroc'][n]:.3f} | {r['min_auroc'][n]:.3f} |")
    return "\n".join(rows)


def quota_tables(r: dict) -> str:
    rows = ["| mode | rows | seconds | rows/second | peak extra memory (MB) | realised synthetic share |", "|---|---|---|---|---|---|"]
    for x in r["runs"]:
        rows.append(f"| {x['mode']} | {x['rows']:,} | {x['seconds']} | {x['rows_per_s']:,} | {x['peak_extra_mb']} | {x['realised_share']:.6f} |")
    s = r["summary"]
    rows.append("")
    rows.append(f"Exact to the row (synthetic kept = floor(0.1 x human / 0.9) = {s['expected_synthetic_kept_global']:,}): "
                + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in s["exact_to_the_row"].items())
                + f"; in-memory and two-pass keep identical rows: {'yes' if s['in_memory_equals_two_pass'] else 'NO'}.")
    return "\n".join(rows)


def resample_tables(r: dict) -> str:
    p, sc, e = r["planted_tail"], r["scale"], r["embedding"]
    return "\n".join([
        "| measure | value |", "|---|---|",
        f"| planted rare component (1% of {p['rows']:,} rows, 384-d), share after resampling to 20% | {p['rare_share_resampled']:.4f} ({p['rare_gain_resampled']}x input) |",
        f"| same, uniformly random 20% sample | {p['rare_share_random_sample']:.4f} ({p['rare_gain_random']}x input) |",
        f"| clustering + selection, {sc['rows']:,} x {sc['dim']} float32 | {sc['seconds']} s, peak extra memory {sc['peak_extra_gb']} GB |",
        f"| embedding throughput, MiniLM ({e['mean_words']:.0f}-word WikiText lines) | {e['minilm_docs_per_s']} documents/second |",
        f"| embedding throughput, hashing fallback | {e['hashing_docs_per_s']} documents/second |",
        f"| same selection with embeddings from num_proc=1 and 2 | {'yes' if e['same_selection_num_proc_1_and_2'] else 'NO'} |",
    ]) + ("\n\n" + embedder_tables(r["embedders"]) if "embedders" in r else "")


def embedder_tables(x: dict) -> str:
    names = x["embedders"]
    sp = x["speed"]["docs_per_s"]
    f = x["first_use"]
    rows = ["| embedder (`Embedder(model=...)`) | " + " | ".join(f"`{n}`" for n in names) + " |",
            "|---|" + "---|" * len(names),
            f"| documents/second, {x['speed']['words']}-word documents, {x['cores']} cores (wall) | "
            + " | ".join(f"{sp[n]['wall']:,}" for n in names) + " |",
            "| documents per CPU-second, one thread | " + " | ".join(f"{sp[n]['cpu_one_thread']:,}" for n in names) + " |",
            "",
            f"`static` / `minilm` throughput, measured in one run: {x['static_over_minilm']['wall']}x (wall), "
            f"{x['static_over_minilm']['cpu_one_thread']}x (per CPU-second). First use of `Embedder()` "
            f"(`{f['model']}`, {f['dim']}-d) in a fresh process on an empty cache: {f['import_to_first_vector_s']} s "
            f"from `import synthfilter` to the first vector ({f['process_wall_s']} s with interpreter start), "
            f"{f['cache_files_written']} files written to the cache. Shipped model: {x['static_model']['pca_dims']}-d, "
            f"{x['static_model']['tokens']:,} tokens, {x['static_model']['storage']}. Load average during the run: "
            f"{x['load_average_at_start'][0]} (start), {x['speed']['load_average_after'][0]} (after the speed runs)."]
    return "\n".join(rows)


def anchor_tables(r: dict) -> str:
    g = r["gaussian_variance_at_last_generation"]
    rows = [f"| policy | n | mean variance at gen {r['generations']} | median | published mean (Kazdan et al.) |", "|---|---|---|---|---|"]
    for policy, by_n in g.items():
        for n, x in by_n.items():
            rows.append(f"| {policy} | {n} | {x['mean']:.3g} | {x['median']:.3g} | {x['published_mean']} |")
    lin = r["linreg_excess_error_over_generation0"]
    rows += ["", "| linear regression (d=10, T=100) | gen 1 | gen 5 | gen 10 | gen 25 | gen 50 |", "|---|---|---|---|---|---|"]
    for policy in ("replace", "accumulate"):
        m = lin[policy]["mean_ratio_at"]
        rows.append(f"| {policy}: mean test error over ideal | " + " | ".join(f"{m[str(k)] if str(k) in m else m[k]:.2f}" for k in (1, 5, 10, 25, 50)) + " |")
    w = r["gaussian_w2_replace_n100"]
    sel = r["select_likely_vs_replace_median_variance"]
    rows += ["", f"Replace, linear regression: slope {lin['replace']['linear_slope']:.2f} per generation; accumulate levels at "
             f"{lin['accumulate']['mean_ratio_at']['50']:.2f} (pi^2/6 = {lin['accumulate']['pi2_over_6']:.2f}).",
             "Gaussian n=100 replace, mean squared W2 to the real distribution: "
             + ", ".join(f"gen {k}: {v:.3f}" for k, v in w["mean_w2_at"].items())
             + f"; linear fit R^2 = {w['linear_r2']:.3f}.",
             "Median variance, select-likely vs replace (n=100): "
             + ", ".join(f"gen {k}: {sel['select-likely'][k]:.3g} vs {sel['replace'][k]:.3g}" for k in sel["replace"]) + "."]
    return "\n".join(rows)


def language_tables(r: dict) -> str:
    rows = ["| language | human / ai | human labelled synthetic | AI labelled synthetic | unknown | main reasons | identified correctly | AUROC (scored rows) |",
            "|---|---|---|---|---|---|---|---|"]
    for x in r["languages"]:
        reasons = ", ".join(f"{k} {v}" for k, v in list(x["unknown_reasons"].items())[:2]) or "-"
        auroc = f"{x['auroc_scored']:.3f} (n={x['scored']})" if "auroc_scored" in x else f"- (n={x['scored']})"
        rows.append(f"| {x['language']} | {x['human']} / {x['ai']} | {x['human_labelled_synthetic']:.3f} | "
                    f"{x['ai_labelled_synthetic']:.3f} | {x['unknown_share']:.3f} | {reasons} | "
                    f"{x['identified_correctly']:.3f} | {auroc} |")
    s = r["summary"]
    rows += ["", f"Detector `{s['detector']}` scores {s['languages_scored']}. Worst language: {s['worst_language']}, "
             f"{s['worst_human_labelled_synthetic']:.1%} of its human rows labelled synthetic (target <= "
             f"{s['target_max_human_labelled_synthetic']:.0%}: {'met' if s['target_met'] else 'missed'}). "
             f"Tagging with language screening: {s['tag_docs_per_second_one_process']:,} documents/second "
             "(~200-word English documents, one process)."]
    return "\n".join(rows)


def dedup_language_tables(r: dict) -> str:
    models = list(r["embedders"])
    rows = ["| language (texts) | " + " | ".join(f"`{m}`: nn >= 0.95 / >= 0.9 / median nn" for m in models) + " |",
            "|---|" + "---|" * len(models)]
    for lang, n in r["languages"].items():
        cells = []
        for m in models:
            x = r["embedders"][m]["languages"].get(lang)
            cells.append(f"{x['share_nn_ge_0.95']:.1%} / {x['share_nn_ge_0.9']:.1%} / {x['median_nn_cosine']:.3f}" if x else "")
        rows.append(f"| {lang} ({n}) | " + " | ".join(cells) + " |")
    rows.append("| declared languages (compared by dedup) | "
                + " | ".join(", ".join(r["embedders"][m]["declared_languages"] or ["all"]) for m in models) + " |")
    return "\n".join(rows)


def main() -> None:
    detect = RESULTS / "detect.json"
    if detect.exists() and "tiers" in json.loads(detect.read_text()):
        print(f"### detect tiers\n\n{tier_tables(json.loads(detect.read_text()))}\n")
    for name, render in (("detect", detect_tables), ("detect_heads", head_tables), ("quota", quota_tables), ("resample", resample_tables),
                         ("collapse_anchors", anchor_tables),
                         ("languages", language_tables),
                         ("dedup_languages", dedup_language_tables)):
        path = RESULTS / f"{name}.json"
        if path.exists():
            print(f"### {name}\n\n{render(json.loads(path.read_text()))}\n")


if __name__ == "__main__":
    main()
