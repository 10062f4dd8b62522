"""What a detector's saved state must be: the array specs, and the checks of the arrays, parameters
and classes that :meth:`BaseDetector.save` writes and :meth:`BaseDetector.load` reads.

Every failed check raises :class:`~synthfilter.detect.persist.DetectorFileError` naming the file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import SHIPPED_CLASSES, coerce_labels
from .persist import DetectorFileError

__all__ = ["ArraySpec", "check_array", "check_param", "classes_problem", "stored_classes"]

_MAX_PARAM_CHARS = 4096


@dataclass(frozen=True)
class ArraySpec:
    """What a detector expects of one saved state array.

    Parameters
    ----------
    kind:
        ``"f"`` (float16, float32 or float64, every value finite) or ``"U"`` (strings).
    shape:
        Expected shape; an ``int`` is an exact length, a ``str`` a length that every
        array naming the same symbol must share.
    positive:
        Every value must be greater than zero (scales that are divided by). Default ``False``.
    """

    kind: str
    shape: tuple[int | str, ...]
    positive: bool = False


def check_array(path: str | os.PathLike, name: str, array: np.ndarray, spec: ArraySpec, sizes: dict[str, int]) -> None:
    """``array`` (saved as ``name`` in ``path``) meets ``spec``.

    ``sizes`` maps the symbolic lengths of the arrays checked so far to their values; the
    first array naming a symbol sets it, the others must match.
    """
    if array.dtype.kind != spec.kind or (spec.kind == "f" and array.dtype.itemsize not in (2, 4, 8)):
        wanted = "float16/float32/float64" if spec.kind == "f" else "strings"
        raise DetectorFileError(path, f"array {name!r} has dtype {array.dtype}, expected {wanted}")
    fits = array.ndim == len(spec.shape) and all(
        sizes.setdefault(want, got) == got if isinstance(want, str) else want == got
        for got, want in zip(array.shape, spec.shape))
    if not fits:
        wanted = tuple(sizes.get(w, w) if isinstance(w, str) else w for w in spec.shape)
        raise DetectorFileError(path, f"array {name!r} has shape {array.shape}, expected {wanted} for these parameters")
    if spec.kind == "f" and not np.isfinite(array).all():
        raise DetectorFileError(path, f"array {name!r} holds NaN or infinite values")
    if spec.positive and not (array > 0).all():
        raise DetectorFileError(path, f"array {name!r} must be positive")


def check_param(path: str | os.PathLike, key: str, value: Any, default: Any, bounds: tuple[float, float] | None) -> None:
    """A stored parameter ``key=value`` is a JSON scalar of its ``default``'s type, within ``bounds`` (inclusive)."""
    if isinstance(default, bool):
        expected, ok = "a boolean", isinstance(value, bool)
    elif isinstance(default, int):
        expected, ok = "an integer", isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        expected = "a number"
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    elif isinstance(default, str):
        expected, ok = "a string", isinstance(value, str)
    else:
        expected, ok = "null, a number, a boolean or a string", value is None or isinstance(value, (bool, int, float, str))
    if isinstance(value, str) and len(value) > _MAX_PARAM_CHARS:
        expected, ok = f"at most {_MAX_PARAM_CHARS} characters", False
    if not ok:
        raise DetectorFileError(path, f"parameter {key}={value!r:.100} is not {expected}")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise DetectorFileError(path, f"parameter {key}={value!r} is outside [{bounds[0]}, {bounds[1]}]")


def classes_problem(classes: Any, ai_class: Any) -> str | None:
    """What is wrong with stored ``classes``/``ai_class``, or ``None``."""
    if not isinstance(classes, list) or len(classes) != 2:
        return f"classes {classes!r:.100} is not a list of two labels"
    kind = type(classes[0])
    if kind not in (str, int, bool) or type(classes[1]) is not kind:
        return f"classes {classes!r:.100} must be two strings, two integers or two booleans"
    if kind is str and max(len(c) for c in classes) > 64:
        return "class names must be at most 64 characters"
    if not classes[0] < classes[1]:
        return f"classes {classes!r} must be distinct and sorted (as numpy.unique orders them)"
    try:
        codes = coerce_labels(classes).tolist()
    except ValueError as exc:
        return str(exc)
    if sorted(codes) != [0, 1]:
        return f"classes {classes!r} do not name one human and one AI class"
    if type(ai_class) is not kind or ai_class not in classes or codes[classes.index(ai_class)] != 1:
        return f"ai_class {ai_class!r:.100} is not the AI class of {classes!r}"
    return None


def stored_classes(path: str | os.PathLike, meta: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """``(classes_, ai_class_)`` of a file's ``meta``; files that store none get :data:`SHIPPED_CLASSES`."""
    if "classes" not in meta and "ai_class" not in meta:
        return np.array(SHIPPED_CLASSES), SHIPPED_CLASSES[1]
    problem = classes_problem(meta.get("classes"), meta.get("ai_class"))
    if problem:
        raise DetectorFileError(path, problem)
    return np.array(meta["classes"]), meta["ai_class"]
