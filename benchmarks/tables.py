"""Write the benchmark tables that have no script of their own onto their docs pages, from benchmarks/results/*.json.

    python benchmarks/tables.py           # print every table
    python benchmarks/tables.py --docs    # rewrite their generated sections under docs/benchmarks/
    python benchmarks/tables.py --check   # exit 1 when a page differs from the results

The other scripts write their own sections (``--docs``/``--check``): the collapse results
``benchmarks/collapse_readme.py``, the reliability section ``benchmarks/reliability.py``, and so on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._proc import add_docs_flags, rewrite_docs_section  # noqa: E402

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
    speed = sp["docs_per_s_2_processes"]
    rows += ["", f"Targets: >= 2,000 documents/second on 2 cores: **{'met' if speed >= 2000 else 'not met'}** ({speed:,}); "
             f"character attacks within 0.02 AUROC: **{'met' if abs(sh['auroc_clean'] - sh['auroc_attacked']) <= 0.02 else 'not met'}** "
             f"({sh['auroc_clean']:.4f} / {sh['auroc_attacked']:.4f}); leave-one-source-out mean AUROC >= 0.80: "
             f"**{'met' if s['fast_loso_mean_auroc'] >= 0.8 else 'not met'}: {s['fast_loso_mean_auroc']:.3f}** "
             f"(TF-IDF + LR baseline {s['tfidf_lr_loso_mean_auroc']:.3f} on the same splits)."]
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
        cells = {"fast": f"{r['throughput']['docs_per_s_2_processes']:,} (2 processes)", "stack+embed": "-"}
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
    big = [x for x in r["runs"] if x["rows"] >= 10_000_000]
    if big:
        secs, mb = [x["seconds"] for x in big], [x["peak_extra_mb"] for x in big]
        met = max(secs) < 10 and max(mb) < 1024
        rows += ["", f"Target: 10 million rows in under 10 seconds with under 1 GB extra memory: **{'met' if met else 'not met'}** "
                 f"({min(secs)}-{max(secs)} s, {min(mb) / 1000:.2f}-{max(mb) / 1000:.2f} GB); realised share exact to the row: "
                 f"**{'met' if all(s['exact_to_the_row'].values()) else 'not met'}**."]
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
        "",
        f"Targets: rare component >= 5x its input share after resampling to 20%: "
        f"**{'met' if p['rare_gain_resampled'] >= 5 else 'not met'}** ({p['rare_gain_resampled']}x; a random sample "
        f"{p['rare_gain_random']}x); {sc['rows']:,} x {sc['dim']} clustering + selection under 3 minutes and 6 GB: "
        f"**{'met' if sc['seconds'] < 180 and sc['peak_extra_gb'] < 6 else 'not met'}** ({sc['seconds']:.0f} s, "
        f"{sc['peak_extra_gb']} GB); deterministic across `num_proc`: "
        f"**{'met' if e['same_selection_num_proc_1_and_2'] else 'not met'}**.",
    ])


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


def paraphrase_tables(r: dict) -> str:
    rows = [f"| held-out folder | AUROC human vs AI | human vs paraphrased AI | same, `fast` trained with paraphrases | "
            "paraphrases flagged at the transferred threshold, plain / trained |", "|---|---|---|---|---|"]

    def row(name: str, x: dict, bold: bool = False) -> str:
        p, t = x["plain"], x["paraphrase_trained"]
        b = "**" if bold else ""
        return (f"| {b}{name}{b} | {b}{p['auroc_ai']:.3f}{b} | {b}{p['auroc_paraphrased']:.3f}{b} | "
                f"{b}{t['auroc_paraphrased']:.3f}{b} | {p['paraphrased_flagged']:.3f} / {t['paraphrased_flagged']:.3f} |")

    for name, x in r["per_folder"].items():
        rows.append(row(f"{name} ({x['n_human']} human / {x['n_ai']} AI)", x))
    rows.append(row("mean", r["mean"], bold=True))
    m = r["mean"]
    rows += ["", f"Every text cut to {r['words']} words; {r['train_paraphrases_per_folder']} paraphrases per training "
             f"folder for the trained variant; at the shipped threshold (level {r['alpha']:.2%}) "
             f"{m['plain']['paraphrased_flagged']:.1%} of paraphrases and {m['plain']['ai_flagged']:.1%} of AI originals "
             f"are flagged; {r['seconds'] / 60:.0f} minutes."]
    return "\n".join(rows)


class Section(NamedTuple):
    """A generated section: its markers, the result file it is rendered from, and the renderer."""

    begin: str
    end: str
    result: str
    render: Callable[[dict], str]


SECTIONS = (
    Section("<!-- detect-english:begin -->", "<!-- detect-english:end -->", "detect.json", detect_tables),
    Section("<!-- detect-tiers:begin -->", "<!-- detect-tiers:end -->", "detect.json", tier_tables),
    Section("<!-- detect-heads:begin -->", "<!-- detect-heads:end -->", "detect_heads.json", head_tables),
    Section("<!-- detect-paraphrase:begin -->", "<!-- detect-paraphrase:end -->", "detect_paraphrase.json",
            paraphrase_tables),
    Section("<!-- languages:begin -->", "<!-- languages:end -->", "languages.json", language_tables),
    Section("<!-- quota:begin -->", "<!-- quota:end -->", "quota.json", quota_tables),
    Section("<!-- resample:begin -->", "<!-- resample:end -->", "resample.json", resample_tables),
    Section("<!-- embedders:begin -->", "<!-- embedders:end -->", "resample.json",
            lambda r: embedder_tables(r["embedders"])),
    Section("<!-- dedup-languages:begin -->", "<!-- dedup-languages:end -->", "dedup_languages.json",
            dedup_language_tables),
)


def rewrite(check: bool, only: set[str] | None = None) -> int:
    """Rewrite (``check``: compare) every section of :data:`SECTIONS` (or those whose result file is in ``only``)."""
    code = 0
    for sec in SECTIONS:
        if only is not None and sec.result not in only:
            continue
        body = sec.render(json.loads((RESULTS / sec.result).read_text()))
        code |= rewrite_docs_section(sec.begin, sec.end, body, check, sec.begin[5:-10],
                                     "python benchmarks/tables.py --docs")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_docs_flags(parser)
    args = parser.parse_args(argv)
    if args.docs or args.check:
        return rewrite(args.check)
    for sec in SECTIONS:
        path = RESULTS / sec.result
        if path.exists():
            print(f"### {sec.begin[5:-10]}\n\n{sec.render(json.loads(path.read_text()))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
