"""Who may talk to the daemon over TCP: bearer token, Host and Origin checks.

The token itself lives in a file (``_token``).

A unix-socket request passes untouched: the socket file's 0600 mode and the
peer-uid check (``_peercred``) are its guard, and no browser can reach a unix
socket, so its ``Host`` is not checked (crushctl sends ``api.crush.localhost``,
``curl --unix-socket`` sends the URL's host). A TCP request must:

1. carry no ``Origin`` header (browsers add one to cross-site requests and
   WebSockets; crushd's clients never send it),
2. name the daemon in ``Host``: ``localhost``, ``127.0.0.1``, ``[::1]``, the
   address the connection arrived on, or a name the daemon was told to bind,
   with the connection's port (this defeats DNS rebinding), or a name given
   with ``--allow-host`` (``NAME`` with any port, ``NAME:PORT`` exactly) for
   clients that reach the daemon through a port forward or a proxy,
3. carry ``Authorization: Bearer <token>`` matching the token file.

1 and 2 fail with 403 ``forbidden``, 3 with 401 ``unauthorized``; WebSocket
handshakes get the same answers before they are accepted. A refusal closes
the connection (``Connection: close``), so a client without the token cannot
keep one open by asking again, and is logged at most once per second per
reason (``RefusalLog``), with the count of the others.

A TCP request that passes calls the scope's ``AUTHENTICATED_HOOK`` (when the
server put one there): the connection limits then stop counting its
connection as unauthenticated (``_connections``).

Which listener a request came on: hypercorn fills ``scope["server"]`` with
``(host, port)`` for AF_INET/AF_INET6 sockets and ``None`` for unix sockets
(``hypercorn.utils.parse_socket_addr``); other servers use ``(path, None)``.
So a request is a unix request exactly when ``scope["server"]`` is missing,
``None`` or has no port.

Source: docs/protocol.md C.6.
"""

from __future__ import annotations

import copy
import hmac
import logging
from collections.abc import Callable, Iterable
from typing import Any

from crushd.errors import ClientError, Forbidden, Unauthorized

from .._ratelimit import RefusalLog
from ..http import header_values, send_error

__all__ = [
    "AUTHENTICATED_HOOK",
    "LOOPBACK_NAMES",
    "AccessControl",
    "parse_allowed_host",
]

log = logging.getLogger("crushd.server")

#: Host names every TCP listener answers to (with its port).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

#: Scope key of a no-argument callback run once a TCP request is let through.
AUTHENTICATED_HOOK = "crushd.on_authenticated"

ASGIApp = Callable[[Any, Any, Any], Any]


class AccessControl:
    """ASGI middleware: let only the owner's clients reach the app (C.6).

    See the module docstring for the rules. Lifespan and other scopes pass
    through; refused requests never reach ``app``, close their connection
    and are logged (rate-limited per reason).

    Args:
        app: the ASGI app to guard.
        token: the bearer token TCP requests must carry; ``None`` refuses
            every TCP request (no TCP listener was expected).
        host_names: extra names accepted in a TCP ``Host`` (the names of the
            ``tcp://`` hosts the daemon bound); compared case-insensitively.
        allowed_hosts: ``--allow-host`` values: ``NAME`` accepts that name
            with any port, ``NAME:PORT`` (``[::1]:PORT`` for IPv6) only that
            pair; compared case-insensitively.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        host_names: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._names = LOOPBACK_NAMES | {name.lower() for name in host_names}
        self._extra = _parse_allowed_hosts(allowed_hosts)
        self._refusals = RefusalLog(log)

    def wrap(self, app: ASGIApp) -> AccessControl:
        """The same guard (same settings, same refusal log) in front of ``app``."""
        guard = copy.copy(self)
        guard.app = app
        return guard

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        refusal = self._refusal(scope)
        if refusal is None:
            if (hook := scope.get(AUTHENTICATED_HOOK)) and _tcp_server(scope):
                hook()
            await self.app(scope, receive, send)
            return
        self._refusals.refused(
            refusal.message,
            "refused %s %s from %s: %s",
            scope["type"],
            scope.get("path", ""),
            scope.get("client"),
            refusal.message,
        )
        await _deny(scope, send, refusal)

    def _refusal(self, scope: Any) -> ClientError | None:
        """Return why a request is refused, or ``None`` to serve it."""
        server = _tcp_server(scope)
        if server is None:
            return None  # lifespan, or a unix socket (file mode and peer uid guard it)
        headers = scope.get("headers", [])
        if header_values(headers, b"origin"):
            return Forbidden()
        if not self._host_allowed(header_values(headers, b"host"), server):
            return Forbidden()
        if not self._token_matches(header_values(headers, b"authorization")):
            return Unauthorized()
        return None

    def _host_allowed(self, hosts: list[bytes], server: tuple[str, int]) -> bool:
        if len(hosts) != 1:
            return False
        name, port = _split_host(hosts[0].decode("latin-1").lower())
        if (name, None) in self._extra or (name, port) in self._extra:
            return port is not None
        return port == server[1] and name in self._names | {server[0].lower()}

    def _token_matches(self, values: list[bytes]) -> bool:
        if self._token is None or len(values) != 1:
            return False
        scheme, _, credentials = values[0].strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        return hmac.compare_digest(credentials.strip(), self._token)


def _tcp_server(scope: Any) -> tuple[str, int] | None:
    """Return ``(host, port)`` of an HTTP/WebSocket request that came over TCP."""
    server = scope.get("server")
    if scope["type"] not in ("http", "websocket") or not server or server[1] is None:
        return None
    return str(server[0]), int(server[1])


def parse_allowed_host(value: str) -> tuple[str, int | None]:
    """Parse an ``--allow-host`` value into ``(name, port)``; port None = any.

    Accepts ``NAME``, ``NAME:PORT``, ``[V6]`` and ``[V6]:PORT``; the name is
    lower-cased.

    Raises:
        ValueError: empty name, or a port that is not a number in 1-65535.
    """
    text = value.strip().lower()
    if text.startswith("["):
        name, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest else None
    elif text.count(":") == 1:
        name, _, port = text.partition(":")
    else:
        name, port = text, None
    if not name or (port is not None and not _valid_port(port)):
        raise ValueError(f"not a host name or name:port: {value!r}")
    return name, None if port is None else int(port)


def _valid_port(text: str) -> bool:
    return text.isdigit() and 0 < int(text) < 65536


def _parse_allowed_hosts(values: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    return frozenset(parse_allowed_host(value) for value in values)


def _split_host(host: str) -> tuple[str, int | None]:
    """Split a ``Host`` value into name and port: 80 when absent, None if bad."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
    else:
        name, sep, port = host.partition(":")
        rest = sep + port
    if not rest:
        return name, 80
    digits = rest.removeprefix(":")
    return name, int(digits) if rest.startswith(":") and digits.isdigit() else None


async def _deny(scope: Any, send: Any, error: ClientError) -> None:
    """Answer ``error`` as JSON (``send_error``), for HTTP or a WebSocket handshake."""
    headers = [(b"connection", b"close")]
    if isinstance(error, Unauthorized):
        headers.append((b"www-authenticate", b"Bearer"))
    prefix = "http"
    if scope["type"] == "websocket":
        # Answered during the handshake, before any accept (hypercorn does not
        # require reading websocket.connect first).
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        prefix = "websocket.http"
    await send_error(send, error, extra_headers=headers, prefix=prefix)
