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

This module holds the contract, :class:`BaseDetector`; the helpers it rests on have one
module each: :mod:`~synthfilter.detect.inputs` (texts and languages),
:mod:`~synthfilter.detect.labels` (classes and targets), :mod:`~synthfilter.detect.calibration`
(thresholds) and :mod:`~synthfilter.detect.state` (checks of saved state); ``save``/``load`` come
from :class:`~synthfilter.detect.saving.SavedDetector`. The helpers' names are re-exported here, where
detector families and callers have always imported them.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

from ..text import unscorable_reason
from .calibration import threshold_for_fpr
from .inputs import (DEFAULT_LANGUAGES, MIN_LANGUAGE_SHARE, MIN_LANGUAGE_TEXTS, as_texts, infer_languages,
                     require_scorable, rows_named, unscorable_rows, unsupported_language_rows)
from .labels import SHIPPED_CLASSES, Targets, coerce_labels, encode_targets, targets_01
from .saving import SavedDetector
from .state import ArraySpec

__all__ = [
    "BaseDetector", "ArraySpec", "SHIPPED_CLASSES", "as_texts", "coerce_labels", "encode_targets",
    "NotFittedError", "threshold_for_fpr",
    # re-exported from the helper modules, importable from here as before
    "DEFAULT_LANGUAGES", "MIN_LANGUAGE_SHARE", "MIN_LANGUAGE_TEXTS", "Targets", "infer_languages",
    "require_scorable", "targets_01", "unscorable_rows",
]


