"""``synthfilter reservoir add | list | verify | sample``."""

from __future__ import annotations

import argparse
import json

from ..commands import INPUT_HELP, OUTPUT_HELP, command_group

__all__ = ["add_parser"]


def _cmd_add(args: argparse.Namespace) -> int:
    from ..io import check_output
    from .store import Reservoir

    check_output(args.input, args.reservoir)
    res = Reservoir(args.reservoir)
    _, report = res.add(args.input, source=args.source, licence=args.licence, collected=args.collected,
                        text_column=args.text_column, note=args.note, return_report=True)
    print(report)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .store import open_reservoir

    info = open_reservoir(args.reservoir).info()
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"reservoir {info['path']}: version {info['version']}, {info['rows']} rows, "
          f"fingerprint {info['fingerprint']}")
    if info["versions"]:
        print(f"{'version':>7}  {'created':<25} {'rows':>8}  {'collected':<10}  source / licence / note")
        for v in info["versions"]:
            note = f" / {v['note']}" if v.get("note") else ""
            print(f"{v['version']:>7}  {v['created']:<25} {v['rows_added']:>8}  {v['collected']:<10}  "
                  f"{v['source']} / {v['licence']}{note}")
        print("rows per source: " + ", ".join(f"{k}={n}" for k, n in info["sources"].items()))
        print("rows per licence: " + ", ".join(f"{k}={n}" for k, n in info["licences"].items()))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify_reservoir

    report = verify_reservoir(args.reservoir, fingerprint=args.fingerprint)
    print(report.to_json() if args.json else report)
    return 0 if report.ok else 1


def _cmd_sample(args: argparse.Namespace) -> int:
    from ..io import check_output, write_dataset
    from .store import open_reservoir

    res = open_reservoir(args.reservoir)
    check_output(args.reservoir, args.output)
    ds = res.sample(args.n, seed=args.seed, source=args.source, version=args.at_version)
    write_dataset(ds, args.output)
    version = res.version if args.at_version is None else args.at_version
    print(f"wrote {len(ds)} rows (seed {args.seed}{f', source {args.source}' if args.source else ''}) of reservoir "
          f"{args.reservoir} version {version} (fingerprint {res.fingerprint}) to {args.output}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``reservoir`` command and its ``add``, ``list``, ``verify`` and ``sample`` subcommands to ``sub``."""
    rsub = command_group(sub, "reservoir", help="a versioned, verifiable store of known-human text")

    add = rsub.add_parser("add", help="store the texts of INPUT as a new version (texts already stored are skipped)")
    add.add_argument("reservoir", help="reservoir folder (created when missing)")
    add.add_argument("input", help=INPUT_HELP)
    add.add_argument("--source", required=True, help="where the texts come from, e.g. wikitext-2-raw-v1")
    add.add_argument("--licence", "--license", dest="licence", required=True, help="their licence, e.g. 'CC BY-SA 3.0'")
    add.add_argument("--collected", default=None,
                     help="date collected or first published, YYYY-MM-DD (default: today, UTC)")
    add.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    add.add_argument("--note", default=None, help="free text recorded with the version")
    add.set_defaults(func=_cmd_add)

    lst = rsub.add_parser("list", help="print versions, rows per source and licence, and the fingerprint")
    lst.add_argument("reservoir")
    lst.add_argument("--json", action="store_true", help="print it as JSON")
    lst.set_defaults(func=_cmd_list)

    ver = rsub.add_parser("verify", help="check every file and row against the manifest (exit code 1 if not OK)")
    ver.add_argument("reservoir")
    ver.add_argument("--fingerprint", default=None, help="also require this content fingerprint")
    ver.add_argument("--json", action="store_true", help="print the report as JSON")
    ver.set_defaults(func=_cmd_verify)

    smp = rsub.add_parser("sample", help="write N rows chosen deterministically by hash (in reservoir order)")
    smp.add_argument("reservoir")
    smp.add_argument("output", help=OUTPUT_HELP)
    smp.add_argument("-n", type=int, required=True, help="rows to sample")
    smp.add_argument("--seed", type=int, default=0, help="hash seed (default: 0)")
    smp.add_argument("--source", default=None, help="sample only rows of this source")
    smp.add_argument("--at-version", type=int, default=None, help="sample the reservoir as of this version")
    smp.set_defaults(func=_cmd_sample)
