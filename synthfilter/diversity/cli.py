"""``synthfilter embedder build-static``: build the static embedding model ahead of time.

``Embedder(model="static")`` distils it on first use; a pipeline that must not pause for
a minute or two on its first batch (or a cluster image built once) runs this instead.
"""

from __future__ import annotations

import argparse
import json

from ..commands import command_group
from .encoders import STATIC_MARKER, build_static_model, is_static_model_built, static_model_path

__all__ = ["add_parser"]


def _cmd_build_static(args: argparse.Namespace) -> int:
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
