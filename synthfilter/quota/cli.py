"""``synthfilter quota`` (enforce a maximum synthetic share) and ``synthfilter estimate`` (the true share)."""

from __future__ import annotations

import argparse
import math

from ..columns import DETECTOR, LABEL, SCORE
from ..commands import (INPUT_HELP, add_input_output, add_provenance_arguments, map_arrow, provenance_options, report_path,
                        write_with_report)

__all__ = ["add_parsers"]


def _cmd_quota(args: argparse.Namespace) -> int:
    from ..io import check_output, read_dataset
    from .datasets import enforce_quota

    check_output([args.input, args.reference, args.ai_reference], args.output, report_path(args.output, "quota"))
    ds = read_dataset(args.input)
    options = dict(mode=args.mode, by=args.by, label_column=args.label_column, synthetic_column=args.synthetic_column,
                   score_threshold=args.score_threshold, unknown=args.unknown, id_column=args.id_column,
                   text_column=args.text_column, seed=args.seed, min_rows=args.min_rows, basis=args.basis,
                   confidence=args.confidence, method=args.method, **provenance_options(args))
    _require_reference(ds, options, args)
    out, report = enforce_quota(ds, args.max_synthetic, num_proc=args.num_proc, return_report=True,
                                num_shards=max(1, math.ceil(ds.num_rows / 1_000_000)), progress=True,
                                reference=args.reference, ai_reference=args.ai_reference, detector=args.detector,
                                **options)
    return write_with_report(out, report, args.output, "quota", args.parser)


def _require_reference(ds, options: dict, args: argparse.Namespace) -> None:
    """Refuse a quota that would silently hold detector labels: ``--basis auto`` without known-human text."""
    import warnings

    from .basis import detector_labels, settle_basis
    from .config import QuotaConfig
    from .keys import own_reference_rows
    from .notes import no_reference_error
    from .reference import corpus_detector

    cfg = QuotaConfig(args.max_synthetic, **options)
    if cfg.basis != "auto" or args.reference:
        return
    table = ds.data.table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        settled = settle_basis(cfg, ds.column_names, reference=False,
                               own_rows=lambda: own_reference_rows(table, cfg))
    if settled.basis == "labels" and detector_labels(settled, ds.column_names):
        tag = corpus_detector(ds.unique(DETECTOR.name)) if DETECTOR.name in ds.column_names else None
        raise ValueError(no_reference_error(tag))


def _cmd_estimate(args: argparse.Namespace) -> int:
    from ..io import atomic_write_text, check_output, read_dataset
    from ..tag import Tagger
    from .share import estimate_share

    if args.json:
        check_output([args.input, args.reference, args.ai_reference], args.json)
    ds = read_dataset(args.input)
    rules = provenance_options(args)
    if SCORE.name not in ds.column_names:
        ds = map_arrow(ds, Tagger(text_column=args.text_column, detector=args.detector, **rules),
                       num_proc=args.num_proc, desc="tagging")
    est = estimate_share(ds, args.reference, ai_reference=args.ai_reference, by=args.by, confidence=args.confidence,
                         seed=args.seed, method=args.method, text_column=args.text_column, num_proc=args.num_proc,
                         detector=args.detector, **rules)
    print(est)
    if args.json:
        atomic_write_text(args.json, est.to_json() + "\n")
        print(f"wrote {args.json}")
    return 0


def _add_estimate_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("true-share estimation")
    group.add_argument("--reference", default=None,
                       help="known-human text of the same kind: data file, folder or reservoir folder (default: the "
                            "input's own rows known human by provenance, see below)")
    group.add_argument("--ai-reference", default=None, help="known-AI text of the same kind (enables the MLE estimator)")
    group.add_argument("--confidence", type=float, default=0.9, help="coverage of the interval (default: 0.9)")
    group.add_argument("--method", choices=["auto", "bbe", "mle"], default="auto",
                       help="auto (default): mle with --ai-reference, else bbe")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``quota`` and ``estimate`` commands to ``sub``."""
    quota = sub.add_parser("quota", help="drop surplus synthetic rows to enforce a maximum synthetic share")
    add_input_output(quota, report="quota")
    quota.add_argument("--max-synthetic", type=float, required=True, help="target synthetic share in [0, 1)")
    quota.add_argument("--mode", choices=["cap", "exact"], default="cap")
    quota.add_argument("--by", default=None, help="group column: enforce the quota within every group")
    quota.add_argument("--label-column", default=LABEL.name)
    quota.add_argument("--synthetic-column", default=None, help="boolean provenance column (beats detection)")
    quota.add_argument("--score-threshold", type=float, default=None, help="classify by sf_score >= threshold")
    quota.add_argument("--unknown", choices=["human", "synthetic", "drop"], default="human")
    quota.add_argument("--id-column", default=None, help="row key for the hash (default: the text column)")
    quota.add_argument("--text-column", default="text")
    quota.add_argument("--seed", type=int, default=0)
    quota.add_argument("--min-rows", type=int, default=1)
    quota.add_argument("--num-proc", type=int, default=None)
    quota.add_argument("--basis", choices=["auto", "labels", "estimated"], default="auto",
                       help="auto (default): hold the estimated true share (top of its certified interval) when "
                            "known-human text of the same kind is given (--reference, or provenance rules below), "
                            "else refuse; labels: count labelled rows (a lower bound on unseen sources)")
    quota.add_argument("--detector", default=None,
                       help="the detector that tagged the input, to tag a text --reference (default: the one its "
                            "sf_detector names)")
    _add_estimate_arguments(quota)
    add_provenance_arguments(quota)
    quota.set_defaults(func=_cmd_quota)
    est = sub.add_parser("estimate", help="estimate the true synthetic share of a dataset against known-human text")
    est.add_argument("input", help=INPUT_HELP + " (tagged, or untagged: it is tagged first)")
    _add_estimate_arguments(est)
    add_provenance_arguments(est)
    est.add_argument("--by", default=None, help="group column: one estimate per group")
    est.add_argument("--detector", default="fast",
                     help="detector for untagged input and a text --reference (default: fast)")
    est.add_argument("--text-column", default="text")
    est.add_argument("--seed", type=int, default=0)
    est.add_argument("--num-proc", type=int, default=None)
    est.add_argument("--json", default=None, help="also write the estimate as JSON to this file")
    est.set_defaults(func=_cmd_estimate)
