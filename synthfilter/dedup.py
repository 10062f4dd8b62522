"""Deprecated: moved to :mod:`synthfilter.diversity.dedup`; this alias will be removed in a later release."""

import warnings

from .diversity.dedup import *  # noqa: F401,F403
from .diversity.dedup import __all__  # noqa: F401

warnings.warn("synthfilter.dedup moved to synthfilter.diversity.dedup; import from there (or from synthfilter)",
              DeprecationWarning, stacklevel=2)
