"""Every column synthfilter reads or writes: name, Arrow type and meaning, in one place.

The README's column table is generated from :data:`TAG_COLUMNS`
(``python -m synthfilter.columns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Column", "SCORE", "LABEL", "DETECTOR", "LANG", "REASON", "TAG_COLUMNS", "EMBEDDING", "CLUSTER",
           "ROW", "COPIES", "DROP_REASON", "AUDIT_COLUMNS",
           "SOURCE", "markdown_table"]


def _arrow_type(spec: str) -> pa.DataType:
    """``"float32"`` -> ``"float32"``, ``"list<float32>"`` -> ``"list<float32>"`` (pyarrow is imported
    here, on first use, so that reading a column's name costs no pyarrow import: the command line's help)."""
    import pyarrow as pa

    if spec.startswith("list<") and spec.endswith(">"):
        return pa.list_(_arrow_type(spec[5:-1]))
    return getattr(pa, spec)()


@dataclass(frozen=True)
class Column:
    """A column written by synthfilter: its ``name``, its Arrow type named by ``arrow`` (a ``pyarrow``
    factory: ``"float32"``, ``"string"``, ``"list<float32>"``) and what it means."""

    name: str
    arrow: str
    meaning: str

    @property
    def type(self) -> pa.DataType:
        """The column's Arrow type."""
        return _arrow_type(self.arrow)


SCORE = Column("sf_score", "float32",
               "probability the text is AI-generated; NaN when the row is not scored (see `sf_reason`)")
LABEL = Column("sf_label", "string",
               '`"synthetic"` if `sf_score >= threshold`, `"human"` below, `"unknown"` when the row cannot be scored; '
               'for rows decided by provenance, the class it gives')
DETECTOR = Column("sf_detector", "string", "`name@version` of the detector, e.g. `fast@2`")
LANG = Column("sf_lang", "string",
              'ISO 639-1 code of the text\'s language (e.g. `en`, `ru`); `""` when there is no text to identify')
REASON = Column("sf_reason", "string",
                'why the row is `unknown`: `not_text`, `binary`, `empty`, `too_short`, '
                '`unsupported_language:<code>`, `not_scored`; or how provenance decided it (not scored): '
                '`provenance:<column>=<value>`, `provenance:<first_seen_column><<date>`; `""` when scored')
#: The columns :class:`synthfilter.Tagger` adds, in order.
TAG_COLUMNS: tuple[Column, ...] = (SCORE, LABEL, DETECTOR, LANG, REASON)

EMBEDDING = Column("sf_embedding", "list<float32>", "text embedding (unit length); null when the row has no text")
CLUSTER = Column("sf_cluster", "int64", "leaf cluster (or category index) chosen by tail resampling")
SOURCE = Column("sf_source", "string", '`"human"` or `"synthetic"`: which input of `mix` the row came from')
ROW = Column("sf_row", "int64", "position of the row in the input of `clean` (0-based; kept through every step)")
DROP_REASON = Column("sf_drop_reason", "string",
                     'why `clean` dropped the row (files in `OUT/dropped/`): `quota`, `unknown`, '
                     '`near_duplicate_of:<sf_row>`, `resample_cap`')
COPIES = Column("sf_copies", "int32", "how many times `clean`'s output holds this input row (1 unless resampling repeats rows)")
#: The columns ``clean`` adds to its output and its dropped rows, beside the tag columns.
AUDIT_COLUMNS: tuple[Column, ...] = (ROW, COPIES, DROP_REASON)


def markdown_table(columns: tuple[Column, ...] = TAG_COLUMNS) -> str:
    """The README table of ``columns``."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {c.meaning} |" for c in columns]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
