"""``synthfilter clean``: tag, quota, embed, dedup and tail-resample in one resumable run.

* :mod:`~synthfilter.pipeline.config`: :class:`CleanConfig`.
* :mod:`~synthfilter.pipeline.steps`: the steps (:class:`~synthfilter.pipeline.steps.Step`).
* :mod:`~synthfilter.pipeline.run`: :func:`clean`, which runs and resumes them on an engine.
"""

from .._face import lazy_face


__all__ = ["CleanConfig", "clean", "STEPS", "Step", "step_folder"]

__getattr__, __dir__ = lazy_face(__name__, {
    ".config": ["CleanConfig"],
    ".run": ["clean"],
    ".steps": ["STEPS", "Step", "step_folder"],
})
