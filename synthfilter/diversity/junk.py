"""Rows that tail resampling must never up-weight: unscorable, very short, or boiler-plate.

Balancing over clusters favours small, odd clusters, and junk forms exactly such
clusters (cookie banners, "click here to subscribe", navigation text, rows the detector
could not score). :func:`junk_rows` marks them, per row and without randomness: a pure
function of the row's own text and label and of how often its normalised text occurs in
the dataset, so the marks do not depend on row order.

Kinds (a row may have several):

``unknown``
    ``label_column`` (default ``sf_label``) is ``"unknown"`` (see ``sf_reason`` for why).
``short``
    Fewer than ``min_words`` words: whitespace-separated tokens holding at least one
    letter, each Han, Hiragana or Katakana character counting as a word. A null text has
    no words.
``boilerplate``
    The normalised text (Unicode NFKC, lower case, each run of digits as ``0``,
    punctuation and symbols as spaces, whitespace collapsed and trimmed) occurs in at
    least ``boilerplate_min_repeats`` rows: exact templates up to numbers and layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["JUNK_KINDS", "JunkRows", "junk_rows", "word_counts", "template_keys"]

#: The kinds of junk, in report order.
JUNK_KINDS: tuple[str, ...] = ("unknown", "short", "boilerplate")


@dataclass
class JunkRows:
    """Per kind, a boolean mask over the rows; ``checked`` names the kinds that could be judged."""

    n_rows: int
    kinds: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def checked(self) -> tuple[str, ...]:
        return tuple(k for k in JUNK_KINDS if k in self.kinds)

    @property
    def mask(self) -> np.ndarray:
        """Rows of any kind."""
        out = np.zeros(self.n_rows, dtype=bool)
        for m in self.kinds.values():
            out |= m
        return out

    def counts(self, rows: np.ndarray) -> dict[str, int]:
        """``{"junk": rows of any kind, kind: rows of that kind, ...}`` among ``rows`` (positions, repeats counted)."""
        out = {"junk": int(self.mask[rows].sum())}
        out.update({k: int(self.kinds[k][rows].sum()) for k in self.checked})
        return out


def _column(ds: datasets.Dataset, name: str) -> pa.ChunkedArray:
    if ds._indices is None:
        return ds.data.table.column(name)
    return ds.select_columns([name]).with_format("arrow")[:].column(name)


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as strings; a column of another type (numbers, lists, bytes) holds no text: all null."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    if pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type):
        return pc.cast(col, pa.string())
    return pa.chunked_array([pa.nulls(len(col), pa.string())])


def word_counts(texts: pa.ChunkedArray) -> np.ndarray:
    """Words per text (tokens with a letter; each Han/kana character one word); 0 for null."""
    tokens = pc.count_substring_regex(texts, r"\S*\pL\S*")
    cjk = pc.count_substring_regex(texts, r"[\p{Han}\p{Hiragana}\p{Katakana}]")
    return np.asarray(pc.fill_null(pc.add(tokens, cjk), 0).to_numpy(), dtype=np.int64)


def template_keys(texts: pa.ChunkedArray) -> pa.ChunkedArray:
    """The normalised text boiler-plate is compared by (null stays null)."""
    t = pc.utf8_lower(pc.utf8_normalize(texts, "NFKC"))
    t = pc.replace_substring_regex(t, r"\p{Nd}+", "0")
    t = pc.replace_substring_regex(t, r"[\p{P}\p{S}]+", " ")
    t = pc.replace_substring_regex(t, r"\s+", " ")
    return pc.utf8_trim_whitespace(t)


def _repeat_counts(keys: pa.ChunkedArray) -> np.ndarray:
    """Per row, how many rows share its key (0 for null)."""
    vc = pc.value_counts(keys)
    values, counts = vc.field("values"), vc.field("counts").to_numpy(zero_copy_only=False)
    where = pc.fill_null(pc.index_in(keys, value_set=values), -1).to_numpy().astype(np.int64)
    return np.where(where >= 0, np.append(counts, 0)[where], 0).astype(np.int64)


def junk_rows(ds: datasets.Dataset, *, text_column: str | None = "text", label_column: str | None = "sf_label",
              min_words: int = 5, boilerplate_min_repeats: int = 3) -> JunkRows:
    """Which rows are junk, per kind (see the module doc); a kind whose column is missing, or
    whose threshold is 0, is not checked."""
    out = JunkRows(ds.num_rows)
    if label_column is not None and label_column in ds.column_names:
        labels = _as_text(_column(ds, label_column))
        out.kinds["unknown"] = pc.fill_null(pc.equal(labels, "unknown"), False).to_numpy().astype(bool)
    if text_column is not None and text_column in ds.column_names and (min_words > 0 or boilerplate_min_repeats > 0):
        texts = _as_text(_column(ds, text_column))
        if min_words > 0:
            out.kinds["short"] = word_counts(texts) < min_words
        if boilerplate_min_repeats > 0:
            out.kinds["boilerplate"] = _repeat_counts(template_keys(texts)) >= boilerplate_min_repeats
    return out
