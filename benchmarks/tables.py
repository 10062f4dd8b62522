"""Print the README's benchmark tables (Markdown) from benchmarks/results/*.json.

    python benchmarks/tables.py
"""

from __future__ import annotations

import json
from pathlib import Path

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


def main() -> None:
    for name, render in (("detect", detect_tables),):
        path = RESULTS / f"{name}.json"
        if path.exists():
            print(f"### {name}\n\n{render(json.loads(path.read_text()))}\n")


if __name__ == "__main__":
    main()
