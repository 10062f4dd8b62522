"""Command line: ``synthfilter demo | tag | quota | estimate | resample | clean | collapse | reservoir | calibrate |
detector``."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path

from ._version import __version__
from .commands import in_command_line_terms, stay_offline
from .columns import LABEL, SCORE
from .io import atomic_write_text, check_output, read_dataset, sample_path, write_dataset
from .diversity import resample_tails
from .diversity import EMBEDDING_COLUMN, Embedder
from .batches import EmbedColumn
from .engines.workers import BoundToParent, children_die_with_me, watch_descendants
from .quota import enforce_quota
from .tag import Tagger

__all__ = ["main"]


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


def _map_arrow(ds, fn, **options):
    """``ds.map(fn, batched=True)`` on Arrow batches: ``fn`` returns the table it was given with its columns
    set, so every other column is written back as it was read (a ``Json`` column -- a JSON column mixing
    strings and numbers -- re-encoded from Python values would read the string ``"null"`` as null)."""
    if options.get("num_proc"):
        fn = BoundToParent(fn)  # workers die with this process
    return ds.with_format("arrow").map(fn, batched=True, **options).with_format(None)


def _cmd_demo(args: argparse.Namespace) -> int:
    ds = read_dataset(sample_path())
    tagged = _map_arrow(ds, Tagger(detector=args.detector), desc="tagging sample")
    print(_summary(tagged, "written_as"))
    print("(sample: hand-written illustrations shipped with the package, not a benchmark;"
          " see benchmarks/detect.py for measured quality)")
    return 0


def _cmd_tag(args: argparse.Namespace) -> int:
    check_output(args.input, args.output)
    ds = read_dataset(args.input)
    languages = None if args.languages is None else [x for x in args.languages.split(",") if x and x != "all"]
    tagger = Tagger(text_column=args.text_column, detector=args.detector, threshold=args.threshold,
                    languages=languages, min_letters=args.min_letters, **_provenance(args))
    tagged = _map_arrow(ds, tagger, batch_size=args.batch_size, num_proc=args.num_proc, desc="tagging")
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


def _report_path(output: str, step: str) -> str:
    """Where a command's JSON report goes: beside its output, ``OUTPUT.<step>.json``."""
    return f"{str(output).rstrip('/')}.{step}.json"


def _write_with_report(out, report, output: str, step: str, parser: argparse.ArgumentParser | None = None) -> int:
    """Write the dataset and its JSON report beside it (``OUTPUT.<step>.json``); print the report."""
    write_dataset(out, output)
    report_path = _report_path(output, step)
    atomic_write_text(report_path, report.to_json() + "\n")
    print(in_command_line_terms(str(report), parser))
    print(f"wrote {output} and {report_path}")
    return 0


def _cmd_quota(args: argparse.Namespace) -> int:
    check_output([args.input, args.reference, args.ai_reference], args.output, _report_path(args.output, "quota"))
    ds = read_dataset(args.input)
    options = dict(mode=args.mode, by=args.by, label_column=args.label_column, synthetic_column=args.synthetic_column,
                   score_threshold=args.score_threshold, unknown=args.unknown, id_column=args.id_column,
                   text_column=args.text_column, seed=args.seed, min_rows=args.min_rows, basis=args.basis,
                   confidence=args.confidence, method=args.method, **_provenance(args))
    _require_reference(ds, options, args)
    out, report = enforce_quota(ds, args.max_synthetic, num_proc=args.num_proc, return_report=True,
                                num_shards=max(1, math.ceil(ds.num_rows / 1_000_000)), progress=True,
                                reference=args.reference, ai_reference=args.ai_reference, detector=args.detector,
                                **options)
    return _write_with_report(out, report, args.output, "quota", args.parser)


