"""Run as ``python -m {{module}}``."""

import sys

from .app import main

sys.exit(main())
