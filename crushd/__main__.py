"""``python -m crushd`` runs the ``crushd`` command line."""

from crushd.cli import main

main()
