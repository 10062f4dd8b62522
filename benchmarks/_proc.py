"""Shared benchmark helpers: writing a result file and its generated docs section, and running a step in a
fresh process to measure its peak extra resident memory (Linux)."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from pathlib import Path
from collections.abc import Callable
from typing import Any


RESULTS = Path(__file__).resolve().parent / "results"


def write_result(name: str, result: object, indent: int = 2, note: str = "") -> Path:
    """Write ``result`` as JSON to ``benchmarks/results/<name>``, say so (with ``note``), return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(result, indent=indent, default=str) + "\n")
    print(f"wrote {path}{note}")
    return path


def rss_kb(field: str) -> int:
    """``VmRSS`` (current) or ``VmHWM`` (peak) of this process, in KiB."""
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def reset_peak() -> int:
    """Reset the peak-RSS counter; return the current RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return rss_kb("VmRSS")


def _child(fn: Callable[..., dict], args: tuple, queue: Any) -> None:
    try:
        queue.put((fn(*args), None))
    except BaseException as err:  # report the failure instead of leaving the parent waiting
        queue.put((None, repr(err)))
        raise


def in_fresh_process(fn: Callable[..., dict], *args: Any) -> dict:
    """``fn(*args)`` in a spawned process (``fn`` must be importable); its result or a RuntimeError."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    result, error = queue.get()
    proc.join()
    if error:
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed: {error}")
    return result


ROOT = RESULTS.parent.parent
#: the files that may hold generated sections: the README and every Markdown page under docs/
PAGES = ("README.md", "docs/**/*.md")


def add_docs_flags(parser: argparse.ArgumentParser) -> None:
    """``--docs`` (only rewrite the script's generated sections of its docs page from its JSON) and ``--check``
    (only compare them; exit 1 when they differ), as every script with a generated section takes them."""
    parser.add_argument("--docs", action="store_true", help="only rewrite the docs section(s) from the JSON")
    parser.add_argument("--check", action="store_true", help="only compare the docs section(s) with the JSON")


def section_page(begin: str) -> Path | None:
    """The one page (README.md or a Markdown file under docs/) holding the ``begin`` marker, or None."""
    found = [path for pattern in PAGES for path in sorted(ROOT.glob(pattern)) if begin in path.read_text()]
    if len(found) > 1:
        raise RuntimeError(f"{begin} is in {len(found)} pages: {', '.join(str(p.relative_to(ROOT)) for p in found)}")
    return found[0] if found else None


def rewrite_docs_section(begin: str, end: str, body: str, check: bool, what: str, command: str) -> int:
    """Put ``body`` between the ``begin`` and ``end`` markers of the page that holds them (``check``: only compare).

    The page is found by its markers (:func:`section_page`), so a section can move between pages without its
    script changing. Returns 0, or 1 when no page holds the markers or, with ``check``, when the page differs
    (saying to run ``command``); ``what`` names the section in the messages.
    """
    page = section_page(begin)
    if page is None or end not in page.read_text():
        print(f"no page under docs/ (or README.md) has a {begin} ... {end} section")
        return 1
    text = page.read_text()
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{body.rstrip(chr(10))}\n{end}{tail}"
    name = page.relative_to(ROOT)
    if check:
        if new != text:
            print(f"{name}'s {what} section differs from the results: run {command}")
            return 1
        return 0
    page.write_text(new)
    print(f"rewrote the {what} section of {name}")
    return 0
