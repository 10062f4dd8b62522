"""What a collapse run runs: :class:`RunConfig` (scenario, policies, generations, seeds, options), checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._checks import OptionError, check_int, check_real
from .policies import parse_policy
from .scenarios import make_scenario

__all__ = ["RunConfig"]


@dataclass
class RunConfig:
    """What to run.

    Parameters
    ----------
    scenario:
        Scenario name (``gaussian``, ``gmm``, ``linreg``, ``categorical``, ``digits``, ``text``, ``vae``, ``lstm``).
    policies:
        Policy specs (see :mod:`synthfilter.collapse.policies`), each at most once.
    generations:
        Generations after the initial fit on real data (an integer >= 1). Default 10.
    seeds:
        Independent repetitions per policy (an integer >= 1). Default 20.
    options:
        Scenario options, for example ``{"n": 100, "dim": 1}`` (checked by the scenario).
    reference_size:
        Known-real samples the ``filter`` detector may use each generation (>= 1). Default 200.
    detector_fpr:
        False-positive rate the ``filter`` detector is calibrated to, in (0, 1). Default 0.05.

    :meth:`validate` (called by :func:`run` and :func:`run_cell`) rejects every value out of
    range with a ``ValueError`` naming the option and what it expects.
    """

    scenario: str
    policies: list[str]
    generations: int = 10
    seeds: int = 20
    options: dict[str, Any] = field(default_factory=dict)
    reference_size: int = 200
    detector_fpr: float = 0.05

    def validate(self) -> "RunConfig":
        """Check every field, scenario option and policy before anything runs.

        Raises :class:`~synthfilter.collapse._checks.OptionError` (a ``ValueError``) naming
        the first bad option and what it expects; its ``field`` says which one, for the CLI.
        """
        if not isinstance(self.options, dict) or not all(isinstance(k, str) for k in self.options):
            raise OptionError(("options",), "options",
                              f"must be a mapping of scenario option names to values, got {self.options!r}")
        scn = make_scenario(self.scenario, **self.options)
        if isinstance(self.policies, str) or not isinstance(self.policies, (list, tuple)):
            raise OptionError(("policies",), "policies",
                              f"must be a list of policy specs (e.g. ['replace', 'accumulate']), got {self.policies!r}")
        if not self.policies:
            raise OptionError(("policies",), "policies", "must list at least one policy, got none")
        seen: set[str] = set()
        for spec in self.policies:
            try:
                parse_policy(spec).check_for(scn.n, scn.min_train_rows, scn.name)
            except ValueError as err:
                raise OptionError(("policies",), "policies", str(err), joiner=": ") from None
            if spec in seen:
                raise OptionError(("policies",), "policies",
                                  f"must not repeat a policy (each would write the same result rows), "
                                  f"got {spec!r} twice")
            seen.add(spec)
        check_int(self.generations, ("generations",), "generations", 1, "generations after the initial fit")
        check_int(self.seeds, ("seeds",), "seeds", 1, "repetitions per policy")
        check_int(self.reference_size, ("reference_size",), "reference_size", 1,
                  "known-real samples for the filter detector")
        check_real(self.detector_fpr, ("detector_fpr",), "detector_fpr", 0.0, 1.0, low_open=True, high_open=True,
                   why="the filter detector's target false-positive rate")
        return self
