"""Helpers shared by the command-line modules: a command made of subcommands, messages in command-line terms,
staying offline."""

from __future__ import annotations

import argparse
import os
import re

__all__ = ["command_group", "in_command_line_terms", "stay_offline"]


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
