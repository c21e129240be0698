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
``ChunkWriter`` is the one user of these internals: it writes a frame as one
chunk with one non-blocking ``write(2)``, or declines.

Source: hypercorn 0.18 ``protocol/http_stream.py``, ``protocol/h11.py``,
``trio/tcp_server.py``; h11 0.16 ``_connection.py``, ``_writers.py``.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

import h11
import trio
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import TCPServer

from ._hypercorn_fixes import (
    has_pending,
    keep_pending,
    send_timeout_installed,
    write_nowait,
)
from ._patching import CHECKED_HYPERCORN_VERSIONS

__all__ = ["CHECKED_H11_VERSIONS", "ChunkWriter", "chunk_writer"]

#: h11 versions (prefixes) whose connection internals were checked.
CHECKED_H11_VERSIONS = ("0.16.",)


@functools.cache
def _versions_checked() -> bool:
    """Whether the installed hypercorn and h11 are the checked lines (cached)."""
    hypercorn = importlib.metadata.version("hypercorn")
    h11_version = importlib.metadata.version("h11")
    checked = hypercorn.startswith(CHECKED_HYPERCORN_VERSIONS)
    return checked and h11_version.startswith(CHECKED_H11_VERSIONS)


class ChunkWriter:
    """Write SSE frames as HTTP/1.1 chunks straight to one hypercorn connection.

    Build it with ``chunk_writer``; ``write`` never blocks and never awaits.

    Args:
        server: hypercorn's ``TCPServer`` of the connection.
        connection: its ``h11.Connection`` (server side).
    """

    def __init__(self, server: TCPServer, connection: h11.Connection) -> None:
        self._server = server
        self._connection = connection

    @property
    def pending(self) -> bool:
        """Whether a partial write left bytes that still have to go out."""
        return has_pending(self._server)

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` as one chunk now; False if it must go the normal way.

        True means the whole chunk is committed: written, or partly written
        with the rest kept for the connection's next send (see ``pending``).
        The chunk is framed exactly as h11 frames it (``ChunkedWriter``).
        """
        if self._server.send_lock.locked() or self.pending:
            return False
        connection = self._connection
        if connection.our_state is not h11.SEND_BODY or not _is_chunked(connection):
            return False
        data = _framed(frame)
        try:
            sent = write_nowait(self._server.stream, data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        if 0 < sent < len(data):
            keep_pending(self._server, data[sent:])
        return sent > 0


#: The last frame framed as a chunk and its chunk: the streams of one
#: fan-out mostly get the same batch (the same bytes object), framed once.
_LAST_FRAMED: list[bytes] = [b"", b""]


def _framed(frame: bytes) -> bytes:
    """``frame`` as one HTTP/1.1 chunk (h11's ``ChunkedWriter`` framing)."""
    last = _LAST_FRAMED
    if last[0] is frame:  # held here, so never freed and reused meanwhile
        return last[1]
    chunk = b"%x\r\n%s\r\n" % (len(frame), frame)
    last[0], last[1] = frame, chunk
    return chunk


def _is_chunked(connection: h11.Connection) -> bool:
    return type(getattr(connection, "_writer", None)).__name__ == "ChunkedWriter"


def chunk_writer(raw_send: Any) -> ChunkWriter | None:
    """Return a direct chunk writer for the connection behind hypercorn's ``send``.

    ``None`` when ``raw_send`` is not hypercorn's HTTP/1.1 ``app_send`` on a
    checked hypercorn and h11, when the connection was upgraded to a
    WebSocket, or when the send-timeout patch (which flushes partial writes)
    is not installed.
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
    return ChunkWriter(server, connection)
