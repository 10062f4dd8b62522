"""Deprecated: moved to :mod:`synthfilter.diversity.encoders`; this alias will be removed in a later release."""

import warnings

from .diversity.encoders import *  # noqa: F401,F403
from .diversity.encoders import __all__  # noqa: F401

warnings.warn("synthfilter.embed moved to synthfilter.diversity.encoders; import from there (or from synthfilter)",
              DeprecationWarning, stacklevel=2)
