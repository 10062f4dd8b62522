"""Where a text input file goes wrong, by line: invalid JSON, a key twice in one object, bytes that are not UTF-8,
lone surrogate escapes (for the messages of :func:`synthfilter.io.read_dataset`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .files import open_decompressed

__all__ = ["bad_json_line", "bad_utf8_line"]


def bad_json_line(path: Path) -> str | None:
    """Where a JSON file goes wrong ("line N: ..."), or None when every line parses."""
    try:
        with open_decompressed(path) as raw:
            data = raw.read()
    except Exception:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip().startswith(b"["):
        try:
            value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            return f"line {line}: {_not_utf8(data, exc)}"
        except _DuplicateKey as exc:
            return f"{exc}"
        except json.JSONDecodeError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        if not isinstance(value, list):
            return "not a JSON array"
        return _LONE_SURROGATE if _has_lone_surrogate(value) else None
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            value = json.loads(raw_line.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except UnicodeDecodeError as exc:
            return f"line {number}: {_not_utf8(raw_line, exc)}"
        except _DuplicateKey as exc:
            return f"line {number}: {exc}"
        except json.JSONDecodeError as exc:
            return f"line {number}: {exc.msg} (column {exc.colno})"
        if not isinstance(value, dict):
            return f"line {number}: expected a JSON object, got {type(value).__name__}"
        if _has_lone_surrogate(value):
            return f"line {number}: {_LONE_SURROGATE}"
    return None


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} appears twice in one JSON object (which value is meant?)")
        out[key] = value
    return out


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """What is wrong with bytes that are not UTF-8, and what to do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "not UTF-8 text (it starts with a UTF-16 byte-order mark); synthfilter reads UTF-8: convert the file"
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return (f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); synthfilter reads UTF-8: convert the "
            f"file (e.g. iconv -f latin1 -t utf-8)")


def bad_utf8_line(path: Path) -> str | None:
    """Where a text file stops being UTF-8 ("line N: ..."), or None when all of it is. Line by line:
    the byte of a newline never occurs inside a UTF-8 character."""
    try:
        with open_decompressed(path) as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return f"line {number}: {_not_utf8(line, exc)}"
    except Exception:
        return None
    return None


_LONE_SURROGATE = "a string holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is not Unicode text"


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
