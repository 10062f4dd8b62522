"""A helper shared by the command-line modules: a command made of subcommands."""

from __future__ import annotations

import argparse

__all__ = ["command_group"]


def command_group(sub: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """Add command ``name`` (with ``help``) to ``sub``; return its subcommands, one of which is
    required and chosen in ``args.<name>_command``."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)
