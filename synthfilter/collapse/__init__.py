"""Recursive-training harness: measure how fast models collapse under each data policy."""

from .._face import lazy_face


__all__ = ["Policy", "RunConfig", "SCENARIOS", "load_results", "make_scenario", "parse_policy", "run", "run_cell"]

__getattr__, __dir__ = lazy_face(__name__, {
    ".policies": ["Policy", "parse_policy"],
    ".runner": ["RunConfig", "load_results", "run", "run_cell"],
    ".scenarios": ["SCENARIOS", "make_scenario"],
})
