"""Collapse scenarios: real data, a model family (fit, sample), and metrics against the real distribution.

One module per scenario family (``gaussian``, ``gmm``, ``linreg``, ``categorical``,
``digits``, ``text``, and the torch ones ``vae`` and ``lstm``) over the contract in
:mod:`.base`. Data of a scenario is a numpy array whose rows are samples (``linreg``:
features with the label as last column; ``categorical``: category ids; ``vae``: 64 pixels
in [0, 1]; ``text`` and ``lstm``: an object array of documents). The torch scenarios import
torch only when they fit, sample or score.
:meth:`Scenario.to_dataset` turns it into a real ``datasets.Dataset`` so that the
library's transforms run on it unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._checks import OptionError
from .base import Scenario
from .categorical import CategoricalScenario
from .digits import DigitsScenario
from .gaussian import GaussianScenario
from .gmm import GMMScenario
from .linreg import LinRegScenario
from .lstm import LSTMScenario
from .text import WIKITEXT_DIR, WIKITEXT_ENV, BigramModel, TextScenario, wikitext_dir
from .vae import VAEScenario

__all__ = ["Scenario", "SCENARIOS", "make_scenario", "scenario_options", "WIKITEXT_DIR", "WIKITEXT_ENV", "wikitext_dir",
           "BigramModel", "CategoricalScenario", "DigitsScenario", "GaussianScenario", "GMMScenario", "LinRegScenario",
           "LSTMScenario", "TextScenario", "VAEScenario"]

#: Scenario name -> class; :func:`make_scenario` looks names up here.
SCENARIOS: dict[str, type[Scenario]] = {cls.name: cls for cls in (
    GaussianScenario, GMMScenario, LinRegScenario, CategoricalScenario, DigitsScenario, TextScenario, VAEScenario,
    LSTMScenario)}


def scenario_options(name: str) -> list[str]:
    """The options scenario ``name`` (a key of :data:`SCENARIOS`) takes."""
    return sorted(f.name for f in dataclasses.fields(SCENARIOS[name]) if not f.name.startswith("_") and f.name != "w_true")


def make_scenario(name: str, /, **options: Any) -> Scenario:
    """Instantiate scenario ``name`` with options (for example ``n=100``, ``dim=2``, ``temperature=0.8``).

    Every option is checked here: a bad one raises :class:`OptionError` (a ``ValueError``)
    naming it and what it expects.
    """
    if not isinstance(name, str) or name not in SCENARIOS:
        raise OptionError(("scenario",), "scenario", f"must be one of {sorted(SCENARIOS)}, got {name!r} "
                                                     "(unknown scenario)")
    allowed = scenario_options(name)
    bad = set(options) - set(allowed)
    if bad:
        raise OptionError(("options",), "options",
                          f"scenario {name!r} has no option(s) {sorted(map(str, bad))}; its options: {allowed}",
                          joiner=": ")
    return SCENARIOS[name](**options)
