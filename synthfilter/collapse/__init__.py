"""Recursive-training harness: measure how fast models collapse under each data policy."""

from .policies import Policy, parse_policy
from .runner import RunConfig, load_results, run, run_cell
from .scenarios import SCENARIOS, make_scenario

__all__ = ["Policy", "RunConfig", "SCENARIOS", "load_results", "make_scenario", "parse_policy", "run", "run_cell"]
