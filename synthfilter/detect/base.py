"""The detector interface: scikit-learn style estimators that score texts.

A detector maps texts to a probability that each was AI-generated. Like a
scikit-learn estimator, its constructor stores parameters only, learnt state ends in
``_``, ``fit`` returns ``self``, ``get_params``/``set_params``/``clone`` work, and
``classes_``, ``predict``, ``predict_proba``, ``decision_function`` and ``score``
follow scikit-learn's binary-classifier conventions, so ``cross_val_score`` and the
metrics give the right numbers. On top of that it has a decision ``threshold_`` that
:meth:`BaseDetector.calibrate` can set from known-human text alone, and
``save``/``load`` to a small ``.npz`` file that is checked on every read (no pickle,
no model chosen by the file; see :mod:`synthfilter.detect.persist`).
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

from ..text import unscorable_reason
from .persist import DetectorFileError, check_threshold, check_version, read_detector_file, write_detector_file

__all__ = [
    "BaseDetector", "ArraySpec", "SHIPPED_CLASSES", "as_texts", "coerce_labels", "encode_targets",
    "NotFittedError", "threshold_for_fpr",
]

#: ``classes_`` of the shipped detectors: the vocabulary of the ``sf_label`` column
#: (human first, as ``numpy.unique`` orders them). Files that store no classes get these.
SHIPPED_CLASSES: tuple[str, str] = ("human", "synthetic")

_POSITIVE = {"ai", "synthetic", "generated", "machine", "1", "true"}
_NEGATIVE = {"human", "real", "0", "false"}
_MAX_PARAM_CHARS = 4096


def coerce_labels(labels: Iterable[Any]) -> np.ndarray:
    """Map labels to 1 (AI-generated) / 0 (human).

    Accepts booleans, 0/1 integers, or the strings ``"ai"``, ``"synthetic"``,
    ``"generated"``, ``"machine"`` (positive) and ``"human"``, ``"real"`` (negative),
    in any case. Anything else raises ``ValueError`` naming the offending value.
    """
    out = []
    for value in labels:
        key = str(value).strip().lower() if not isinstance(value, (bool, np.bool_)) else str(bool(value)).lower()
        if key in _POSITIVE:
            out.append(1)
        elif key in _NEGATIVE:
            out.append(0)
        else:
            raise ValueError(
                f"labels: cannot read {value!r} as a class; expected 'human'/'ai' "
                "(or 'real'/'synthetic', 0/1, False/True)"
            )
    return np.asarray(out, dtype=np.int64)


# ----------------------------------------------------------------- inputs
def as_texts(texts: Any, argument: str = "texts") -> list:
    """``texts`` as a list; a single string (or bytes, or a non-iterable) raises ``TypeError`` naming ``argument``."""
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
    """Raise ``ValueError`` naming the rows of ``texts`` that cannot be scored, and ``remedy``."""
    bad = unscorable_rows(texts)
    if bad:
        shown = ", ".join(f"{i} ({reason})" for i, reason in list(bad.items())[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(f"{argument}: row(s) {shown}{more} cannot be scored (None, not a string, empty, "
                         f"whitespace-only, binary or non-Latin text); {remedy}")


#: Languages of a detector file that names none: every shipped ``@1`` detector was trained and
#: evaluated on English text only.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
#: A language is declared by ``fit`` when at least this many training texts, or this share of them, are in it.
MIN_LANGUAGE_TEXTS, MIN_LANGUAGE_SHARE = 50, 0.1


def infer_languages(texts: Sequence[str]) -> tuple[str, ...]:
    """The languages a detector fitted on ``texts`` may score: those with at least
    :data:`MIN_LANGUAGE_TEXTS` texts or :data:`MIN_LANGUAGE_SHARE` of them, sorted."""
    from ..lang import identify_languages
    from ..text import normalize

    counts = Counter(identify_languages([normalize(t) for t in texts]))
    counts.pop("", None)
    keep = {lang for lang, n in counts.items() if n >= MIN_LANGUAGE_TEXTS or n >= MIN_LANGUAGE_SHARE * len(texts)}
    return tuple(sorted(keep))


class Targets(NamedTuple):
    """Labels as a detector learns them."""

    y: np.ndarray
    """1 for AI-generated, 0 for human, per text."""
    classes: np.ndarray
    """``numpy.unique`` of the labels as given (what ``classes_`` becomes)."""
    ai_class: Any
    """The element of ``classes`` that means AI-generated (a plain str, int or bool)."""
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    """Languages of the training texts that the detector will score (see :func:`infer_languages`)."""


def encode_targets(labels: Any, n_texts: int) -> Targets:
    """Read ``labels`` (one per text, vocabulary of :func:`coerce_labels`) into :class:`Targets`.

    Exactly two distinct label values are needed, one human and one AI.
    """
    if isinstance(labels, (str, bytes, bytearray)):
        raise TypeError(f"labels: expected one label per text, got a single {type(labels).__name__}")
    raw = list(labels)
    if len({isinstance(value, str) for value in raw}) > 1:
        raise ValueError("labels: do not mix strings with other values (like 'ai' with 1); use one vocabulary")
    values = np.asarray(raw)
    if values.ndim != 1:
        raise ValueError(f"labels: expected a flat list of labels, got an array of shape {values.shape}")
    if values.dtype == object:
        values = np.asarray(values.tolist())
    y = coerce_labels(values.tolist())
    if len(y) != n_texts:
        raise ValueError(f"texts and labels differ in length: {n_texts} vs {len(y)}")
    classes = np.unique(values)
    if len(set(y.tolist())) < 2:
        raise ValueError("labels: both classes (human and ai) are needed to fit")
    if len(classes) != 2:
        raise ValueError(f"labels: use one value per class (like 'human'/'ai' or 0/1), got {classes.tolist()}")
    ai_class = classes[int(np.flatnonzero(coerce_labels(classes.tolist()) == 1)[0])].item()
    return Targets(y, classes, ai_class)


def targets_01(labels: Any, n_texts: int) -> np.ndarray:
    """0/1 targets (1 = AI) of ``labels`` for ``n_texts`` texts; both classes must be present."""
    if isinstance(labels, (str, bytes, bytearray)):
        raise TypeError(f"labels: expected one label per text, got a single {type(labels).__name__}")
    y = coerce_labels(labels)
    if len(y) != n_texts:
        raise ValueError(f"texts and labels differ in length: {n_texts} vs {len(y)}")
    if len(set(y.tolist())) < 2:
        raise ValueError("labels: both classes (human and ai) are needed to fit")
    return y


@dataclass(frozen=True)
class ArraySpec:
    """What a detector expects of one saved state array.

    Parameters
    ----------
    kind:
        ``"f"`` (float32 or float64, every value finite) or ``"U"`` (strings).
    shape:
        Expected shape; an ``int`` is an exact length, a ``str`` a length that every
        array naming the same symbol must share.
    positive:
        Every value must be greater than zero (scales that are divided by). Default ``False``.
    """

    kind: str
    shape: tuple[int | str, ...]
    positive: bool = False


class BaseDetector(ClassifierMixin, BaseEstimator):
    """Common behaviour of every synthfilter detector.

    **Classes and scores.** ``fit(texts, labels)`` sets ``classes_`` to
    ``numpy.unique(labels)`` as given (``["ai", "human"]`` for those strings,
    ``[0, 1]``, ``[False, True]``, ...) and ``ai_class_`` to the one that means
    AI-generated (read with :func:`coerce_labels`). The shipped detectors have
    ``classes_ == ["human", "synthetic"]``, the vocabulary of ``sf_label``. Then, as
    in scikit-learn:

    * ``predict`` returns members of ``classes_`` (``ai_class_`` where P(AI) is at or
      above ``threshold_``);
    * ``predict_proba`` has one column per class, in ``classes_`` order;
    * ``decision_function`` is the score of ``classes_[1]``: the AI log-odds when
      ``classes_[1]`` is the AI class (``[0, 1]``, ``["human", "synthetic"]``), their
      negation when it is the human class (``["ai", "human"]``).

    Whatever ``classes_`` is, :meth:`ai_score` is the AI log-odds and
    :meth:`score_texts` the probability of AI (what :class:`synthfilter.Tagger` writes
    to ``sf_score``); ``threshold_`` is on that probability.

    **Unscorable rows.** ``None``, non-strings, empty or whitespace-only, binary and
    non-Latin values (:func:`synthfilter.text.unscorable_reason`) get NaN from
    ``ai_score``, ``score_texts``, ``decision_function`` and ``predict_proba``;
    ``predict``, ``fit`` and ``calibrate`` raise ``ValueError`` naming their positions
    (rows are never dropped silently). Passing one string where a list of texts is
    expected raises ``TypeError``.

    **Subclasses** implement ``fit`` (using :meth:`_fit_targets` and
    :meth:`_set_fitted`), ``_raw_scores(texts)`` (AI log-odds of scorable texts),
    ``_state_arrays`` / ``_load_state_arrays`` and ``_expected_arrays``, and declare
    ``_model_params`` (parameters naming a model, file or path: never read from a
    saved file) and ``_param_ranges`` (bounds of numeric parameters read from a file).
    """

    #: Registry name, written into ``sf_detector`` as ``name@version``.
    name: ClassVar[str] = "base"
    #: Constructor parameters that name a model, file or path; :meth:`load` never takes them from a file.
    _model_params: ClassVar[tuple[str, ...]] = ()
    #: Inclusive ``(low, high)`` bounds of numeric parameters read from a file.
    _param_ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "threshold_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call fit(texts, labels) or "
                f"synthfilter.load_detector({self.name!r}) for the shipped weights"
            )

    # ------------------------------------------------------------------ fitting
    def _fit_targets(self, texts: Sequence[Any], labels: Any) -> Targets:
        """Check ``texts`` (a list, every row scorable) and read ``labels`` for ``fit``."""
        targets = encode_targets(labels, len(texts))
        require_scorable(texts, "texts", "fit never drops rows: remove or fix them first")
        return targets._replace(languages=infer_languages(texts))

    def _set_fitted(self, targets: Targets) -> None:
        """Record the classes of a finished ``fit``; the threshold starts at probability 0.5."""
        self.classes_ = targets.classes
        self.ai_class_ = targets.ai_class
        self.languages_ = targets.languages
        self.threshold_ = 0.5
        self.version_ = getattr(self, "version_", "custom")

    @property
    def _ai_column(self) -> int:
        """Index of the AI class in ``classes_`` (0 or 1)."""
        return int(np.flatnonzero(self.classes_ == self.ai_class_)[0])

    # ------------------------------------------------------------------ scoring
    def _raw_scores(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def ai_score(self, texts: Sequence[Any]) -> np.ndarray:
        """AI log-odds per text (higher = more likely AI, whatever ``classes_``); NaN where unscorable."""
        texts = as_texts(texts)
        self._check_fitted()
        ok = [i for i, value in enumerate(texts) if unscorable_reason(value) is None]
        out = np.full(len(texts), np.nan)
        if ok:
            out[ok] = self._raw_scores(texts if len(ok) == len(texts) else [texts[i] for i in ok])
        return out

    def decision_function(self, texts: Sequence[Any]) -> np.ndarray:
        """Score of ``classes_[1]`` per text (scikit-learn's binary convention); NaN where unscorable.

        The AI log-odds when ``classes_[1]`` is the AI class, their negation otherwise.
        """
        scores = self.ai_score(texts)
        return scores if self._ai_column == 1 else -scores

    def score_texts(self, texts: Sequence[Any]) -> np.ndarray:
        """Probability that each text is AI-generated, shape ``(n,)``; NaN where unscorable."""
        return 1.0 / (1.0 + np.exp(-self.ai_score(texts)))

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Shape ``(n, 2)``: class probabilities in ``classes_`` order; NaN rows where unscorable."""
        p = self.score_texts(texts)
        return np.column_stack([1.0 - p, p] if self._ai_column == 1 else [p, 1.0 - p])

    def predict(self, texts: Sequence[Any]) -> np.ndarray:
        """``ai_class_`` where P(AI) is at or above ``threshold_``, else the other class.

        Unscorable rows have no label: they raise ``ValueError`` naming their
        positions (``predict_proba`` gives them NaN, :class:`synthfilter.Tagger`
        labels them ``"unknown"``).
        """
        texts = as_texts(texts)
        self._check_fitted()
        require_scorable(texts, "texts", "they have no label: use predict_proba (NaN for such rows) or "
                                         "synthfilter.Tagger (sf_label='unknown')")
        ai = self._ai_column
        return self.classes_[np.where(self.score_texts(texts) >= self.threshold_, ai, 1 - ai)]

    def calibrate(self, human_texts: Sequence[str], target_fpr: float = 0.01) -> "BaseDetector":
        """Set ``threshold_`` so that at most ``target_fpr`` of ``human_texts`` score at or above it.

        Parameters
        ----------
        human_texts:
            Texts known to be human-written, ideally from the domain you will clean;
            every one must be scorable (others raise ``ValueError`` naming them). At
            least ``ceil(1 / target_fpr)`` texts are needed for the rate to be
            resolvable; fewer raise ``ValueError``.
        target_fpr:
            Largest share of human texts allowed to be labelled synthetic, in (0, 1).
            Default 0.01.
        """
        texts = as_texts(human_texts, "human_texts")
        self._check_fitted()
        if not 0.0 < target_fpr < 1.0:
            raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
        require_scorable(texts, "human_texts", "calibrate never drops rows: remove or fix them first")
        needed = int(np.ceil(1.0 / target_fpr))
        if len(texts) < needed:
            raise ValueError(
                f"human_texts: {len(texts)} texts cannot resolve a false-positive rate of "
                f"{target_fpr}; give at least {needed}"
            )
        self.threshold_ = threshold_for_fpr(self.score_texts(texts), target_fpr)
        return self

    # ------------------------------------------------------------- persistence
    @property
    def version(self) -> str:
        """Version string of the fitted weights (``"unfitted"`` before ``fit``)."""
        return getattr(self, "version_", "unfitted")

    @property
    def tag(self) -> str:
        """``name@version``, the value written to the ``sf_detector`` column."""
        return f"{self.name}@{self.version}"

    def _state_arrays(self) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _expected_arrays(self) -> dict[str, ArraySpec]:  # pragma: no cover - abstract
        """Every array ``_state_arrays`` writes, as the current parameters shape it."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write parameters, classes and learnt state to ``path`` (a compressed ``.npz`` with a SHA-256 digest).

        The file is checked as :meth:`load` will check it, so a file that saves also loads.
        """
        self._check_fitted()
        meta = {
            "detector": self.name,
            "version": self.version,
            "threshold": float(self.threshold_),
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "ai_class": self.ai_class_.item() if isinstance(self.ai_class_, np.generic) else self.ai_class_,
            "languages": list(getattr(self, "languages_", DEFAULT_LANGUAGES)),
            "info": getattr(self, "info_", {}),
        }
        check_version(path, meta["version"])
        check_threshold(path, meta["threshold"])
        problem = _classes_problem(meta["classes"], meta["ai_class"])
        if problem:
            raise ValueError(f"{path}: cannot save: {problem}")
        arrays = self._state_arrays()
        self._check_arrays(path, arrays)
        return write_detector_file(path, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, *, require_digest: bool = True, **params: Any) -> "BaseDetector":
        """Read a detector written by :meth:`save`, checking every field.

        Parameters
        ----------
        path:
            The ``.npz`` file.
        require_digest:
            ``True`` (default) refuses a file without a digest; ``False`` accepts one
            (written before files carried a digest), with every other check. Save
            it again to add the digest.
        **params:
            Constructor parameters to use instead of the file's. The parameters that
            name a model (``_model_params``, e.g. ``model``, ``performer``) are never
            taken from the file: they are the ones given here or the defaults, and a
            file that stores another value gets a ``UserWarning`` naming it.

        Every problem raises ``ValueError`` naming the file: no digest or a digest
        mismatch, a detector kind other than this class's, a version that is not a
        short string, a threshold outside [0, 1], parameters of unknown name or wrong
        type or range, arrays unexpected, missing, of the wrong dtype or shape, not
        finite, or larger than :data:`synthfilter.detect.persist.MAX_ARRAY_BYTES`.
        """
        meta, arrays = read_detector_file(path, require_digest=require_digest)
        if meta["detector"] != cls.name:
            raise DetectorFileError(path, f"holds a {meta['detector']!r} detector, not {cls.name!r}")
        det = cls(**cls._params_from_file(path, meta["params"], params))
        det._restore(path, meta, arrays)
        return det

    @classmethod
    def _params_from_file(cls, path: str | os.PathLike, stored: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments: the file's checked parameters, less model names, updated by ``overrides``."""
        defaults = cls().get_params()
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise TypeError(f"{cls.__name__}.load: unknown parameter(s) {unknown}; expected some of {sorted(defaults)}")
        unknown = sorted(set(stored) - set(defaults))
        if unknown:
            raise DetectorFileError(path, f"unknown parameter(s) {unknown} for a {cls.name!r} detector")
        params = {}
        for key, value in stored.items():
            _check_param(path, key, value, defaults[key], cls._param_ranges.get(key))
            if key not in cls._model_params:
                params[key] = value
                continue
            used = overrides.get(key, defaults[key])
            if value != defaults[key] and value != used:
                warnings.warn(f"{path}: ignoring {key}={value!r} stored in the file (a detector file never chooses "
                              f"a model); using {key}={used!r}. If you trust that model, pass {key}=... to "
                              "load_detector / load.", UserWarning, stacklevel=4)
        return {**params, **overrides}

    def _restore(self, path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Set the learnt state from a read file's checked ``meta`` and ``arrays``."""
        self._check_arrays(path, arrays)
        classes, ai_class = _stored_classes(path, meta)
        try:
            self._load_state_arrays(arrays)
        except (ValueError, KeyError, IndexError) as exc:
            raise DetectorFileError(path, str(exc)) from None
        self.classes_ = classes
        self.ai_class_ = ai_class
        self.languages_ = tuple(meta.get("languages", DEFAULT_LANGUAGES))
        self.threshold_ = float(meta["threshold"])
        self.version_ = meta["version"]
        self.info_ = meta.get("info", {})

    def _check_arrays(self, path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
        """``arrays`` are exactly the expected ones, with the expected dtype, shape and finite values."""
        expected = self._expected_arrays()
        unknown, missing = sorted(set(arrays) - set(expected)), sorted(set(expected) - set(arrays))
        if unknown:
            raise DetectorFileError(path, f"unexpected array(s) {unknown} for a {self.name!r} detector")
        if missing:
            raise DetectorFileError(path, f"lacks array(s) {missing} of a {self.name!r} detector")
        sizes: dict[str, int] = {}
        for name, spec in expected.items():
            _check_array(path, name, np.asarray(arrays[name]), spec, sizes)


def _check_array(path: str | os.PathLike, name: str, array: np.ndarray, spec: ArraySpec, sizes: dict[str, int]) -> None:
    if array.dtype.kind != spec.kind or (spec.kind == "f" and array.dtype.itemsize not in (4, 8)):
        wanted = "float32/float64" if spec.kind == "f" else "strings"
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


def _check_param(path: str | os.PathLike, key: str, value: Any, default: Any, bounds: tuple[float, float] | None) -> None:
    """A stored parameter is a JSON scalar of its default's type, within ``bounds``."""
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


def _classes_problem(classes: Any, ai_class: Any) -> str | None:
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


def _stored_classes(path: str | os.PathLike, meta: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """``(classes_, ai_class_)`` of a file; files that store none get :data:`SHIPPED_CLASSES`."""
    if "classes" not in meta and "ai_class" not in meta:
        return np.array(SHIPPED_CLASSES), SHIPPED_CLASSES[1]
    problem = _classes_problem(meta.get("classes"), meta.get("ai_class"))
    if problem:
        raise DetectorFileError(path, problem)
    return np.array(meta["classes"]), meta["ai_class"]


def threshold_for_fpr(human_scores: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold such that at most ``target_fpr`` of ``human_scores`` are ``>=`` it."""
    scores = np.sort(np.asarray(human_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(target_fpr * len(scores)))
    if allowed >= len(scores):
        return float(scores[-1])
    # Strictly above the (allowed+1)-th highest score, so exactly `allowed` may pass.
    return float(np.nextafter(scores[allowed], np.inf))
