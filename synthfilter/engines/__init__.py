"""Where a pipeline's steps run: one small interface, one module per engine.

:class:`~synthfilter.engines.base.Engine` is all a step may use: ``load``/``read``/``write``
data, ``map_batches`` (a transform on Arrow batches, the same rows out in the same order),
``reduce`` (per-batch summaries with global row positions, collected on the driver),
``filter`` (a per-batch keep mask) and ``to_local`` (a ``datasets.Dataset`` for the steps
that run on the driver). :class:`~synthfilter.engines.local.LocalEngine` runs on
``datasets`` with ``num_proc`` workers, :class:`~synthfilter.engines.ray.RayEngine` on Ray
Data; for the same input both give the same rows in the same order.
"""

from .base import Engine
from .local import LocalEngine

__all__ = ["Engine", "LocalEngine", "make_engine"]


def make_engine(name: str, workers: int = 2, batch_size: int = 1000, verbose: bool = False) -> Engine:
    """``"local"`` or ``"ray"`` with ``workers`` processes or actors and ``batch_size`` rows per batch
    (``verbose``: Ray's own logs and progress output)."""
    if name == "local":
        return LocalEngine(workers=workers, batch_size=batch_size)
    if name == "ray":
        from .ray import RayEngine

        return RayEngine(workers=workers, batch_size=batch_size, verbose=verbose)
    raise ValueError(f"engine must be 'local' or 'ray', got {name!r}")
