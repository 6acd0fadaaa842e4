"""``python -m benchmarks``: see :mod:`benchmarks`."""

import sys

from benchmarks import main

sys.exit(main())
