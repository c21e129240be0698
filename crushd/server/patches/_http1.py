"""HTTP/1.1 only: hypercorn never switches a connection to HTTP/2.

hypercorn upgrades a plain connection to HTTP/2 on an ``Upgrade: h2c``
request or the HTTP/2 preface (``PRI * HTTP/2.0``), and no setting turns
that off. Over HTTP/2 a stream's flow-control window is hypercorn's own
buffer: a peer that grants no window is never written to, so the send
timeout (``_hypercorn_fixes``) never fires, and events piled up in memory
(45 MB per 50k events, found by a probe). crushd's clients speak HTTP/1.1,
so HTTP/2 is refused instead of bounded a second way:

- an ``Upgrade: h2c`` request is served as plain HTTP/1.1 (a server may
  ignore an upgrade, RFC 9110 7.8);
- a prior-knowledge HTTP/2 connection gets a ``GOAWAY`` with
  ``HTTP_1_1_REQUIRED`` and is closed.

Source: hypercorn ``protocol/__init__.py`` (``ProtocolWrapper``) and
``protocol/h11.py`` (``_check_protocol``), 0.18.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

import hypercorn.protocol
from hypercorn.events import Closed, Event, RawData
from hypercorn.protocol.h11 import H11Protocol

from .._ratelimit import RefusalLog
from ._patching import CHECKED_HYPERCORN_VERSIONS

__all__ = ["HTTP2_REFUSAL", "install_http1_only"]

logger = logging.getLogger("crushd.http")

# An empty SETTINGS frame (the server preface), then GOAWAY(last stream 0,
# HTTP_1_1_REQUIRED = 0xd): "frame header" = 3-byte length, type, flags,
# 4-byte stream id (RFC 9113 4.1, 6.5, 6.8, 7).
_SETTINGS = bytes.fromhex("000000040000000000")
_GOAWAY = bytes.fromhex("000008070000000000000000000000000d")
#: What a prior-knowledge HTTP/2 client receives before the connection closes.
HTTP2_REFUSAL = _SETTINGS + _GOAWAY

_original_check = H11Protocol._check_protocol
_refusals = RefusalLog(logger)


class _RefuseHTTP2:
    """Stands in for hypercorn's ``H2Protocol``: says GOAWAY, then closes."""

    def __init__(self, *args: Any) -> None:
        self.send = args[-1]  # ProtocolWrapper passes (app, ..., server, send)

    async def initiate(self, *args: Any) -> None:
        _refusals.refused(
            "http2", "refused an HTTP/2 connection (HTTP/1.1 only)", level=logging.INFO
        )
        await self.send(RawData(data=HTTP2_REFUSAL))
        await self.send(Closed())

    async def handle(self, event: Event) -> None:
        """Ignore whatever else arrives: the connection is closing."""


async def _check_protocol_http1(self: H11Protocol, event: Any) -> None:
    """Let only the HTTP/2 preface through to hypercorn's check (it refuses)."""
    if event.method == b"PRI" and event.target == b"*":
        await _original_check(self, event)


def install_http1_only() -> bool:
    """Make hypercorn refuse HTTP/2 (idempotent, process-wide).

    Returns:
        ``True`` when in place; ``False`` on a hypercorn version the patch
        was not checked against (a warning is logged, HTTP/2 stays on).
    """
    if getattr(hypercorn.protocol, "H2Protocol", None) is _RefuseHTTP2:
        return True
    version = importlib.metadata.version("hypercorn")
    if not version.startswith(CHECKED_HYPERCORN_VERSIONS):
        logger.warning(
            "hypercorn %s is not checked for the HTTP/1.1-only patch", version
        )
        return False
    setattr(hypercorn.protocol, "H2Protocol", _RefuseHTTP2)  # noqa: B010
    H11Protocol._check_protocol = _check_protocol_http1  # type: ignore[method-assign]
    return True
