"""``python -m interpreter`` is the ``perfchart`` command."""

import sys

from .cli import main

sys.exit(main())
