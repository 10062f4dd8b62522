"""Provenance rules: rows whose origin is known are decided before (and instead of) detection.

Known provenance beats a guess. A :class:`Provenance` holds up to two rules:

* a **column rule**, ``column`` with lists of ``human`` and ``synthetic`` values: a row
  whose ``column`` value is in a list gets that class, with
  ``sf_reason="provenance:<column>=<value>"``;
* a **date rule**, ``first_seen_column`` and ``human_before``: a row first seen before
  that date is human, with ``sf_reason="provenance:<first_seen_column><<date>"`` (e.g.
  ``provenance:crawl_date<2022-11-30``). Rows seen on or after the date stay
  *undecided*: they go to the detector; a late date is not evidence of synthetic text.

The column rule wins over the date rule (an explicit list beats a date). Rows that no
rule decides (including null values) are undecided.

Value matching
    Column values are compared as strings: string columns as they are, integer columns
    by their decimal form (``1`` matches ``"1"``); rule values given as integers are
    turned into strings the same way. Other column types (floats, booleans, dates, ...)
    raise ``TypeError``: their string forms are ambiguous (``1.0``/``"1"``,
    ``true``/``"True"``).

Dates
    ``first_seen_column`` may hold Arrow ``date32``/``date64``, ``timestamp`` (any unit,
    naive or with a time zone) or ISO-8601 strings (``2022-11-30``,
    ``2022-11-30T12:00:00``, ``2022-11-30 12:00:00.5``, ``2022-11-30T12:00:00Z``,
    ``2022-11-30T01:00:00+05:00``). A row is before the cut when its instant is before
    midnight UTC of ``human_before``: time-zone-aware values are compared in UTC, naive
    timestamps and strings without an offset are read as UTC, dates by their day.
    Null values and empty (or whitespace-only) strings are undecided. A string that is
    not ISO-8601 raises ``ValueError`` naming the column and the value: a date column in
    another format would otherwise silently decide nothing. Any other column type
    raises ``TypeError`` naming the column and the type.

Everything is vectorised with ``pyarrow.compute`` and NumPy; a :class:`Provenance` is
a frozen, hashable dataclass that pickles to the same bytes for equal rules, so a
transform holding one keeps ``datasets``' fingerprint caching stable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .provenance_values import dates_before, values_as_strings

__all__ = ["Provenance", "Decision", "HUMAN", "SYNTHETIC", "UNDECIDED", "ROUTE_NONE", "ROUTE_COLUMN", "ROUTE_DATE",
           "ROUTE_NAMES", "REASON_PREFIX"]

#: Class codes of :attr:`Decision.classes` (``HUMAN``/``SYNTHETIC`` equal ``synthfilter.quota.config``'s).
HUMAN, SYNTHETIC, UNDECIDED = 0, 1, -1
#: Which rule decided a row (:attr:`Decision.routes`).
ROUTE_NONE, ROUTE_COLUMN, ROUTE_DATE = 0, 1, 2
#: Report names of the routes, indexed by route code.
ROUTE_NAMES = ("detector", "provenance_column", "provenance_date")
#: Every provenance ``sf_reason`` starts with this.
REASON_PREFIX = "provenance:"

_DICT_KEYS = ("column", "human", "synthetic")
_DATE_KEYS = ("first_seen_column", "human_before")

TableLike = Union[pa.Table, pa.RecordBatch, Mapping[str, Any]]


@dataclass(frozen=True, eq=False)
class Decision:
    """What the provenance rules decided for each row of a batch.

    Attributes
    ----------
    classes:
        int8 per row: :data:`HUMAN` (0), :data:`SYNTHETIC` (1) or :data:`UNDECIDED` (-1).
    reasons:
        object array of ``str`` per row: ``"provenance:<column>=<value>"``,
        ``"provenance:<first_seen_column><<date>"``, or ``""`` when undecided.
    routes:
        int8 per row: :data:`ROUTE_COLUMN`, :data:`ROUTE_DATE` or :data:`ROUTE_NONE`.
    """

    classes: np.ndarray
    reasons: np.ndarray
    routes: np.ndarray

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def decided(self) -> np.ndarray:
        """Boolean mask of the rows a rule decided."""
        return self.classes != UNDECIDED

    def counts(self) -> dict[str, int]:
        """Rows per route and class, for reports (add the dicts of several batches).

        Keys: ``provenance_column:human``, ``provenance_column:synthetic``,
        ``provenance_date:human`` and ``detector`` (undecided rows); every key is present.
        """
        col = self.routes == ROUTE_COLUMN
        return {
            "provenance_column:human": int(np.count_nonzero(col & (self.classes == HUMAN))),
            "provenance_column:synthetic": int(np.count_nonzero(col & (self.classes == SYNTHETIC))),
            "provenance_date:human": int(np.count_nonzero(self.routes == ROUTE_DATE)),
            "detector": int(np.count_nonzero(self.routes == ROUTE_NONE)),
        }

    def labels(self) -> list[str]:
        """``"human"``/``"synthetic"`` per decided row, ``""`` per undecided row."""
        names = np.array(["", "human", "synthetic"], dtype=object)
        return names[self.classes.astype(np.int64) + 1].tolist()


@dataclass(frozen=True)
class Provenance:
    """Rules that decide rows by known provenance, before any detector.

    Build one with :meth:`build` (which also takes the dict form); the constructor
    normalises and validates the same way. ``human``/``synthetic`` are stored sorted and
    without duplicates, and ``human_before`` as a :class:`datetime.date`, so equal rules
    compare, hash and pickle equal.

    Attributes
    ----------
    column:
        Column whose values name the source of each row (the column rule), or ``None``.
    human, synthetic:
        Values of ``column`` whose rows are human / synthetic (compared as strings).
    first_seen_column:
        Column holding when each row was first seen (the date rule), or ``None``.
    human_before:
        Rows first seen before this date (midnight UTC) are human.
    """

    column: str | None = None
    human: tuple[str, ...] = ()
    synthetic: tuple[str, ...] = ()
    first_seen_column: str | None = None
    human_before: dt.date | None = None

    def __post_init__(self) -> None:
        for name in ("column", "first_seen_column"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise TypeError(f"provenance {name} must be a non-empty column name, got {value!r}")
        human = _values(self.human, "human")
        synthetic = _values(self.synthetic, "synthetic")
        object.__setattr__(self, "human", human)
        object.__setattr__(self, "synthetic", synthetic)
        both = sorted(set(human) & set(synthetic))
        if both:
            raise ValueError(f"provenance lists {both} as both human and synthetic; each value needs one class")
        if (human or synthetic) and self.column is None:
            raise ValueError("provenance human/synthetic values need column=... (the column that holds them)")
        if self.column is not None and not (human or synthetic):
            raise ValueError(f"provenance column={self.column!r} is an empty rule: give human=[...] and/or "
                             "synthetic=[...] values of that column")
        if self.human_before is not None:
            object.__setattr__(self, "human_before", _as_date(self.human_before))
        if self.first_seen_column is not None and self.human_before is None:
            raise ValueError(f"first_seen_column={self.first_seen_column!r} needs human_before=... "
                             "(rows first seen before that date are human)")
        if self.human_before is not None and self.first_seen_column is None:
            raise ValueError("human_before needs first_seen_column=... (the column holding the date each row "
                             "was first seen)")
        if self.column is None and self.first_seen_column is None:
            raise ValueError("provenance rule is empty: give column= with human=/synthetic= values, and/or "
                             "first_seen_column= with human_before=")

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, provenance: Mapping[str, Any] | Provenance | None = None, first_seen_column: str | None = None,
              human_before: dt.date | dt.datetime | str | None = None) -> Provenance | None:
        """The rules from the user-facing options; ``None`` when no rule is given.

        Parameters
        ----------
        provenance:
            ``{"column": "source", "human": [...], "synthetic": [...]}`` (``human`` or
            ``synthetic`` may be left out; the keys ``first_seen_column`` and
            ``human_before`` are accepted too, so :meth:`to_dict` round-trips), a
            :class:`Provenance`, or ``None``. Other keys raise ``ValueError``.
        first_seen_column, human_before:
            The date rule: rows whose ``first_seen_column`` is before ``human_before``
            (a date, a datetime at midnight, or an ISO string such as ``"2022-11-30"``)
            are human. Each needs the other.
        """
        if provenance is None:
            if first_seen_column is None and human_before is None:
                return None
            return cls(first_seen_column=first_seen_column, human_before=human_before)
        if isinstance(provenance, Provenance):
            rule = provenance
        elif isinstance(provenance, Mapping):
            unknown = sorted(map(str, set(provenance) - set(_DICT_KEYS) - set(_DATE_KEYS)))
            if unknown:
                raise ValueError(f"provenance has unknown keys {unknown}; expected 'column', 'human', 'synthetic' "
                                 "(and optionally 'first_seen_column', 'human_before')")
            fields = dict(provenance)
            fields.setdefault("human", ())
            fields.setdefault("synthetic", ())
            for key in ("human", "synthetic"):
                if fields[key] is None:
                    fields[key] = ()
            date_rule = {k: fields.pop(k, None) for k in _DATE_KEYS}
            if any(v is not None for v in date_rule.values()) and (first_seen_column, human_before) != (None, None):
                raise ValueError("the date rule is given twice: in provenance={...} and as "
                                 "first_seen_column=/human_before=; give it once")
            if date_rule["first_seen_column"] is not None or date_rule["human_before"] is not None:
                first_seen_column, human_before = date_rule["first_seen_column"], date_rule["human_before"]
            if fields.get("column") is None and not fields["human"] and not fields["synthetic"]:
                if first_seen_column is None and human_before is None:
                    raise ValueError(f"provenance={dict(provenance)!r} is an empty rule: give column= with "
                                     "human=/synthetic= values, and/or first_seen_column= with human_before=")
                return cls(first_seen_column=first_seen_column, human_before=human_before)
            return cls(column=fields.get("column"), human=fields["human"], synthetic=fields["synthetic"],
                       first_seen_column=first_seen_column, human_before=human_before)
        else:
            raise TypeError("provenance must be a dict like {'column': 'source', 'human': [...], 'synthetic': [...]}, "
                            f"a Provenance or None, got {type(provenance).__name__}")
        if first_seen_column is None and human_before is None:
            return rule
        if rule.first_seen_column is not None:
            raise ValueError("the date rule is given twice: in the Provenance and as first_seen_column=/human_before=; "
                             "give it once")
        return dataclasses.replace(rule, first_seen_column=first_seen_column, human_before=human_before)

    # ------------------------------------------------------------------ describing
    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the rules read, in order, without duplicates."""
        out = []
        for name in (self.column, self.first_seen_column):
            if name is not None and name not in out:
                out.append(name)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``human_before`` as ``"YYYY-MM-DD"``); :meth:`build` accepts it back."""
        return {"column": self.column, "human": list(self.human), "synthetic": list(self.synthetic),
                "first_seen_column": self.first_seen_column,
                "human_before": None if self.human_before is None else self.human_before.isoformat()}

    @property
    def date_reason(self) -> str | None:
        """The ``sf_reason`` of rows decided by the date rule (``None`` without one)."""
        if self.first_seen_column is None or self.human_before is None:
            return None
        return f"{REASON_PREFIX}{self.first_seen_column}<{self.human_before.isoformat()}"

    # ------------------------------------------------------------------ deciding
    def decide(self, table: TableLike) -> Decision:
        """Class, reason and route per row of ``table``.

        ``table`` is a ``pyarrow.Table``/``RecordBatch`` or a mapping of column name to
        values (a ``datasets`` batch). Only :attr:`columns` are read; a missing one
        raises ``KeyError`` naming it and the columns present.
        """
        arrays = _columns(table, self.columns)
        n = _length(arrays, table)
        classes = np.full(n, UNDECIDED, dtype=np.int8)
        reasons = np.full(n, "", dtype=object)
        routes = np.full(n, ROUTE_NONE, dtype=np.int8)
        if self.column is not None:
            values = self.human + self.synthetic
            text = values_as_strings(arrays[self.column], self.column)
            pos = pc.index_in(text, value_set=pa.array(values, pa.string()))
            pos = pc.fill_null(pos, len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
            class_of = np.array([HUMAN] * len(self.human) + [SYNTHETIC] * len(self.synthetic) + [UNDECIDED],
                                dtype=np.int8)
            reason_of = np.array([f"{REASON_PREFIX}{self.column}={v}" for v in values] + [""], dtype=object)
            classes = class_of[pos]
            reasons = reason_of[pos]
            routes = np.where(classes != UNDECIDED, ROUTE_COLUMN, ROUTE_NONE).astype(np.int8)
        if self.first_seen_column is not None:
            early = dates_before(arrays[self.first_seen_column], self.human_before, self.first_seen_column)
            take = early & (classes == UNDECIDED)
            classes[take] = HUMAN
            reasons[take] = self.date_reason
            routes[take] = ROUTE_DATE
        return Decision(classes=classes, reasons=reasons, routes=routes)

    def decide_row(self, row: Mapping[str, Any]) -> tuple[int, str]:
        """:meth:`decide` for one row (a dict of values): ``(class code, reason)``."""
        missing = [c for c in self.columns if c not in row]
        if missing:
            raise KeyError(f"provenance column {missing[0]!r} not found; columns present: {list(row)}")
        decision = self.decide({c: [row[c]] for c in self.columns})
        return int(decision.classes[0]), str(decision.reasons[0])


# ---------------------------------------------------------------------- helpers
def _values(values: Any, name: str) -> tuple[str, ...]:
    """A rule's value list as a sorted tuple of distinct strings."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"provenance {name} must be a list of values, got the string {values!r}; "
                        f"write [{values!r}]")
    if not isinstance(values, Iterable):
        raise TypeError(f"provenance {name} must be a list of values, got {type(values).__name__}")
    out = set()
    for value in values:
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            out.add(str(int(value)))
        else:
            raise TypeError(f"provenance {name} values must be strings (or integers), got {value!r}")
    return tuple(sorted(out))


