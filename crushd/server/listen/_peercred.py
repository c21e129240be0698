"""Refuse unix-socket connections from any other user (``SO_PEERCRED``).

The socket file is 0600 in a private folder, so another user normally cannot
even connect. This is the second lock: every accepted unix connection's peer
uid, as the kernel recorded it at ``connect()``, must equal the daemon's
effective uid, or the connection is closed before a byte is read.

The hook: hypercorn's trio worker serves each accepted stream with
``trio.serve_listeners(partial(TCPServer, ...))``, and ``TCPServer.__await__``
runs ``self.run()``. ``install_peer_check`` (called by ``crushd.daemon.run``)
wraps ``TCPServer.run`` so the check runs first. ASGI middleware cannot do
this: the scope carries no socket, and for unix sockets hypercorn puts
``None`` in ``client`` and ``server``.

TCP connections are not checked here (their guard is the bearer token,
``_auth``). Where the platform has no ``SO_PEERCRED`` (not Linux) the check
cannot tell the peer and lets it through: the file mode is then the only guard.

Source: docs/protocol.md C.6; hypercorn ``trio/run.py`` and ``trio/tcp_server.py``.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from typing import Protocol

import attrs
import trio
from hypercorn.trio.tcp_server import TCPServer

from .._ratelimit import RefusalLog
from ..patches import CHECKED_HYPERCORN_VERSIONS, patch_tcp_server

__all__ = [
    "CHECKED_HYPERCORN_VERSIONS",
    "PeerCredentials",
    "install_peer_check",
    "peer_allowed",
    "peer_credentials",
]

logger = logging.getLogger("crushd.server")

#: hypercorn versions whose ``TCPServer.run`` entry the patch was checked against.

# struct ucred: pid_t pid, uid_t uid, gid_t gid (three C ints on Linux).
_UCRED = struct.Struct("3i")

_original_run = TCPServer.run
_refusals = RefusalLog(logger)


class _Socket(Protocol):
    """What the check needs of a socket: stdlib and trio sockets both fit."""

    @property
    def family(self) -> int: ...

    def getsockopt(self, level: int, option: int, buflen: int) -> bytes: ...


@attrs.frozen
class PeerCredentials:
    """Who is at the other end of a unix socket, as of its ``connect()``.

    Attributes:
        pid: the peer's process id.
        uid: the peer's effective user id.
        gid: the peer's effective group id.
    """

    pid: int
    uid: int
    gid: int


def peer_credentials(sock: _Socket) -> PeerCredentials | None:
    """Return the kernel's record of a connected unix socket's peer.

    Args:
        sock: a connected ``AF_UNIX`` stream socket (stdlib or trio).

    Returns:
        The peer's pid, uid and gid; ``None`` when the platform has no
        ``SO_PEERCRED`` (only Linux has it).

    Raises:
        OSError: the socket is not a connected unix socket.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    return PeerCredentials(*_UCRED.unpack(raw))


def peer_allowed(sock: _Socket, *, uid: int | None = None) -> bool:
    """Decide whether a freshly accepted connection may be served.

    Non-unix sockets are always allowed (tcp has its token). A unix peer is
    allowed when its uid equals ``uid``, or when the platform cannot tell.
    A refusal is logged with the peer's pid and uid (at most once per second,
    ``RefusalLog``); a peer whose credentials cannot be read (it already
    vanished) is refused.

    Args:
        sock: the accepted socket.
        uid: the only uid allowed; ``None`` means this process's effective uid.

    Returns:
        ``True`` to serve the connection, ``False`` to close it unread.
    """
    if sock.family != socket.AF_UNIX:
        return True
    expected = os.geteuid() if uid is None else uid
    try:
        peer = peer_credentials(sock)
    except OSError as error:
        _refusals.refused(
            "unreadable peer",
            "refused a unix connection: cannot read its peer: %s",
            error,
        )
        return False
    if peer is None or peer.uid == expected:
        return True
    _refusals.refused(
        "other uid",
        "refused a unix connection from uid %d (pid %d): only uid %d may connect",
        peer.uid,
        peer.pid,
        expected,
    )
    return False


def install_peer_check() -> bool:
    """Make hypercorn check each connection's peer before serving it.

    Wraps ``TCPServer.run`` (idempotent, process-wide): a stream whose socket
    ``peer_allowed`` refuses is closed at once; any other stream is served by
    the original method. Streams without a ``socket`` attribute (TLS, which
    crushd does not use) are served unchecked. Only installed on hypercorn
    versions in ``CHECKED_HYPERCORN_VERSIONS``; on others a warning is logged
    and hypercorn is left alone (the 0600 socket file still keeps others out).

    Returns:
        ``True`` when the check is in place, ``False`` when skipped.

    Source: module docstring; docs/protocol.md C.6.
    """
    return patch_tcp_server(
        "run",
        _run_if_peer_allowed,
        what="peer-uid patch; unix connections are guarded by the socket file's"
        " mode only",
    )


async def _run_if_peer_allowed(self: TCPServer) -> None:
    """Close the connection unread if its peer is refused, else serve it.

    A served connection goes through the config's ``connection_gate`` (the
    TCP connection caps, ``_connections``) when the config has one.
    """
    sock = getattr(self.stream, "socket", None)
    if sock is not None and not peer_allowed(sock):
        await trio.aclose_forcefully(self.stream)
        return
    gate = getattr(self.config, "connection_gate", None)
    if gate is None or sock is None:
        await _original_run(self)
        return
    await gate.serve(self, sock, _original_run)
