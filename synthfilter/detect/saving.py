"""Saving and loading a detector: :class:`SavedDetector`, the half of :class:`~synthfilter.detect.base.BaseDetector`
that writes its parameters, classes and learnt state to a checked ``.npz`` file and reads them back (the file
format is :mod:`synthfilter.detect.persist`; the checks of arrays and parameters :mod:`synthfilter.detect.state`)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Self

import numpy as np

from .inputs import DEFAULT_LANGUAGES
from .persist import DetectorFileError, check_threshold, check_version, read_detector_file, write_detector_file
from .state import ArraySpec, check_array, check_param, classes_problem, stored_classes

__all__ = ["SavedDetector"]


class SavedDetector:
    """``save``/``load``, ``version`` and ``tag`` of a detector. A detector family supplies ``_state_arrays``,
    ``_load_state_arrays`` and ``_expected_arrays``; the class attributes ``name``, ``_param_ranges``,
    ``_model_params`` and ``_packaged_models`` come from :class:`~synthfilter.detect.base.BaseDetector`."""

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
        problem = classes_problem(meta["classes"], meta["ai_class"])
        if problem:
            raise ValueError(f"{path}: cannot save: {problem}")
        arrays = self._state_arrays()
        self._check_arrays(path, arrays)
        return write_detector_file(path, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, *, require_digest: bool = True, **params: Any) -> Self:
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
            check_param(path, key, value, defaults[key], cls._param_ranges.get(key))
            if key not in cls._model_params or (value in cls._packaged_models and key not in overrides):
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
        classes, ai_class = stored_classes(path, meta)
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
            check_array(path, name, np.asarray(arrays[name]), spec, sizes)
