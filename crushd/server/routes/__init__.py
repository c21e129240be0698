"""The ``/v1`` API: the route table ``ROUTES`` and its handlers, one module per area."""

from ._config import COMMIT_SECONDS
from ._system import SHUTDOWN_COMMANDS
from ._table import ROUTES, UNSUPPORTED_ROUTES

__all__ = [
    "COMMIT_SECONDS",
    "ROUTES",
    "SHUTDOWN_COMMANDS",
    "UNSUPPORTED_ROUTES",
]