def _require_reference(ds, options: dict, args: argparse.Namespace) -> None:
    """Refuse a quota that would silently hold detector labels: ``--basis auto`` without known-human text."""
    import warnings

    from .quota import QuotaConfig
    from .quota.basis import detector_labels, settle_basis
    from .quota.keys import own_reference_rows
    from .quota.notes import no_reference_error
    from .quota.reference import corpus_detector
    from .columns import DETECTOR

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
    from .quota import estimate_share

    if args.json:
        check_output([args.input, args.reference, args.ai_reference], args.json)
    ds = read_dataset(args.input)
    rules = _provenance(args)
    if SCORE.name not in ds.column_names:
        ds = _map_arrow(ds, Tagger(text_column=args.text_column, detector=args.detector, **rules),
                        num_proc=args.num_proc, desc="tagging")
    est = estimate_share(ds, args.reference, ai_reference=args.ai_reference, by=args.by, confidence=args.confidence,
                         seed=args.seed, method=args.method, text_column=args.text_column, num_proc=args.num_proc,
                         detector=args.detector, **rules)
    print(est)
    if args.json:
        atomic_write_text(args.json, est.to_json() + "\n")
        print(f"wrote {args.json}")
    return 0


def _values(text: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple of its non-empty values."""
    return tuple(v for v in (text or "").split(",") if v)


def _provenance(args: argparse.Namespace) -> dict:
    """``provenance``/``first_seen_column``/``human_before`` keyword arguments from the command line."""
    rules = None
    if args.provenance_column:
        rules = {"column": args.provenance_column,
                 "human": [v for v in (args.human_values or "").split(",") if v],
                 "synthetic": [v for v in (args.synthetic_values or "").split(",") if v]}
    elif args.human_values or args.synthetic_values:
        raise ValueError("--human-values/--synthetic-values need --provenance-column")
    return {"provenance": rules, "first_seen_column": args.first_seen_column, "human_before": args.human_before}


def _add_provenance_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("provenance (decides before the detector)")
    group.add_argument("--provenance-column", default=None, help="column whose value says where a row came from")
    group.add_argument("--human-values", default=None, help="comma-separated values of --provenance-column that are human")
    group.add_argument("--synthetic-values", default=None,
                       help="comma-separated values of --provenance-column that are synthetic")
    group.add_argument("--first-seen-column", default=None,
                       help="date column: rows first seen before --human-before are human (and are the input's own "
                            "reference for the true share and the labels)")
    group.add_argument("--human-before", default=None, help="ISO date, e.g. 2022-11-30 (the release of ChatGPT)")


def _add_estimate_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("true-share estimation")
    group.add_argument("--reference", default=None,
                       help="known-human text of the same kind: data file, folder or reservoir folder (default: the "
                            "input's own rows known human by provenance, see below)")
    group.add_argument("--ai-reference", default=None, help="known-AI text of the same kind (enables the MLE estimator)")
    group.add_argument("--confidence", type=float, default=0.9, help="coverage of the interval (default: 0.9)")
    group.add_argument("--method", choices=["auto", "bbe", "mle"], default="auto",
                       help="auto (default): mle with --ai-reference, else bbe")


def _add_resample_arguments(parser: argparse.ArgumentParser, max_copies_default: int | None) -> None:
    group = parser.add_argument_group("tail resampling")
    group.add_argument("--embedder", default="static",
                       help="static (default: distilled from MiniLM, shipped, over 100x faster), minilm, hashing, "
                            "or a sentence-transformers path")
    group.add_argument("--max-copies", type=int, default=max_copies_default,
                       help="the most copies of one row in the output (default: 1, no repetition)")
    group.add_argument("--no-junk-rule", dest="junk", action="store_false",
                       help="let junk rows (unknown, short, boiler-plate) be up-weighted like any other")
    group.add_argument("--min-words", type=int, default=5, help="rows with fewer words are junk (default: 5; 0: off)")
    group.add_argument("--boilerplate-min-repeats", type=int, default=3,
                       help="rows whose normalised text occurs this often are junk (default: 3; 0: off)")


def _with_embeddings(ds, args: argparse.Namespace, what: str):
    if EMBEDDING_COLUMN in ds.column_names:
        return ds
    embedder = Embedder(text_column=args.text_column, model=args.embedder)
    return _map_arrow(ds, EmbedColumn(embedder), batch_size=256, features=embedder.output_features(ds.features),
                      desc=f"embedding {what} ({args.embedder})")


def _cmd_resample(args: argparse.Namespace) -> int:
    if args.size < 1:
        raise ValueError(f"--size must be at least 1 row, got {args.size}")
    check_output([args.input, args.reference], args.output, _report_path(args.output, "resample"))
    ds = read_dataset(args.input)
    reference = None
    if args.by is None:
        ds = _with_embeddings(ds, args, "input")
        if args.reference:
            from .reservoir import Reservoir, is_reservoir

            ref = Reservoir(args.reference).dataset() if is_reservoir(args.reference) else read_dataset(args.reference)
            reference = _with_embeddings(ref, args, "reference")
    out, report = resample_tails(
        ds, args.size, by=args.by, alpha=args.alpha, reference=reference, replace=args.replace,
        max_repeats=args.max_repeats, max_copies=args.max_copies, junk=None if args.junk else False,
        min_words=args.min_words, boilerplate_min_repeats=args.boilerplate_min_repeats, invalid=args.invalid,
        id_column=args.id_column, text_column=args.text_column, seed=args.seed, progress=True, return_report=True,
    )
    if args.by is None and not args.keep_embeddings:
        out = out.remove_columns(EMBEDDING_COLUMN)
    return _write_with_report(out, report, args.output, "resample")


def _cmd_clean(args: argparse.Namespace) -> int:
    from .pipeline import CleanConfig, clean

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
                      human_values=_values(args.human_values), synthetic_values=_values(args.synthetic_values),
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
    tag.add_argument("input", help="JSONL or Parquet file, or a folder of them, or a saved datasets folder")
    tag.add_argument("output", help="output path: .jsonl, .parquet, or a folder (saved datasets)")
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
    _add_provenance_arguments(tag)
    tag.set_defaults(func=_cmd_tag)
    quota = sub.add_parser("quota", help="drop surplus synthetic rows to enforce a maximum synthetic share")
    quota.add_argument("input", help="JSONL or Parquet file, a folder of them, or a saved datasets folder")
    quota.add_argument("output", help="output path (.jsonl, .parquet or folder); the report goes to OUTPUT.quota.json")
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
    _add_provenance_arguments(quota)
    quota.set_defaults(func=_cmd_quota)
    est = sub.add_parser("estimate", help="estimate the true synthetic share of a dataset against known-human text")
    est.add_argument("input", help="tagged (or untagged: it is tagged first) JSONL/Parquet file or folder")
    _add_estimate_arguments(est)
    _add_provenance_arguments(est)
    est.add_argument("--by", default=None, help="group column: one estimate per group")
    est.add_argument("--detector", default="fast",
                     help="detector for untagged input and a text --reference (default: fast)")
    est.add_argument("--text-column", default="text")
    est.add_argument("--seed", type=int, default=0)
    est.add_argument("--num-proc", type=int, default=None)
    est.add_argument("--json", default=None, help="also write the estimate as JSON to this file")
    est.set_defaults(func=_cmd_estimate)
    res = sub.add_parser("resample", help="select N rows balanced over embedding clusters (or categories)")
    res.add_argument("input", help="JSONL or Parquet file, a folder of them, or a saved datasets folder")
    res.add_argument("output", help="output path; the report goes to OUTPUT.resample.json")
    res.add_argument("--size", type=int, required=True, help="rows to select")
    res.add_argument("--by", default=None, help="rebalance this label column instead of clustering")
    res.add_argument("--alpha", type=float, default=0.0, help="with --by: target proportions ~ count**alpha (0 = uniform)")
    res.add_argument("--reference", default=None,
                     help="trusted data (file, folder or reservoir folder) whose cluster proportions to match")
    _add_resample_arguments(res, max_copies_default=None)
    res.add_argument("--text-column", default="text")
    res.add_argument("--id-column", default=None)
    res.add_argument("--replace", action="store_true", help="older spelling of --max-copies 4 (with --max-repeats K: K)")
    res.add_argument("--max-repeats", type=int, default=None, help="with --replace: the most copies of one row")
    res.add_argument("--invalid", choices=["error", "drop"], default="error", help="rows that cannot be embedded")
    res.add_argument("--keep-embeddings", action="store_true", help="keep the sf_embedding column in the output")
    res.add_argument("--seed", type=int, default=0)
    res.set_defaults(func=_cmd_resample)
    cl = sub.add_parser("clean", help="tag, quota, dedup and tail-resample in one resumable run")
    cl.add_argument("input", help="JSONL or Parquet file, or a folder of them")
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
    _add_resample_arguments(cl, max_copies_default=1)
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
    _add_provenance_arguments(cl)
    cl.set_defaults(func=_cmd_clean)
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
    children_die_with_me()  # pool workers do not outlive a killed command
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError, TypeError, ImportError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"synthfilter {args.command}: error: {in_command_line_terms(str(message), sub)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
