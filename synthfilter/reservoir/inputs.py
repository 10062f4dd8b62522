"""What :meth:`~synthfilter.reservoir.Reservoir.add` accepts, checked: the texts, their labels and dates."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from typing import Any, Sequence, Union

import datasets
import numpy as np

from ..io import read_dataset
from .manifest import text_sha256

__all__ = ["Data", "is_int", "checked_label", "collected_date", "input_texts", "text_hashes"]

#: What :meth:`Reservoir.add` takes: a dataset, a list of texts, or a path :func:`~synthfilter.io.read_dataset` reads.
Data = Union[datasets.Dataset, Sequence[str], str, os.PathLike]

def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def checked_label(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


def collected_date(value: date | datetime | str | None) -> str:
    """``collected`` as an ISO date (``YYYY-MM-DD``); default today's date in UTC."""
    if value is None:
        return datetime.now(timezone.utc).date().isoformat()
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            return collected_date(datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text))
        except ValueError:
            pass
    raise ValueError(f"collected must be a date, a datetime or an ISO 8601 date string such as '2016-09-26', "
                     f"got {value!r}")


def input_texts(data: Data, text_column: str) -> tuple[list[Any], str, str]:
    """The texts of ``data``, what to call them in errors, and a description of the input for the manifest."""
    if isinstance(data, (str, os.PathLike)):
        described = str(data)
        data = read_dataset(data)
    elif isinstance(data, datasets.Dataset):
        described = "datasets.Dataset"
    elif isinstance(data, (list, tuple)):
        return list(data), "data", f"list of {len(data)} texts"
    else:
        raise TypeError(f"data must be a datasets.Dataset, a list of strings or a path to a data file or folder, "
                        f"got {type(data).__name__}")
    if text_column not in data.column_names:
        raise ValueError(f"column {text_column!r} not found in {described}; its columns are {data.column_names}: "
                         f"set text_column to the one that holds the text")
    return list(data[text_column]), f"column {text_column!r}", described


def text_hashes(texts: list[Any], what: str) -> list[str]:
    """The SHA-256 of every text; ``ValueError`` when any is null, empty, blank or not a string."""
    if not texts:
        raise ValueError(f"{what}: no rows to add")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"{what}: {len(bad)} of {len(texts)} rows are null, empty, blank or not strings (first at "
                         f"row {bad[0]}: {texts[bad[0]]!r}); a reservoir stores non-empty texts only: drop or fix "
                         f"those rows first")
    hashes = []
    for i, text in enumerate(texts):
        try:
            hashes.append(text_sha256(text))
        except UnicodeEncodeError:
            raise ValueError(f"{what}: row {i} holds a lone surrogate (\\ud800-\\udfff), which is not Unicode "
                             f"text and cannot be stored as UTF-8") from None
    return hashes
