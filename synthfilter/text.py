"""Text normalisation applied before any detector scores a document.

Cheap character-level attacks (homoglyphs, zero-width characters, odd spacing) and
formatting differences (paragraph breaks, Markdown emphasis) change what a detector
sees without changing what a reader sees. :func:`normalize` removes them so that an
attacked text scores (nearly) as its clean original does.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["normalize", "unscorable_reason", "script_of", "HOMOGLYPHS"]

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


_INVISIBLE = {cp: None for cp in _invisible_codepoints()}
_WHITESPACE = re.compile(r"\s+")
# Markdown emphasis and heading markers: formatting that leaks the label, not content.
_MARKDOWN = re.compile(r"\*\*|__|(?:^|(?<=\s))#{1,6}(?=\s)")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_GLYPH = re.compile("[" + "".join(HOMOGLYPHS) + "]")
_WORD = re.compile(r"\w+")
_ASCII_LETTER = re.compile("[A-Za-z]")


@functools.lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """Unicode script of a letter, from its character name: ``"LATIN"``, ``"CYRILLIC"``, ``"GREEK"``, ``"CJK"``, ..."""
    if char < "\u0080":
        return "LATIN" if char.isalpha() else "COMMON"
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _fold_homoglyphs(text: str) -> str:
    """Map look-alike letters to Latin only inside words that are Latin script.

    A word is folded when every letter is Latin or a known look-alike and either one
    letter is genuinely Latin ("p\u0430ypal") or the look-alikes' script has no other
    letter anywhere in the text (an attacked English text whose short word was swapped
    whole). Words with any other letter of a non-Latin script, and every look-alike
    word of a text written in that script, are left as they are.
    """
    genuine = {script_of(c) for c in set(text) if c.isalpha() and c not in HOMOGLYPHS} - {"LATIN"}

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        if not _GLYPH.search(word):
            return word
        rest = _GLYPH.sub("", word)
        if rest.isascii():  # the common case, decided without a loop in Python over a long token
            latin = _ASCII_LETTER.search(rest) is not None
        else:
            latin = False
            for char in set(rest):
                if not char.isalpha():
                    continue
                if script_of(char) != "LATIN":
                    return word
                latin = True
        if not latin and any(script_of(c) in genuine for c in set(word) if c in HOMOGLYPHS):
            return word
        return word.translate(_HOMOGLYPH_TABLE)

    # word by word (linear in the text: a pattern that looks for a look-alike inside a word would rescan a long
    # token, a base64 image or a minified script, from every one of its characters)
    return _WORD.sub(fold, text)


_HOMOGLYPH_TABLE = {ord(k): v for k, v in HOMOGLYPHS.items()}


def normalize(text: str) -> str:
    """Return ``text`` in the canonical form detectors score.

    Steps, in order: Unicode NFKC; lone surrogates (undecodable bytes) replaced by
    U+FFFD; invisible and format characters (zero-width
    spaces and joiners, BOM, soft hyphen, bidi controls, variation selectors) removed;
    Cyrillic/Greek look-alike letters mapped to Latin inside Latin-script words only
    (text written in Cyrillic, Greek or any other script is never rewritten); Markdown
    emphasis and heading markers removed; every run of whitespace (newlines included)
    collapsed to one space; leading and trailing space stripped.
    """
    text = _SURROGATE.sub("\ufffd", unicodedata.normalize("NFKC", text)).translate(_INVISIBLE)
    if _GLYPH.search(text):
        text = _fold_homoglyphs(text)
    text = _MARKDOWN.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def unscorable_reason(value: object) -> str | None:
    """Why ``value`` is not text that can be scored at all, or ``None`` if it is.

    Reasons (the values of the ``sf_reason`` column): ``"not_text"`` (None, bytes,
    numbers, lists, ...), ``"binary"`` (more than 10% control characters or lone
    surrogates, i.e. bytes decoded as text), ``"empty"`` (no letter at all: blank,
    whitespace, digits or punctuation only). Length and language are judged later, by
    :mod:`synthfilter.lang` and the tagger.
    """
    if not isinstance(value, str):
        return "not_text"
    sample = value[:4000]
    if len(_CONTROL.findall(sample)) + len(_SURROGATE.findall(sample)) > 0.1 * len(sample):
        return "binary"
    if not any(c.isalpha() for c in sample):
        return "empty"
    return None
