"""``synthfilter collapse run | report | demo``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..commands import command_group

__all__ = ["add_parser", "ALL_POLICIES"]

#: every kind of policy, for a full grid with ``collapse run --policies``
ALL_POLICIES = ["replace", "real-only", "accumulate", "accumulate-subsample", "keep-real:0.1", "keep-real-fixed:0.1",
                "fresh-real:0.1", "quota:0.1", "filter", "filter:0.8:0.05", "tail", "tail:ref",
                "accumulate+quota:0.1+tail:ref", "select-likely"]


_FLAGS = {"scenario": "--scenario", "policies": "--policies", "generations": "--generations", "seeds": "--seeds",
          "workers": "--workers"}
_CONFIG_KEYS = ("scenario", "policies", "generations", "seeds", "options", "reference_size", "detector_fpr")


def _parse_options(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError(f"--option expects KEY=VALUE with a non-empty KEY, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _load_config(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(f"--config {path}: not valid YAML: {err}") from None
    else:
        try:
            config = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"--config {path}: not valid JSON: {err}") from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValueError(f"--config {path} must hold a mapping with keys {list(_CONFIG_KEYS)}, "
                         f"got {type(config).__name__}")
    unknown = sorted(str(k) for k in config if k not in _CONFIG_KEYS)
    if unknown:
        raise ValueError(f"--config {path} has unknown key(s) {unknown}; keys: {list(_CONFIG_KEYS)}")
    return config


def _cli_label(field: tuple[Any, ...], flags: set[str], flag_options: set[str], config_path: str | None) -> str:
    """The name the user gave an option by: a command-line flag, or a key of the --config file."""
    key = field[0] if field else ""
    if key == "options" and len(field) > 1:
        if field[1] in flag_options:
            return f"--option {field[1]}"
        return f"option {field[1]} (from --config {config_path})" if config_path else f"--option {field[1]}"
    if key == "options":
        return "--option" if flag_options or not config_path else f"options (from --config {config_path})"
    if key in flags or not config_path:
        return _FLAGS.get(key, key)
    return f"{key} (from --config {config_path})"


def run(cfg: Any, run_dir: str, workers: int | None = None) -> Path:
    """:func:`synthfilter.collapse.runner.run`, imported when a command runs (not to build the help)."""
    from .runner import run as run_cells

    return run_cells(cfg, run_dir, workers=workers)


def write_report(run_dir: str, out: str | None = None, baseline: str | None = None) -> Path:
    """:func:`synthfilter.collapse.report.write_report`, imported when a command runs."""
    from .report import write_report as write

    return write(run_dir, out, baseline=baseline)


def _cmd_run(args: argparse.Namespace) -> int:
    from ._checks import OptionError, check_int
    from .config import RunConfig

    if args.workers is not None:
        check_int(args.workers, ("workers",), "--workers", 1, "worker processes")
    config: dict[str, Any] = _load_config(args.config) if args.config else {}
    flags: set[str] = set()
    if args.scenario is not None:
        config["scenario"] = args.scenario
        flags.add("scenario")
    if args.policies is not None:
        config["policies"] = list(ALL_POLICIES) if args.policies.strip() == "all" else \
            [p.strip() for p in args.policies.split(",") if p.strip()]
        flags.add("policies")
    for key in ("generations", "seeds"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
            flags.add(key)
    flag_options = _parse_options(args.option)
    if flag_options:
        options = config.get("options")
        config["options"] = {**(options if isinstance(options, dict) else {}), **flag_options}
    if "scenario" not in config or "policies" not in config:
        raise ValueError("give --scenario and --policies (or a --config file with both)")
    try:
        cfg = RunConfig(**config).validate()
    except OptionError as err:  # repeat the message with the option's command-line name
        raise ValueError(err.render(_cli_label(err.field, flags, set(flag_options), args.config))) from None
    run(cfg, args.out, workers=args.workers)
    out = write_report(args.out)
    print((out / "summary.md").read_text())
    print(f"results in {args.out}/results.jsonl, report in {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    out = write_report(args.run_dir, args.out, baseline=args.baseline)
    print((out / "summary.md").read_text())
    print(f"wrote plots and summary to {out}; every generation's statistics to {args.run_dir}/summary.json")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._checks import check_int
    from .demo import run_demo

    if args.workers is not None:
        check_int(args.workers, ("workers",), "--workers", 1, "worker processes")
    result = run_demo(args.out, workers=args.workers)
    print((Path(args.out) / "index.md").read_text())
    print(f"demo finished in {result['seconds']:.0f} s; start with {args.out}/index.md and {args.out}/overview.png; "
          f"every scenario's plots and tables are under {args.out}/*/report/")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``collapse`` command and its ``run``, ``report`` and ``demo`` subcommands to ``sub``."""
    csub = command_group(sub, "collapse", help="recursive-training harness: measure model collapse per policy")
    r = csub.add_parser("run", help="run (or resume) scenario x policies x seeds, then write the report")
    r.add_argument("--config", help="JSON or YAML file with scenario, policies, generations, seeds, options")
    r.add_argument("--scenario", help="gaussian | gmm | linreg | categorical | digits | text | vae | lstm")
    r.add_argument("--policies", help="comma-separated policy specs, e.g. replace,real-only,accumulate,keep-real:0.1; "
                                      "'all' for the full grid of every kind of policy")
    r.add_argument("--generations", type=int)
    r.add_argument("--seeds", type=int)
    r.add_argument("--option", action="append", default=[], help="scenario option KEY=VALUE (repeatable)")
    r.add_argument("--out", required=True, help="run folder (an interrupted run resumes here)")
    r.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    r.set_defaults(func=_cmd_run)
    rep = csub.add_parser("report", help="write plots and a Markdown summary for a run folder")
    rep.add_argument("run_dir")
    rep.add_argument("--out", default=None, help="report folder (default: RUN_DIR/report)")
    rep.add_argument("--baseline", default=None,
                     help="policy every other is tested against (default: replace if run, else the first policy)")
    rep.set_defaults(func=_cmd_report)
    demo = csub.add_parser("demo", help="four scenarios x replace, the real-only control and four mitigations, "
                                        "with an index of what was shown")
    demo.add_argument("--out", default="synthfilter-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--workers", type=int, default=None)
    demo.set_defaults(func=_cmd_demo)
