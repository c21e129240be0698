"""The hypercorn and h11 internals the direct SSE fan-out reaches, named once.

The direct writer (``crushd.server.streams._direct``) writes a parked
stream's events as an HTTP/1.1 chunk straight to its socket. For that it
needs, behind the ``send`` hypercorn gives the app: the ``HTTPStream``
(``send.__self__``), its ``H11Protocol`` (``stream.send.__self__``), that
protocol's ``h11.Connection`` and ``TCPServer`` (``protocol.send.__self__``),
the server's ``send_lock`` and socket ``stream``, and h11's private writer
(``connection._writer``, a ``ChunkedWriter`` while a chunked body is sent).
None of that is public API, so every such access is here, and only on the
versions it was checked against: ``raw_connection`` answers ``None`` (the
stream then writes through the normal path) on any other hypercorn or h11,
or when the send-timeout patch, which flushes partial writes, is not in.

Source: hypercorn 0.18 ``protocol/http_stream.py``, ``protocol/h11.py``,
``trio/tcp_server.py``; h11 0.16 ``_connection.py``, ``_writers.py``.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

import attrs
import h11
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import TCPServer

from ._hypercorn_fixes import (
    has_pending,
    keep_pending,
    send_timeout_installed,
    write_nowait,
)
from ._patching import CHECKED_HYPERCORN_VERSIONS

__all__ = ["CHECKED_H11_VERSIONS", "RawConnection", "raw_connection"]

#: h11 versions (prefixes) whose connection internals were checked.
CHECKED_H11_VERSIONS = ("0.16.",)


@functools.cache
def _versions_checked() -> bool:
    """Whether the installed hypercorn and h11 are the checked lines (cached)."""
    hypercorn = importlib.metadata.version("hypercorn")
    h11_version = importlib.metadata.version("h11")
    checked = hypercorn.startswith(CHECKED_HYPERCORN_VERSIONS)
    return checked and h11_version.startswith(CHECKED_H11_VERSIONS)


@attrs.frozen(eq=False)
class RawConnection:
    """One HTTP/1.1 connection as hypercorn holds it: server and h11 state.

    Build it with ``raw_connection``; nothing here blocks or awaits.
    """

    server: TCPServer
    connection: h11.Connection

    @property
    def pending(self) -> bool:
        """Whether a partial write left bytes that still have to go out."""
        return has_pending(self.server)

    def busy(self) -> bool:
        """Whether a send is in progress or still owes the peer bytes."""
        return self.server.send_lock.locked() or self.pending

    def sending_chunked_body(self) -> bool:
        """Whether the response is in its body, framed as chunks by h11."""
        connection = self.connection
        writer = getattr(connection, "_writer", None)
        chunked = type(writer).__name__ == "ChunkedWriter"
        return connection.our_state is h11.SEND_BODY and chunked

    def write_nowait(self, data: bytes) -> int:
        """Write what the socket takes now (``patches.write_nowait``).

        Raises:
            trio.BrokenResourceError, trio.ClosedResourceError: the socket
                is gone.
        """
        return write_nowait(self.server.stream, data)

    def keep_pending(self, data: bytes) -> None:
        """Keep the unsent rest; the connection's next send sends it first."""
        keep_pending(self.server, data)


def raw_connection(raw_send: Any) -> RawConnection | None:
    """Return the connection behind hypercorn's ``send``, or ``None``.

    ``None`` when ``raw_send`` is not hypercorn's HTTP/1.1 ``app_send`` on a
    checked hypercorn and h11, when the connection was upgraded to a
    WebSocket, or when the send-timeout patch is not installed.
    """
    stream = getattr(raw_send, "__self__", None)
    protocol = getattr(getattr(stream, "send", None), "__self__", None)
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    if not isinstance(protocol, H11Protocol) or not isinstance(server, TCPServer):
        return None
    connection = protocol.connection
    if not isinstance(connection, h11.Connection):
        return None  # upgraded to a WebSocket
    if not (_versions_checked() and send_timeout_installed()):
        return None
    return RawConnection(server, connection)
