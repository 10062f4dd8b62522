"""Option checks shared by scenarios, policies, the runner and the CLI.

Every check raises :class:`OptionError`, a ``ValueError`` that names the option and says
what was expected. It also records *which* option (``field``, for example
``("generations",)`` or ``("options", "n")``), so that the command line can repeat the
message with its own option names (``--generations must be >= 1, got 0``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["OptionError", "check_int", "check_real"]


class OptionError(ValueError):
    """An option with a value out of range or of the wrong type.

    ``str(err)`` is ``label + joiner + detail``; :meth:`render` gives the same message
    under another label (the command line's option name).
    """

    def __init__(self, field: tuple[Any, ...], label: str, detail: str, joiner: str = " ") -> None:
        self.field, self.label, self.detail, self.joiner = tuple(field), label, detail, joiner
        super().__init__(self.render(label))

    def render(self, label: str) -> str:
        return f"{label}{self.joiner}{self.detail}"


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_int(value: Any, field: tuple[Any, ...], label: str, minimum: int, why: str = "",
              maximum: int | None = None) -> int:
    """``value`` must be an integer (``bool`` is not one) in ``[minimum, maximum]``; returns it as ``int``."""
    why = f" ({why})" if why else ""
    expected = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if not _is_int(value):
        raise OptionError(field, label, f"must be an integer {expected}, got {value!r}{why}")
    if value < minimum or (maximum is not None and value > maximum):
        raise OptionError(field, label, f"must be {expected}, got {int(value)}{why}")
    return int(value)


def check_real(value: Any, field: tuple[Any, ...], label: str, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, why: str = "") -> float:
    """``value`` must be a finite real number (not ``bool``) within the given bounds; returns it as ``float``."""
    if low is not None and high is not None:
        expected = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        expected = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expected = f"{'<' if high_open else '<='} {high:g}"
    else:
        expected = ""
    why = f" ({why})" if why else ""
    if not _is_real(value):
        raise OptionError(field, label, f"must be a number{' ' * bool(expected)}{expected}, got {value!r}{why}")
    x = float(value)
    if not math.isfinite(x):
        raise OptionError(field, label, f"must be a finite number{' ' * bool(expected)}{expected}, got {x!r}{why}")
    too_low = low is not None and (x <= low if low_open else x < low)
    too_high = high is not None and (x >= high if high_open else x > high)
    if too_low or too_high:
        raise OptionError(field, label, f"must be {expected}, got {x!r}{why}")
    return x
