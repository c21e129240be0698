"""Version-guarded replacement of hypercorn ``TCPServer`` methods.

The send-timeout fix and the peer-uid check both replace a method of
hypercorn's trio ``TCPServer``. Each replacement was checked against one
hypercorn release line only; on any other version hypercorn is left alone and
a warning says what protection is missing.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable
from typing import Any

from hypercorn.trio.tcp_server import TCPServer

logger = logging.getLogger("crushd.http")

#: hypercorn versions (prefixes) whose TCPServer the patches were checked against.
CHECKED_HYPERCORN_VERSIONS = ("0.18.",)


def patch_tcp_server(name: str, replacement: Callable[..., Any], *, what: str) -> bool:
    """Set ``TCPServer.<name>`` to ``replacement``, once, on checked versions only.

    Args:
        name: the method to replace, e.g. ``"protocol_send"``.
        replacement: the new method (takes ``self`` first).
        what: the patch's name for the warning, e.g. ``"peer-uid patch; ..."``.

    Returns:
        ``True`` when the replacement is in place (now or already), ``False``
        when the installed hypercorn is not a checked version (warning logged).
    """
    if getattr(TCPServer, name) is replacement:
        return True
    version = importlib.metadata.version("hypercorn")
    if not version.startswith(CHECKED_HYPERCORN_VERSIONS):
        logger.warning("hypercorn %s is not checked for the %s", version, what)
        return False
    setattr(TCPServer, name, replacement)
    return True