def _as_date(value: Any) -> dt.date:
    """``human_before`` as a date: a date, a datetime at midnight (UTC if aware), or an ISO string."""
    original = value
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"human_before must be an ISO date like '2022-11-30', got {original!r}") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        if value.time() != dt.time(0):
            raise ValueError(f"human_before must be a date (the cut is at midnight UTC), got {original!r} "
                             "with a time of day")
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"human_before must be a date, a datetime or an ISO date string, got {type(original).__name__}")


def _columns(table: TableLike, names: tuple[str, ...]) -> dict[str, pa.Array | pa.ChunkedArray]:
    """The named columns of ``table`` as Arrow arrays; ``KeyError`` naming a missing one."""
    if isinstance(table, (pa.Table, pa.RecordBatch)):
        present = list(table.column_names)
    elif isinstance(table, Mapping):
        present = list(table.keys())
    else:
        raise TypeError(f"decide takes a pyarrow Table/RecordBatch or a dict of columns, got {type(table).__name__}")
    out = {}
    for name in names:
        if name not in present:
            raise KeyError(f"provenance column {name!r} not found; columns present: {present}")
        values = table[name] if isinstance(table, Mapping) else table.column(name)
        if not isinstance(values, (pa.Array, pa.ChunkedArray)):
            try:
                values = pa.array(values if isinstance(values, (list, np.ndarray)) else list(values))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
                raise TypeError(f"provenance column {name!r}: values of mixed or unsupported types ({err})") from None
        out[name] = values
    return out


def _length(arrays: Mapping[str, Any], table: TableLike) -> int:
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise ValueError(f"provenance columns have different lengths: { {k: len(a) for k, a in arrays.items()} }")
    return lengths.pop() if lengths else (table.num_rows if hasattr(table, "num_rows") else 0)
