"""Command line: ``synthfilter demo | tag | quota | estimate | resample | clean | collapse | reservoir | calibrate |
detector | embedder``.

This module builds the parser of every command and runs ``demo`` and ``tag``; the other commands live beside
their capability (``quota/cli.py``, ``diversity/cli.py``, ``pipeline/cli.py``, ``collapse/cli.py``,
``reservoir/cli.py``, ``detect/cli.py``). Building the parser imports no heavy library (no ``datasets``,
``pyarrow``, ``torch``, ``sklearn``): ``synthfilter --help`` answers at once; a command imports what it needs
when it runs.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path

from ._version import __version__
from .columns import LABEL, SCORE
from .commands import (add_input_output, add_provenance_arguments, in_command_line_terms, map_arrow,
                       provenance_options, stay_offline)

__all__ = ["build_parser", "main"]


def _summary(ds, group_column: str | None) -> str:
    labels = Counter(ds[LABEL.name])
    lines = [f"{len(ds)} rows tagged by {ds[0]['sf_detector'] if len(ds) else '-'}: "
             + ", ".join(f"{k}={labels[k]}" for k in ("human", "synthetic", "unknown"))]
    reasons = Counter(r for r in ds["sf_reason"] if r) if "sf_reason" in ds.column_names else Counter()
    decided = {k: v for k, v in reasons.items() if k.startswith("provenance:")}
    unknown = {k: v for k, v in reasons.items() if k not in decided}
    if decided:
        lines.append("decided by provenance (labelled by the rule, still scored): " + ", ".join(f"{k.removeprefix('provenance:')}={v}"
                                                                     for k, v in sorted(decided.items())))
    if unknown:
        lines.append("unknown, by reason: " + ", ".join(f"{k}={v}" for k, v in Counter(unknown).most_common()))
    if group_column and group_column in ds.column_names:
        scores = defaultdict(list)
        for group, score, label in zip(ds[group_column], ds[SCORE.name], ds[LABEL.name]):
            scores[group].append((score, label))
        lines.append(f"{'group':<12} {'rows':>4} {'mean sf_score':>13} {'synthetic':>9} {'unknown':>7}")
        for group in sorted(scores, key=str):
            vals = [s for s, _ in scores[group] if s is not None and not math.isnan(s)]
            mean = f"{sum(vals) / len(vals):.3f}" if vals else "nan"
            syn = sum(1 for _, lab in scores[group] if lab == "synthetic")
            unk = sum(1 for _, lab in scores[group] if lab == "unknown")
            lines.append(f"{str(group):<12} {len(scores[group]):>4} {mean:>13} {syn:>9} {unk:>7}")
    return "\n".join(lines)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .io import read_dataset, sample_path
    from .tag import Tagger

    ds = read_dataset(sample_path())
    tagged = map_arrow(ds, Tagger(detector=args.detector), desc="tagging sample")
    print(_summary(tagged, "written_as"))
    print("(sample: hand-written illustrations shipped with the package, not a benchmark;"
          " see benchmarks/detect.py for measured quality)")
    return 0


def _cmd_tag(args: argparse.Namespace) -> int:
    from .io import check_output, read_dataset, write_dataset
    from .tag import Tagger

    check_output(args.input, args.output)
    ds = read_dataset(args.input)
    languages = None if args.languages is None else [x for x in args.languages.split(",") if x and x != "all"]
    tagger = Tagger(text_column=args.text_column, detector=args.detector, threshold=args.threshold,
                    languages=languages, min_letters=args.min_letters, **provenance_options(args))
    tagged = map_arrow(ds, tagger, batch_size=args.batch_size, num_proc=args.num_proc, desc="tagging")
    calibration = None
    rules = tagger.provenance
    if args.threshold is None and (args.reference or (rules is not None and (rules.human or rules.first_seen_column))):
        from .quota import calibrate_labels

        try:
            tagged, calibration = calibrate_labels(tagged, args.reference, target_fpr=args.target_fpr,
                                                   provenance=rules, text_column=args.text_column,
                                                   detector=args.detector, num_proc=args.num_proc, return_report=True)
        except ValueError as err:  # no known-human row: the detector's own labels stay
            print(f"sf_label not calibrated: {err}")
    write_dataset(tagged, args.output)
    print(_summary(tagged, args.group_column))
    if calibration is not None:
        print(calibration)
    print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthfilter", description="Transforms against model collapse.")
    parser.add_argument("--version", action="version", version=f"synthfilter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from .collapse.cli import add_parser as add_collapse
    add_collapse(sub)
    from .reservoir.cli import add_parser as add_reservoir
    add_reservoir(sub)
    from .detect.cli import add_parser as add_detector
    add_detector(sub)
    from .diversity.cli import add_parser as add_embedder
    add_embedder(sub)
    demo = sub.add_parser("demo", help="tag the sample shipped with the package and print a summary")
    demo.add_argument("--detector", default="fast", help="registry name or saved .npz (default: fast)")
    demo.set_defaults(func=_cmd_demo)
    tag = sub.add_parser("tag", help="add sf_score/sf_label/sf_detector columns to a dataset")
    add_input_output(tag)
    tag.add_argument("--text-column", default="text")
    tag.add_argument("--detector", default="fast",
                     help="registry name (fast, stack, cascade, lm, embed) or saved .npz (default: fast)")
    tag.add_argument("--threshold", type=float, default=None, help="probability threshold (default: the detector's)")
    tag.add_argument("--languages", default=None,
                     help="comma-separated ISO 639-1 codes to score, or 'all' (default: the detector's own)")
    tag.add_argument("--min-letters", type=int, default=20, help="shorter texts are unknown/too_short (default: 20)")
    tag.add_argument("--group-column", default=None, help="summarise scores per value of this column")
    tag.add_argument("--reference", default=None,
                     help="known-human text of the same kind (file, folder or reservoir): sf_label is calibrated on "
                          "it (without --threshold); rows known human by the provenance rules below serve alike")
    tag.add_argument("--target-fpr", type=float, default=0.01,
                     help="share of the known-human text labelled synthetic after calibration (default: 0.01)")
    tag.add_argument("--batch-size", type=int, default=1000)
    tag.add_argument("--num-proc", type=int, default=None)
    add_provenance_arguments(tag)
    tag.set_defaults(func=_cmd_tag)
    from .quota.cli import add_parsers as add_quota_and_estimate
    add_quota_and_estimate(sub)
    from .diversity.cli import add_resample_parser
    add_resample_parser(sub)
    from .pipeline.cli import add_parser as add_clean
    add_clean(sub)
    return parser


_LOCAL_MODELS = {"minilm", "hashing", "static"}


def _hub_models(args: argparse.Namespace) -> list[str]:
    """Model names on the command line that are neither built in nor local paths (so: hub names)."""
    names = [getattr(args, "embedder", None)]
    return [n for n in names if n and n not in _LOCAL_MODELS and not Path(n).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = "synthfilter " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    if not _hub_models(args):
        stay_offline()
    sub = parser._subparsers._group_actions[0].choices.get(args.command) if parser._subparsers else None
    args.parser = sub
    from .engines.workers import children_die_with_me

    children_die_with_me()  # pool workers do not outlive a killed command
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError, TypeError, ImportError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"synthfilter {args.command}: error: {in_command_line_terms(str(message), sub)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
