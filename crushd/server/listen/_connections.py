"""Caps on a TCP listener's connections, and on those not yet authenticated.

Without them, 2,000 connections without the token (each answered 401, kept
alive) made the daemon unusable at ``ulimit -n 256``. Per listening port:

- at most ``max_unauthenticated`` connections have not yet sent a request
  that passed the token check (``_auth``; a refused request also closes its
  connection). A new connection over this cap closes the *oldest*
  unauthenticated one instead of being refused: a flood of token-less
  connections then cannot lock a real client out, who shows the token in
  its first request, milliseconds after connecting;
- at most ``max_connections`` connections are open at once. When full, the
  oldest unauthenticated connection is closed to make room; only when every
  connection has shown the token is the new one refused: a ``503`` with a
  JSON message, written without waiting, then closed.

Closings and refusals are logged at most once per second per reason
(``RefusalLog``). Unix sockets are not capped: only our uid reaches them.

The hook: ``_peercred`` wraps hypercorn's ``TCPServer.run``, and calls
``ConnectionGate.serve`` for every connection it lets through; ``middleware``
puts the scope's ``AUTHENTICATED_HOOK`` in place for ``AccessControl``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import attrs
import trio

from .._ratelimit import RefusalLog
from ..patches import write_nowait
from ._auth import AUTHENTICATED_HOOK

__all__ = ["ConnectionGate", "ConnectionLimits"]

logger = logging.getLogger("crushd.server")

_INET = (socket.AF_INET, socket.AF_INET6)
_TOO_MANY = "too many connections"
_EVICTED = "closed the oldest unauthenticated connection to admit a new one"

# (listening port, client host, client port): as hypercorn's scope names them.
_Key = tuple[int, str, int]


@attrs.frozen
class ConnectionLimits:
    """The caps of each TCP listener (both >= 1; defaults in ``crushd.settings``).

    Attributes:
        max_connections: open connections at once.
        max_unauthenticated: open connections that have not yet passed the
            token check; at most ``max_connections`` in effect.
    """

    max_connections: int
    max_unauthenticated: int


@attrs.define(eq=False)
class _Connection:
    key: _Key
    close: Callable[[], None]
    counted: bool = True


@attrs.define
class _Port:
    open: int = 0
    # Not yet authenticated, oldest first (dicts keep insertion order).
    pending: dict[_Key, _Connection] = attrs.Factory(dict)


class ConnectionGate:
    """Counts each TCP listener's connections and keeps them within the caps.

    Args:
        limits: the caps.
    """

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._ports: dict[int, _Port] = {}
        self._refusals = RefusalLog(logger)

    async def serve(
        self, server: Any, sock: Any, run: Callable[[Any], Awaitable[None]]
    ) -> None:
        """Run ``run(server)`` for an admitted connection; refuse it otherwise.

        Args:
            server: hypercorn's ``TCPServer`` for the connection.
            sock: its trio socket (unix sockets are run uncounted); closing
                it is how an unauthenticated connection is dropped.
            run: hypercorn's original ``TCPServer.run``.
        """
        key = _key_of(sock)
        if key is None:
            await run(server)
            return
        connection = _Connection(key, sock.close)
        if not self._admit(connection):
            await self._refuse(server.stream, key)
            return
        try:
            await run(server)
        finally:
            self._forget(connection)

    def authenticated(self, key: _Key) -> None:
        """Stop counting connection ``key`` as unauthenticated (idempotent)."""
        port = self._ports.get(key[0])
        if port is not None:
            port.pending.pop(key, None)

    def counts(self, listening_port: int) -> tuple[int, int]:
        """Return ``(open, unauthenticated)`` connections of a listener."""
        port = self._ports.get(listening_port, _Port())
        return port.open, len(port.pending)

    def middleware(self, app: Any) -> Callable[[Any, Any, Any], Awaitable[None]]:
        """Wrap ``app``: TCP scopes get the ``AUTHENTICATED_HOOK`` callback."""

        async def gated(scope: Any, receive: Any, send: Any) -> None:
            key = _scope_key(scope)
            if key is not None:
                scope[AUTHENTICATED_HOOK] = partial(self.authenticated, key)
            await app(scope, receive, send)

        return gated

    def _admit(self, connection: _Connection) -> bool:
        """Count ``connection`` in, dropping the oldest pending one if needed."""
        port = self._ports.setdefault(connection.key[0], _Port())
        if len(port.pending) >= self.limits.max_unauthenticated:
            self._evict(port)
        if port.open >= self.limits.max_connections:
            if not port.pending:
                return False
            self._evict(port)
        port.open += 1
        port.pending[connection.key] = connection
        return True

    def _evict(self, port: _Port) -> None:
        oldest = next(iter(port.pending.values()))
        self._refusals.refused(
            "evicted", "%s (from %s, port %d)", _EVICTED, oldest.key[1:], oldest.key[0]
        )
        oldest.close()  # hypercorn's pending read fails: the connection ends
        self._forget(oldest)

    def _forget(self, connection: _Connection) -> None:
        if not connection.counted:
            return
        connection.counted = False
        port = self._ports[connection.key[0]]
        port.open -= 1
        port.pending.pop(connection.key, None)
        if not port.open:
            del self._ports[connection.key[0]]

    async def _refuse(self, stream: Any, key: _Key) -> None:
        self._refusals.refused(
            _TOO_MANY,
            "refused a connection to port %d from %s: %s",
            key[0],
            key[1:],
            _TOO_MANY,
        )
        body = f'{{"message":"{_TOO_MANY}; try again later"}}\n'.encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            write_nowait(stream, head.encode() + body)
        await trio.aclose_forcefully(stream)


def _key_of(sock: Any) -> _Key | None:
    """The connection's key for a TCP socket, ``None`` for anything else."""
    if sock.family not in _INET:
        return None
    try:
        peer, local = sock.getpeername(), sock.getsockname()
    except OSError:
        return None
    return int(local[1]), str(peer[0]), int(peer[1])


def _scope_key(scope: Any) -> _Key | None:
    """The connection's key from an HTTP/WebSocket scope over TCP."""
    server, client = scope.get("server"), scope.get("client")
    if scope.get("type") not in ("http", "websocket") or not server or not client:
        return None
    if server[1] is None or client[1] is None:
        return None
    return int(server[1]), str(client[0]), int(client[1])
