"""What a detector accepts as texts: a list, every row scorable, and the languages it was fitted on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..text import unscorable_reason

__all__ = ["DEFAULT_LANGUAGES", "MIN_LANGUAGE_SHARE", "MIN_LANGUAGE_TEXTS", "as_texts", "infer_languages",
           "require_scorable", "rows_named", "unscorable_rows", "unsupported_language_rows"]

#: Languages of a detector file that names none: every shipped ``@1`` detector was trained and
#: evaluated on English text only.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
#: A language is declared by ``fit`` when at least this many training texts, or this share of them, are in it.
MIN_LANGUAGE_TEXTS, MIN_LANGUAGE_SHARE = 50, 0.1


def as_texts(texts: Any, argument: str = "texts") -> list:
    """``texts`` as a list (a :class:`~synthfilter.Reservoir` gives its texts); a single string (or bytes,
    or a non-iterable) raises ``TypeError`` naming ``argument``."""
    from ..reservoir import Reservoir

    if isinstance(texts, Reservoir):
        return list(texts.texts())
    if isinstance(texts, (str, bytes, bytearray)):
        raise TypeError(f"{argument}: expected a list of texts, got a single {type(texts).__name__}; "
                        "wrap one text in a list: [text]")
    try:
        return list(texts)
    except TypeError:
        raise TypeError(f"{argument}: expected a list of texts, got {type(texts).__name__}") from None


def unscorable_rows(texts: Sequence[Any]) -> dict[int, str]:
    """Position -> reason for every value that cannot be scored (see :func:`synthfilter.text.unscorable_reason`)."""
    reasons = ((i, unscorable_reason(value)) for i, value in enumerate(texts))
    return {i: reason for i, reason in reasons if reason is not None}


def require_scorable(texts: Sequence[Any], argument: str, remedy: str) -> None:
    """Raise ``ValueError`` naming the rows of ``texts`` that cannot be scored, and ``remedy``.

    Parameters
    ----------
    texts:
        The values to check.
    argument:
        Name of the argument they came in, for the message.
    remedy:
        What the caller should do instead, appended to the message.
    """
    bad = unscorable_rows(texts)
    if bad:
        raise ValueError(f"{argument}: row(s) {rows_named(bad)} cannot be scored (None, not a string, empty, "
                         f"whitespace-only, binary or non-Latin text); {remedy}")


def rows_named(rows: dict[int, str], shown: int = 10) -> str:
    """``"3 (empty), 7 (zh)"``: the first ``shown`` positions with their reason, then how many more."""
    named = ", ".join(f"{i} ({why})" for i, why in list(rows.items())[:shown])
    return named + (f" and {len(rows) - shown} more" if len(rows) > shown else "")


def infer_languages(texts: Sequence[str]) -> tuple[str, ...]:
    """The languages a detector fitted on ``texts`` may score: those with at least
    :data:`MIN_LANGUAGE_TEXTS` texts or :data:`MIN_LANGUAGE_SHARE` of them, sorted."""
    from ..lang import identify_languages
    from ..text import normalize

    counts = Counter(identify_languages([normalize(t) for t in texts]))
    counts.pop("", None)
    keep = {lang for lang, n in counts.items() if n >= MIN_LANGUAGE_TEXTS or n >= MIN_LANGUAGE_SHARE * len(texts)}
    return tuple(sorted(keep))


def unsupported_language_rows(texts: Sequence[str], languages: Sequence[str]) -> dict[int, str]:
    """Position -> language code of every text whose identified language is not in ``languages``.

    Parameters
    ----------
    texts:
        Scorable texts (see :func:`unscorable_rows`); they are normalised before identification,
        as the tagger does.
    languages:
        The ISO 639 codes a detector declares; empty means every language is accepted.
    """
    if not languages or not texts:
        return {}
    from ..lang import identify_languages
    from ..text import normalize

    allowed = set(languages)
    found = identify_languages([normalize(t) for t in texts])
    return {i: lang or "und" for i, lang in enumerate(found) if lang not in allowed}
