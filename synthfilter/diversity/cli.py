"""``synthfilter resample`` (select N rows balanced over embedding clusters) and ``synthfilter embedder
build-static`` (build the static embedding model ahead of time).

``Embedder(model="static")`` distils it on first use; a pipeline that must not pause for
a minute or two on its first batch (or a cluster image built once) runs ``build-static`` instead.
"""

from __future__ import annotations

import argparse
import json

from ..commands import add_input_output, command_group, map_arrow, report_path, write_with_report

__all__ = ["add_parser", "add_resample_arguments", "add_resample_parser"]


def _with_embeddings(ds, args: argparse.Namespace, what: str):
    from .embed_batches import EmbedColumn
    from .encoders import EMBEDDING_COLUMN, Embedder

    if EMBEDDING_COLUMN in ds.column_names:
        return ds
    embedder = Embedder(text_column=args.text_column, model=args.embedder)
    return map_arrow(ds, EmbedColumn(embedder), batch_size=256, features=embedder.output_features(ds.features),
                     desc=f"embedding {what} ({args.embedder})")


def _cmd_resample(args: argparse.Namespace) -> int:
    from ..io import check_output, read_dataset
    from .encoders import EMBEDDING_COLUMN
    from .resample import resample_tails

    if args.size < 1:
        raise ValueError(f"--size must be at least 1 row, got {args.size}")
    check_output([args.input, args.reference], args.output, report_path(args.output, "resample"))
    ds = read_dataset(args.input)
    reference = None
    if args.by is None:
        ds = _with_embeddings(ds, args, "input")
        if args.reference:
            from ..reservoir import Reservoir, is_reservoir

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
    return write_with_report(out, report, args.output, "resample")


def add_resample_arguments(parser: argparse.ArgumentParser, max_copies_default: int | None) -> None:
    """The tail-resampling options ``resample`` and ``clean`` share."""
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


def add_resample_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``resample`` command to ``sub``."""
    res = sub.add_parser("resample", help="select N rows balanced over embedding clusters (or categories)")
    add_input_output(res, report="resample")
    res.add_argument("--size", type=int, required=True, help="rows to select")
    res.add_argument("--by", default=None, help="rebalance this label column instead of clustering")
    res.add_argument("--alpha", type=float, default=0.0, help="with --by: target proportions ~ count**alpha (0 = uniform)")
    res.add_argument("--reference", default=None,
                     help="trusted data (file, folder or reservoir folder) whose cluster proportions to match")
    add_resample_arguments(res, max_copies_default=None)
    res.add_argument("--text-column", default="text")
    res.add_argument("--id-column", default=None)
    res.add_argument("--replace", action="store_true", help="older spelling of --max-copies 4 (with --max-repeats K: K)")
    res.add_argument("--max-repeats", type=int, default=None, help="with --replace: the most copies of one row")
    res.add_argument("--invalid", choices=["error", "drop"], default="error", help="rows that cannot be embedded")
    res.add_argument("--keep-embeddings", action="store_true", help="keep the sf_embedding column in the output")
    res.add_argument("--seed", type=int, default=0)
    res.set_defaults(func=_cmd_resample)


def _cmd_build_static(args: argparse.Namespace) -> int:
    from .encoders import STATIC_MARKER, build_static_model, is_static_model_built, static_model_path

    was_built = is_static_model_built(args.path)
    folder = build_static_model(args.path)
    meta = json.loads((folder / STATIC_MARKER).read_text())
    print(f"static embedding model {'already built' if was_built else 'built'} in {folder} (recipe "
          f"{meta['recipe']}, {meta['pca_dims']} dimensions, distilled from {meta['source']} in {meta['seconds']} s)")
    if args.path is not None and folder != static_model_path():
        print(f"--embedder static reads {static_model_path()}: set SYNTHFILTER_CACHE to {folder.parent} "
              f"and name the folder {static_model_path().name} to use this one")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``embedder`` command and its ``build-static`` subcommand to ``sub``."""
    esub = command_group(sub, "embedder", help="the embedding models of tail resampling and dedup")
    build = esub.add_parser("build-static", help="distil the static model of --embedder static now (offline, "
                                                 "1-2 minutes; otherwise it is built on first use)")
    build.add_argument("--path", default=None,
                       help="folder to build into (default: $SYNTHFILTER_CACHE or ~/.cache/synthfilter, "
                            "then static-minilm-v1)")
    build.set_defaults(func=_cmd_build_static)
