"""``python -m crushctl``: the same as the ``crushctl`` command."""

import sys

from crushctl.cli import main

sys.exit(main())
