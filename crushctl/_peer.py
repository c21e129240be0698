"""Check who answers on a unix socket before crushctl sends it a single byte.

A daemon's socket file is 0600 in a private folder, and the daemon checks
each client's uid. The client checks back: otherwise another user who got to
the socket path first (a squatted ``/tmp`` name) would receive every request,
API keys from ``crushctl config set`` included. Each unix connection is
checked right after ``connect()`` and before httpx writes the request:

1. the socket's folder, when it exists, is not owned by another uid (root's
   is fine) nor a symlink another uid placed;
2. the server's effective uid, as the kernel recorded it at ``listen()``
   (``SO_PEERCRED``), is ours.

Where the platform has no ``SO_PEERCRED`` (not Linux) step 2 cannot tell and
lets the connection through; the folder check still runs.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import httpcore
import httpx

from crushd.proto import Host

from ._exceptions import UntrustedServerError

__all__ = ["PeerCheckingBackend", "check_server_uid", "unix_transport"]

# struct ucred: pid_t pid, uid_t uid, gid_t gid (three C ints on Linux).
_UCRED = struct.Struct("3i")
# httpx's own pool defaults (httpx.Limits' defaults for AsyncClient).
_MAX_CONNECTIONS = 100
_MAX_KEEPALIVE = 20
_KEEPALIVE_SECONDS = 5.0


class _Socket(Protocol):
    def getsockopt(self, level: int, option: int, buflen: int) -> bytes: ...


def check_server_uid(host: Host, sock: _Socket, uid: int | None = None) -> None:
    """Refuse a connected unix socket whose server runs as another uid.

    Args:
        host: the host connected to, named in the error.
        sock: the connected ``AF_UNIX`` socket (stdlib or trio).
        uid: the uid the server must run as; ``None`` means our effective uid.

    Raises:
        UntrustedServerError: the server's uid is not ``uid``.
        OSError: the socket is not a connected unix socket.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return
    raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    server_uid = _UCRED.unpack(raw)[1]
    if server_uid != (os.geteuid() if uid is None else uid):
        raise UntrustedServerError(host.url, "the server process", server_uid)


def check_socket_folder(host: Host, folder: Path) -> None:
    """Refuse a socket folder (or a symlink to one) another uid controls.

    A missing folder passes: the connect then fails as "not running". Root's
    folders pass (``/run``). Blocking: one ``lstat`` and one ``stat``.

    Raises:
        UntrustedServerError: the folder or the symlink naming it belongs to
            another uid.
    """
    allowed = {os.geteuid(), 0}
    for follow in (False, True):
        try:
            found = os.stat(folder, follow_symlinks=follow)
        except OSError:
            return
        if found.st_uid not in allowed:
            kind = "the symlink" if stat.S_ISLNK(found.st_mode) else "the folder"
            raise UntrustedServerError(host.url, f"{kind} {folder}", found.st_uid)


def check_socket_file(host: Host, path: Path) -> None:
    """Refuse a socket file that belongs to another uid (never use or remove it).

    A missing file passes. Blocking: one ``lstat``.

    Raises:
        UntrustedServerError: the file at ``path`` belongs to another uid.
    """
    try:
        found = os.lstat(path)
    except OSError:
        return
    if found.st_uid != os.geteuid():
        raise UntrustedServerError(host.url, f"the socket file {path}", found.st_uid)


class PeerCheckingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's trio backend, checking every unix connection's server first.

    Args:
        host: the unix host, named in errors.
        uid: the uid the server must run as; ``None`` means ours (tests pass
            another to see a refusal without a second user).
    """

    def __init__(self, host: Host, *, uid: int | None = None) -> None:
        self._host = host
        self._uid = uid
        self._inner = httpcore.TrioBackend()

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect, then check the folder's and the server's uid (see module doc).

        Raises:
            UntrustedServerError: another uid holds the socket; the connection
                is closed unused.
            httpcore.ConnectError: nothing listens (as the trio backend).
        """
        check_socket_folder(self._host, Path(path).parent)
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        try:
            check_server_uid(self._host, stream.get_extra_info("socket"), self._uid)
        except BaseException:
            await stream.aclose()
            raise
        return stream

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect over TCP unchecked (tcp servers are reached by token)."""
        return await self._inner.connect_tcp(
            host, port, timeout, local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        """Sleep as the trio backend does."""
        await self._inner.sleep(seconds)


def unix_transport(host: Host, *, uid: int | None = None) -> httpx.AsyncHTTPTransport:
    """Return an httpx transport on ``host``'s unix socket that checks the server.

    No TLS on a unix socket, so no CA bundle is loaded (60-300 ms of CPU).

    Args:
        host: a ``unix://`` host.
        uid: see ``PeerCheckingBackend``.
    """
    transport = httpx.AsyncHTTPTransport(uds=host.address, verify=False)
    # httpx has no hook for the network backend; its pool is rebuilt with ours.
    transport._pool = httpcore.AsyncConnectionPool(
        uds=host.address,
        network_backend=PeerCheckingBackend(host, uid=uid),
        max_connections=_MAX_CONNECTIONS,
        max_keepalive_connections=_MAX_KEEPALIVE,
        keepalive_expiry=_KEEPALIVE_SECONDS,
    )
    return transport
