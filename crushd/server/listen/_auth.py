"""Who may talk to the daemon over TCP: bearer token, Host and Origin checks.

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

import contextlib
import copy
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from crushd.errors import ClientError, Forbidden, Unauthorized

from .._ratelimit import RefusalLog
from ..http import header_values, send_error

__all__ = [
    "AUTHENTICATED_HOOK",
    "LOOPBACK_NAMES",
    "AccessControl",
    "TokenFileError",
    "load_token",
    "parse_allowed_host",
]

log = logging.getLogger("crushd.server")

#: Host names every TCP listener answers to (with its port).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

#: Scope key of a no-argument callback run once a TCP request is let through.
AUTHENTICATED_HOOK = "crushd.on_authenticated"

ASGIApp = Callable[[Any, Any, Any], Any]

#: Random bytes in a generated token (``secrets.token_urlsafe``: 43 characters).
TOKEN_BYTES = 32
#: A token file with fewer characters is refused: too easy to guess.
MIN_TOKEN_CHARS = 16
_LOOSE_BITS = stat.S_IRWXG | stat.S_IRWXO


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


class TokenFileError(OSError):
    """The token file cannot be created or is not private; the message says why.

    Raised at startup only (no HTTP status); the daemon exits 1.
    """


def load_token(path: Path) -> str:
    """Return the daemon's bearer token, creating the file on first use.

    A missing file is created atomically with ``secrets.token_urlsafe(32)``
    (43 characters, 32 random bytes), mode 0600, in a folder created 0700.
    Two daemons starting at once end up with the same token: the file is
    written under a temporary name and linked into place, and the loser reads
    the winner's file. An existing file is reused, after checking that it is
    a regular file owned by this user with no group/other permission bits,
    in a folder of this user's with no group/other permission bits either,
    holding at least ``MIN_TOKEN_CHARS`` characters.

    Blocking file I/O; call it at startup.

    Args:
        path: the token file (``Settings.token_file``).

    Returns:
        The token, without surrounding whitespace.

    Raises:
        TokenFileError: the folder or file cannot be created or read; the
            file or its folder is open to group or others (``chmod 600`` /
            ``chmod 700`` it) or owned by another user; the file is not a
            regular file, or holds fewer than ``MIN_TOKEN_CHARS`` characters.

    Source: docs/protocol.md C.6 (token file ``$XDG_STATE_HOME/crushd/token``).
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_token_file(path)
        return _read_private_token(path)
    except TokenFileError:
        raise
    except OSError as error:
        raise TokenFileError(f"cannot use token file {path}: {error}") from error


def _create_token_file(path: Path) -> None:
    """Create ``path`` with a fresh token unless it exists (atomic)."""
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
        with contextlib.suppress(FileExistsError):  # another daemon won: use its
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_private_token(path: Path) -> str:
    """Read the token after checking its folder and file are private and ours."""
    _require_private(path.parent, os.stat(path.parent), _LOOSE_BITS)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as file:
        found = os.fstat(file.fileno())
        _require_private(path, found, _LOOSE_BITS)
        data = file.read()
    token = data.decode("ascii", errors="replace").strip()
    if not token:
        raise TokenFileError(f"token file {path} is empty; delete it to get a new one")
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenFileError(
            f"token in {path} is shorter than {MIN_TOKEN_CHARS} characters (too"
            " easy to guess); delete the file to get a new one"
        )
    return token


def _require_private(path: Path, found: os.stat_result, loose_bits: int) -> None:
    if found.st_uid != os.geteuid():
        raise TokenFileError(f"refusing {path}: owned by uid {found.st_uid}")
    if found.st_mode & loose_bits:
        mode = stat.S_IMODE(found.st_mode)
        fix = 700 if stat.S_ISDIR(found.st_mode) else 600
        raise TokenFileError(
            f"refusing {path}: open to group or others (mode {mode:o}; chmod {fix} it)"
        )
