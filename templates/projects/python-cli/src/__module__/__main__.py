"""Run as ``python -m {{module}}``."""

import sys

from .cli import main

sys.exit(main())
