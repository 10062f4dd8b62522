"""``synthfilter clean``: tag, quota, embed, dedup and tail-resample in one resumable run.

* :mod:`~synthfilter.pipeline.config`: :class:`CleanConfig`.
* :mod:`~synthfilter.pipeline.steps`: the steps (:class:`~synthfilter.pipeline.steps.Step`).
* :mod:`~synthfilter.pipeline.run`: :func:`clean`, which runs and resumes them on an engine.
"""

from .config import CleanConfig
from .run import clean
from .steps import STEPS, Step, step_folder

__all__ = ["CleanConfig", "clean", "STEPS", "Step", "step_folder"]
