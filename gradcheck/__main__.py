"""``python -m gradcheck``: see :mod:`gradcheck.cli`."""

import sys

from .cli import main

sys.exit(main())
