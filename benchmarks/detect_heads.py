"""What was tried to make the stack generalise: head variants, leave-one-source-out.

    python benchmarks/detect_heads.py [--lm-cache ~/.cache/synthfilter/lm_features_128.npz]

On the heavy tiers' training sample (750 documents per source and label), for every
held-out source: the fast tier alone; a logistic head over the LM statistics, over
LM + stylometry, and over LM + stylometry + the cross-fitted n-gram score (the stack),
each at two regularisation strengths; a meta-learner over cross-fitted fast and
LM+style scores; and plain sums of calibrated log-odds. Writes
benchmarks/results/detect_heads.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _proc import write_result  # noqa: E402

from synthfilter.detect.corpus import (  # noqa: E402
    balanced_weights, cap_per_cell, default_corpus_dir, exclude_overlap, load_corpus,
)
from synthfilter.detect.fast import FastDetector  # noqa: E402
from synthfilter.detect.head import LinearHead  # noqa: E402
from synthfilter.detect.lm import shared_scorer  # noqa: E402
from synthfilter.detect.stack import StackDetector  # noqa: E402
from synthfilter.detect.train import DEFAULT_CAP, default_lm_cache  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def variants(train, test) -> dict[str, float]:
    y, yt = np.array([d.label for d in train]), np.array([d.label for d in test])
    w = np.array(balanced_weights(train))
    probe = FastDetector()
    lex, sty = probe._blocks(probe.prepare([d.text for d in train]))
    lext, styt = probe._blocks(probe.prepare([d.text for d in test]))
    folds = StackDetector()._folds(y, [d.source for d in train])
    oof = np.empty(len(y))
    for tr, te in folds:
        oof[te] = FastDetector()._fit_blocks(lex[tr], sty[tr], y[tr], w[tr])._decision_blocks(lex[te], sty[te])
    fast_test = FastDetector()._fit_blocks(lex, sty, y, w)._decision_blocks(lext, styt)
    scorer = shared_scorer()
    L, Lt = scorer.features([d.text for d in train]), scorer.features([d.text for d in test])
    LS, LSt = np.hstack([L, sty]), np.hstack([Lt, styt])
    out = {"fast": roc_auc_score(yt, fast_test)}
    for name, X, Xt in (("lm", L, Lt), ("lm+style", LS, LSt),
                        ("stack", np.hstack([LS, oof[:, None]]), np.hstack([LSt, fast_test[:, None]]))):
        for C in (0.01, 0.3):
            out[f"{name} C={C}"] = roc_auc_score(yt, LinearHead(C=C).fit(X, y, w).decision(Xt))
    oof_ls = np.empty(len(y))
    for tr, te in folds:
        oof_ls[te] = LinearHead(C=0.3).fit(LS[tr], y[tr], w[tr]).decision(LS[te])
    ls_test = LinearHead(C=0.3).fit(LS, y, w).decision(LSt)
    meta = LinearHead(C=1.0).fit(np.c_[oof, oof_ls], y, w)
    out["meta(cross-fitted fast, lm+style)"] = roc_auc_score(yt, meta.decision(np.c_[fast_test, ls_test]))
    gate = LinearHead(C=1e4).fit(oof[:, None], y, w)
    out["sum(fast, lm) log-odds"] = roc_auc_score(yt, gate.decision(fast_test[:, None]) + LinearHead(C=0.3).fit(L, y, w).decision(Lt))
    out["sum(fast, lm+style) log-odds"] = roc_auc_score(yt, gate.decision(fast_test[:, None]) + ls_test)
    return {k: round(float(v), 4) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(default_corpus_dir()))
    parser.add_argument("--lm-cache", default=str(default_lm_cache()))
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"SKIP: detector corpus not found at {args.data} (see ../shared/data/README.md)")
        return 0
    sample = cap_per_cell(load_corpus(args.data), cap=DEFAULT_CAP["stack"])
    scorer = shared_scorer()
    scorer.load_cache(args.lm_cache)
    scorer.features([d.text for d in sample], progress=True)
    scorer.save_cache(args.lm_cache)
    per_source = {}
    for held in sorted({d.source for d in sample}):
        test = [d for d in sample if d.source == held]
        per_source[held] = variants(exclude_overlap([d for d in sample if d.source != held], test), test)
        print(f"  held out {held:14s} {json.dumps(per_source[held])}", flush=True)
    names = list(next(iter(per_source.values())))
    result = {"mean_auroc": {k: round(float(np.mean([r[k] for r in per_source.values()])), 4) for k in names},
              "min_auroc": {k: round(float(np.min([r[k] for r in per_source.values()])), 4) for k in names},
              "leave_one_source_out": per_source}
    print("mean: " + json.dumps(result["mean_auroc"]))
    write_result("detect_heads.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
