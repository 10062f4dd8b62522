"""Deprecated: moved to :mod:`synthfilter.diversity.metrics`; this alias will be removed in a later release."""

import warnings

from .diversity.metrics import *  # noqa: F401,F403
from .diversity.metrics import __all__  # noqa: F401

warnings.warn("synthfilter.metrics moved to synthfilter.diversity.metrics; import from there (or from synthfilter)",
              DeprecationWarning, stacklevel=2)
