"""``synthfilter clean``: tag, quota, dedup and tail-resample in one resumable run (:func:`synthfilter.pipeline.clean`)."""

from __future__ import annotations

import argparse
import sys

from ..commands import INPUT_HELP, add_provenance_arguments, in_command_line_terms, values
from ..diversity.cli import add_resample_arguments

__all__ = ["add_parser"]


def _cmd_clean(args: argparse.Namespace) -> int:
    from ..engines.workers import watch_descendants
    from .config import CleanConfig
    from .run import clean

    if args.engine == "ray":
        watch_descendants()  # a killed run leaves no Ray process behind

    cfg = CleanConfig(max_synthetic=args.max_synthetic, resample=args.resample, engine=args.engine,
                      workers=args.workers, detector=args.detector, embedder=args.embedder,
                      dedup_threshold=None if args.no_dedup else (args.dedup_threshold or "auto"), by=args.by,
                      text_column=args.text_column, id_column=args.id_column, unknown=args.unknown,
                      seed=args.seed, keep_embeddings=args.keep_embeddings, batch_size=args.batch_size,
                      max_copies=args.max_copies, junk=args.junk, min_words=args.min_words,
                      boilerplate_min_repeats=args.boilerplate_min_repeats,
                      basis=args.basis, reference=args.reference, ai_reference=args.ai_reference,
                      confidence=args.confidence, shard_size=args.shard_size, verbose=args.verbose,
                      target_fpr=args.target_fpr, provenance_column=args.provenance_column,
                      human_values=values(args.human_values), synthetic_values=values(args.synthetic_values),
                      first_seen_column=args.first_seen_column, human_before=args.human_before)
    report = clean(args.input, args.output, cfg, command=getattr(args, "command_line", None))
    for step, rep in report["steps"].items():
        note = " (resumed)" if rep.get("resumed") else ""
        if rep.get("seconds"):
            note += f" in {rep['seconds']:.1f} s ({rep['rows_out'] / max(rep['seconds'], 1e-9):,.0f} rows/s)"
        print(f"{step:<9} -> {rep['rows_out']} rows{note}")
    calibration = report["steps"].get("calibrate", {})
    if calibration.get("text"):
        print(f"labels: {calibration['text']}")
    estimated = report.get("estimated_synthetic_share")
    if estimated:
        print(f"synthetic share before: {estimated['before_text']}")
        print(f"synthetic share after:  {estimated['after_text']}")
    for note in report.get("notes") or []:
        print(f"warning: {in_command_line_terms(note, args.parser)}", file=sys.stderr)
    print(f"{report['rows_in']} -> {report['rows_out']} rows, labelled synthetic share "
          f"{report['realised_synthetic_share']:.4f}; wrote {report['output']}, {args.output}/report.json, "
          f"{args.output}/report.html, {args.output}/manifest.json")
    dropped = {step: info["rows"] for step, info in report.get("dropped", {}).items() if info["rows"]}
    if dropped:
        print("dropped rows (in " + f"{args.output}/dropped/): " + ", ".join(f"{k}={v}" for k, v in dropped.items()))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``clean`` command to ``sub``."""
    cl = sub.add_parser("clean", help="tag, quota, dedup and tail-resample in one resumable run")
    cl.add_argument("input", help=INPUT_HELP)
    cl.add_argument("output", help="output folder: steps, output.jsonl|parquet, report.json, manifest.json")
    cl.add_argument("--max-synthetic", type=float, required=True, help="target synthetic share in [0, 1)")
    cl.add_argument("--resample", type=int, required=True, help="rows kept by tail resampling")
    cl.add_argument("--engine", choices=["local", "ray"], default="local")
    cl.add_argument("--workers", type=int, default=2, help="processes (local) or actors (ray) (default: 2)")
    cl.add_argument("--detector", default="fast", help="registry name or saved .npz (default: fast)")
    cl.add_argument("--dedup-threshold", type=float, default=None,
                    help="cosine similarity (default: the embedder's measured threshold)")
    cl.add_argument("--no-dedup", action="store_true", help="skip near-duplicate removal")
    cl.add_argument("--by", default=None, help="group column: enforce the quota within every group")
    cl.add_argument("--unknown", choices=["human", "synthetic", "drop"], default="human")
    cl.add_argument("--text-column", default="text")
    cl.add_argument("--id-column", default=None)
    cl.add_argument("--seed", type=int, default=0)
    cl.add_argument("--batch-size", type=int, default=1000)
    cl.add_argument("--keep-embeddings", action="store_true")
    add_resample_arguments(cl, max_copies_default=1)
    cl.add_argument("--verbose", action="store_true", help="show Ray's own logs and progress (--engine ray)")
    cl.add_argument("--shard-size", type=int, default=None,
                    help="write output-00000-of-000NN files of at most this many rows (listed in manifest.json)")
    cl.add_argument("--basis", choices=["auto", "labels", "estimated"], default="auto",
                    help="auto (default): the quota holds the estimated true share against known-human text of the "
                         "same kind (--reference, or the input's own rows known human by provenance); labels: the "
                         "share counted from detector labels (a lower bound on unseen sources)")
    group = cl.add_argument_group("true-share estimation")
    group.add_argument("--reference", default=None, help="known-human text: data file, folder or reservoir folder")
    group.add_argument("--ai-reference", default=None, help="known-AI text of the same kind")
    group.add_argument("--confidence", type=float, default=0.9, help="coverage of the interval (default: 0.9)")
    group.add_argument("--target-fpr", type=float, default=0.01,
                       help="sf_label is calibrated on the known-human text: this share of it is labelled synthetic "
                            "(default: 0.01)")
    add_provenance_arguments(cl)
    cl.set_defaults(func=_cmd_clean)
