"""Text normalisation applied before any detector scores a document.

Cheap character-level attacks (homoglyphs, zero-width characters, odd spacing) and
formatting differences (paragraph breaks, Markdown emphasis) change what a detector
sees without changing what a reader sees. :func:`normalize` removes them so that an
attacked text scores (nearly) as its clean original does.
"""

from __future__ import annotations

import re
import sys
import unicodedata

__all__ = ["normalize", "unscorable_reason", "HOMOGLYPHS"]

#: Cyrillic and Greek letters that render like Latin ones, mapped to the Latin letter.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y",
    "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ү": "y", "һ": "h", "ӏ": "l", "к": "k", "м": "m", "н": "h", "т": "t", "ɡ": "g",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I", "Ї": "I", "Ј": "J", "Ѕ": "S",
    "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Һ": "H", "Ӏ": "I",
    # Greek lower case
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
    "ε": "e", "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j",
    # Greek upper case
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}


def _invisible_codepoints() -> list[int]:
    """Every format (Cf) character plus variation selectors and the Hangul fillers."""
    points = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"]
    points += list(range(0xFE00, 0xFE10)) + list(range(0xE0100, 0xE01F0))
    points += [0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x180B, 0x180C, 0x180D]
    return points


_TRANSLATION = {ord(k): v for k, v in HOMOGLYPHS.items()}
_TRANSLATION.update({cp: None for cp in _invisible_codepoints()})
_WHITESPACE = re.compile(r"\s+")
# Markdown emphasis and heading markers: formatting that leaks the label, not content.
_MARKDOWN = re.compile(r"\*\*|__|(?:^|(?<=\s))#{1,6}(?=\s)")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def normalize(text: str) -> str:
    """Return ``text`` in the canonical form detectors score.

    Steps, in order: Unicode NFKC; invisible and format characters (zero-width
    spaces and joiners, BOM, soft hyphen, bidi controls, variation selectors) removed;
    common Cyrillic/Greek homoglyphs mapped to Latin; Markdown emphasis and heading
    markers removed; every run of whitespace (newlines included) collapsed to one
    space; leading and trailing space stripped.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_TRANSLATION)
    text = _MARKDOWN.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def unscorable_reason(value: object) -> str | None:
    """Why ``value`` cannot be scored as English-like text, or ``None`` if it can.

    Reasons: ``"not-a-string"`` (None, bytes, numbers, lists, ...), ``"empty"``
    (nothing left after normalisation), ``"binary"`` (more than 10% control
    characters), ``"non-latin"`` (fewer than half of the letters are Latin script;
    the shipped detectors are trained on English).
    """
    if not isinstance(value, str):
        return "not-a-string"
    if not value or value.isspace():
        return "empty"
    sample = value[:2000]
    if len(_CONTROL.findall(sample)) > 0.1 * len(sample):
        return "binary"
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return "empty"
    latin = sum(1 for c in letters if c < "\u0250" or c in HOMOGLYPHS)
    if latin < 0.5 * len(letters):
        return "non-latin"
    return None
