"""``python -m synthfilter``: the same command line as ``synthfilter``."""

import sys

from .cli import main

sys.exit(main())