class BaseDetector(SavedDetector, ClassifierMixin, BaseEstimator):
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
    saved file, unless the value is one of ``_packaged_models``) and ``_param_ranges``
    (bounds of numeric parameters read from a file).
    """

    #: Registry name, written into ``sf_detector`` as ``name@version``.
    name: ClassVar[str] = "base"
    #: Constructor parameters that name a model, file or path; :meth:`load` never takes them from a file.
    _model_params: ClassVar[tuple[str, ...]] = ()
    #: Model names that come with the package (never a folder or hub name): a file may choose these.
    _packaged_models: ClassVar[frozenset[str]] = frozenset()
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
    def fit(self, texts: Sequence[str], labels: Sequence, sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> "BaseDetector":  # pragma: no cover - abstract
        """Learn from labelled texts; returns ``self``.

        Parameters
        ----------
        texts:
            A list of texts, every one scorable (others raise ``ValueError`` naming them).
        labels:
            One label per text, two distinct values (see :func:`coerce_labels`); they
            become ``classes_``.
        sample_weight:
            Optional weight per text, for example to balance sources. Default ``None``.
        groups:
            Optional group per text (the source or domain). Detectors that cross-fit
            (``stack``) leave whole groups out; the others ignore it. Default ``None``.

        The threshold starts at probability 0.5; call :meth:`calibrate` on known-human
        texts to set it for a target false-positive rate.
        """
        raise NotImplementedError

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

    def ai_score(self, texts: Sequence[Any], *, any_language: bool = False) -> np.ndarray:
        """AI log-odds per text (higher = more likely AI, whatever ``classes_``); NaN where unscorable.

        Parameters
        ----------
        texts:
            The texts to score.
        any_language:
            ``False`` (default): a text whose identified language is not one the detector
            declares (``languages_``, those it was trained and evaluated on) gets NaN, as an
            unscorable one does: a score outside those languages means nothing (an English
            detector flags most Arabic or Chinese human text). ``True`` scores every text
            (for measuring a detector out of its languages, or when the caller has already
            screened the languages, as :class:`synthfilter.Tagger` does).
        """
        texts = as_texts(texts)
        self._check_fitted()
        ok = [i for i, value in enumerate(texts) if unscorable_reason(value) is None]
        if not any_language and ok:
            foreign = unsupported_language_rows([texts[i] for i in ok], self.declared_languages)
            ok = [i for j, i in enumerate(ok) if j not in foreign]
        out = np.full(len(texts), np.nan)
        if ok:
            out[ok] = self._raw_scores(texts if len(ok) == len(texts) else [texts[i] for i in ok])
        return out

    @property
    def declared_languages(self) -> tuple[str, ...]:
        """The languages this detector scores (``languages_``; ``("en",)`` for a file that names none)."""
        return tuple(getattr(self, "languages_", DEFAULT_LANGUAGES))

    def _require_languages(self, texts: Sequence[str], argument: str, remedy: str) -> None:
        foreign = unsupported_language_rows(texts, self.declared_languages)
        if foreign:
            raise ValueError(f"{argument}: row(s) {rows_named(foreign)} are in a language this detector was not trained on "
                             f"(it declares {list(self.declared_languages)}); {remedy}")

    def _in_languages(self, texts: list, argument: str) -> list:
        """``texts`` without those out of the detector's languages, with a warning that counts them."""
        foreign = unsupported_language_rows(texts, self.declared_languages)
        if foreign:
            langs = Counter(foreign.values()).most_common(5)
            warnings.warn(f"{argument}: {len(foreign)} of {len(texts)} texts are identified as a language this detector "
                          f"does not declare ({', '.join(f'{k}: {v}' for k, v in langs)}; it declares "
                          f"{list(self.declared_languages)}); they are left out, as the tagger leaves them unscored",
                          stacklevel=3)
            texts = [t for i, t in enumerate(texts) if i not in foreign]
        return texts

    def decision_function(self, texts: Sequence[Any]) -> np.ndarray:
        """Score of ``classes_[1]`` per text (scikit-learn's binary convention); NaN where unscorable
        or out of the detector's languages (see :meth:`ai_score`).

        The AI log-odds when ``classes_[1]`` is the AI class, their negation otherwise.
        """
        scores = self.ai_score(texts)
        return scores if self._ai_column == 1 else -scores

    def score_texts(self, texts: Sequence[Any], *, any_language: bool = False) -> np.ndarray:
        """Probability that each text is AI-generated, shape ``(n,)``; NaN where unscorable or, unless
        ``any_language`` (default ``False``, see :meth:`ai_score`), out of the detector's languages."""
        return 1.0 / (1.0 + np.exp(-self.ai_score(texts, any_language=any_language)))

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
        self._require_languages(texts, "texts", "they have no label: use predict_proba (NaN for such rows), "
                                                "synthfilter.Tagger (sf_label='unknown') or a detector fitted on them")
        ai = self._ai_column
        scores = self.score_texts(texts, any_language=True)  # languages checked just above
        return self.classes_[np.where(scores >= self.threshold_, ai, 1 - ai)]

    def calibrate(self, human_texts: Sequence[str], target_fpr: float = 0.01, *,
                  any_language: bool = False) -> "BaseDetector":
        """Set ``threshold_`` so that at most ``target_fpr`` of ``human_texts`` score at or above it.

        Parameters
        ----------
        human_texts:
            Texts known to be human-written, ideally from the domain you will clean
            (a :class:`~synthfilter.Reservoir` gives all of its texts);
            every one must be scorable (others raise ``ValueError`` naming them). At
            least ``ceil(1 / target_fpr)`` texts are needed for the rate to be
            resolvable; fewer raise ``ValueError``.
        target_fpr:
            Largest share of human texts allowed to be labelled synthetic, in (0, 1).
            Default 0.01.
        any_language:
            ``False`` (default): texts identified as a language the detector does not
            declare are left out of the threshold, as :class:`synthfilter.Tagger` leaves
            them unscored, with a warning giving their count and languages. ``True`` scores
            them all (see :meth:`ai_score`).
        """
        texts = as_texts(human_texts, "human_texts")
        self._check_fitted()
        if not 0.0 < target_fpr < 1.0:
            raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
        require_scorable(texts, "human_texts", "calibrate never drops rows: remove or fix them first")
        if not any_language:
            texts = self._in_languages(texts, "human_texts")
        needed = int(np.ceil(1.0 / target_fpr))
        if len(texts) < needed:
            raise ValueError(
                f"human_texts: {len(texts)} texts in the detector's languages cannot resolve a false-positive rate "
                f"of {target_fpr}; give at least {needed}"
            )
        self.threshold_ = threshold_for_fpr(self.score_texts(texts, any_language=True), target_fpr)
        return self
