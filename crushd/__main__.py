"""``python -m crushd`` runs the ``crushd`` command line."""

import gc

gc.disable()  # importing the cli only allocates (see cli.collector_paused)
from crushd.cli import main  # noqa: E402

gc.enable()
main()
