"""Helpers shared by the command-line modules: a command made of subcommands, the input and output help, the
provenance options, writing a result with its report, messages in command-line terms, staying offline.

Nothing here imports a heavy library at import time: ``synthfilter --help`` builds every command's parser.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from .io.files import COMPRESSIONS, FORMATS, TEXT_FORMATS

__all__ = ["INPUT_HELP", "OUTPUT_HELP", "add_input_output", "add_provenance_arguments", "command_group", "in_command_line_terms",
           "map_arrow", "provenance_options", "report_path", "stay_offline", "values", "write_with_report"]


def _suffixes(fmt: str) -> str:
    return "/".join(ext for ext, name in FORMATS.items() if name == fmt)


_COMPRESSED = f"{' and '.join(f.upper() for f in sorted(TEXT_FORMATS, reverse=True))}"
#: What every command's INPUT may be: what :func:`synthfilter.io.read_dataset` reads.
INPUT_HELP = (f"a data file: JSON lines or a JSON array ({_suffixes('json')}), CSV ({_suffixes('csv')}), Parquet "
              f"({_suffixes('parquet')}) or Arrow ({_suffixes('arrow')}), {_COMPRESSED} also compressed "
              f"({', '.join(COMPRESSIONS)}); a folder of them (read recursively); or a saved datasets folder")
#: What an OUTPUT path is written as: what :func:`synthfilter.io.write_dataset` writes.
OUTPUT_HELP = (f"output path, written in the format its suffix names: JSON lines ({_suffixes('json')}), CSV "
               f"({_suffixes('csv')}), Parquet ({_suffixes('parquet')}) or Arrow ({_suffixes('arrow')}), "
               f"{_COMPRESSED} also compressed ({', '.join(COMPRESSIONS)}, e.g. out.jsonl.gz); any other path is "
               "written as a saved datasets folder (save_to_disk; read it back with datasets.load_from_disk)")


def add_input_output(parser: argparse.ArgumentParser, report: str | None = None) -> None:
    """The positional ``input`` and ``output`` of a command that reads a dataset and writes one (``report``:
    the step name of the JSON report written beside the output, ``OUTPUT.<report>.json``)."""
    parser.add_argument("input", help=INPUT_HELP)
    parser.add_argument("output", help=OUTPUT_HELP + (f"; the report goes to OUTPUT.{report}.json" if report else ""))


def command_group(sub: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """Add command ``name`` (with ``help``) to ``sub``; return its subcommands, one of which is
    required and chosen in ``args.<name>_command``."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)


def stay_offline() -> None:
    """Switch off Hugging Face hub calls and telemetry for this process (the defaults need no network)."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[var] = "1"
    import datasets.config
    import huggingface_hub.constants as hub

    hub.HF_HUB_OFFLINE = True
    hub.HF_HUB_DISABLE_TELEMETRY = True
    datasets.config.HF_HUB_OFFLINE = True
    datasets.config.HF_DATASETS_OFFLINE = True


def in_command_line_terms(message: str, parser: argparse.ArgumentParser | None) -> str:
    """Name options as typed (``--max-synthetic``), not as Python arguments (``max_synthetic``)."""
    if parser is None:
        return message
    for action in parser._actions:
        flags = [o for o in action.option_strings if o.startswith("--")]
        if not flags:
            continue
        if action.nargs == 0:  # a switch: replace=True is --replace
            message = re.sub(rf"(?<![\w-]){re.escape(action.dest)}=True\b", flags[0], message)
        if "_" in action.dest:
            message = re.sub(rf"(?<![\w-]){re.escape(action.dest)}(?:=(?=\S))?", flags[0] + " ", message)
        else:  # a plain word ("size") is an option only as size=...
            message = re.sub(rf"(?<![\w-]){re.escape(action.dest)}=(?=\S)", flags[0] + " ", message)
    return re.sub(r" {2,}", " ", message)


def values(text: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple of its non-empty values."""
    return tuple(v for v in (text or "").split(",") if v)


def add_provenance_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that decide a row's class from its provenance, before any detector."""
    group = parser.add_argument_group("provenance (decides before the detector)")
    group.add_argument("--provenance-column", default=None, help="column whose value says where a row came from")
    group.add_argument("--human-values", default=None, help="comma-separated values of --provenance-column that are human")
    group.add_argument("--synthetic-values", default=None,
                       help="comma-separated values of --provenance-column that are synthetic")
    group.add_argument("--first-seen-column", default=None,
                       help="date column: rows first seen before --human-before are human (and are the input's own "
                            "reference for the true share and the labels)")
    group.add_argument("--human-before", default=None, help="ISO date, e.g. 2022-11-30 (the release of ChatGPT)")


def provenance_options(args: argparse.Namespace) -> dict:
    """``provenance``/``first_seen_column``/``human_before`` keyword arguments from the command line."""
    rules = None
    if args.provenance_column:
        rules = {"column": args.provenance_column, "human": list(values(args.human_values)),
                 "synthetic": list(values(args.synthetic_values))}
    elif args.human_values or args.synthetic_values:
        raise ValueError("--human-values/--synthetic-values need --provenance-column")
    return {"provenance": rules, "first_seen_column": args.first_seen_column, "human_before": args.human_before}


def map_arrow(ds: Any, fn: Any, **options: Any) -> Any:
    """``ds.map(fn, batched=True)`` on Arrow batches: ``fn`` returns the table it was given with its columns
    set, so every other column is written back as it was read (a ``Json`` column -- a JSON column mixing
    strings and numbers -- re-encoded from Python values would read the string ``"null"`` as null)."""
    if options.get("num_proc"):
        from .engines.workers import BoundToParent

        fn = BoundToParent(fn)  # workers die with this process
    return ds.with_format("arrow").map(fn, batched=True, **options).with_format(None)


def report_path(output: str, step: str) -> str:
    """Where a command's JSON report goes: beside its output, ``OUTPUT.<step>.json``."""
    return f"{str(output).rstrip('/')}.{step}.json"


def write_with_report(out: Any, report: Any, output: str, step: str,
                      parser: argparse.ArgumentParser | None = None) -> int:
    """Write the dataset and its JSON report beside it (``OUTPUT.<step>.json``); print the report."""
    from .io import atomic_write_text, write_dataset

    write_dataset(out, output)
    path = report_path(output, step)
    atomic_write_text(path, report.to_json() + "\n")
    print(in_command_line_terms(str(report), parser))
    print(f"wrote {output} and {path}")
    return 0
