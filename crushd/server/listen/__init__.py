"""Who reaches the daemon: sockets, peer credentials, access control, token file."""

from ._auth import (
    AUTHENTICATED_HOOK,
    LOOPBACK_NAMES,
    AccessControl,
    parse_allowed_host,
)
from ._connections import ConnectionGate, ConnectionLimits
from ._listeners import (
    DEFAULT_BACKLOG,
    PROBE_TIMEOUT_SECONDS,
    AddressInUseError,
    BoundSocket,
    ListenerError,
    adopt_fd,
    bind_host,
    bind_tcp,
    bind_unix,
)
from ._peercred import (
    PeerCredentials,
    install_peer_check,
    peer_allowed,
    peer_credentials,
)
from ._token import MIN_TOKEN_CHARS, TOKEN_BYTES, TokenFileError, load_token

__all__ = [
    "AUTHENTICATED_HOOK",
    "DEFAULT_BACKLOG",
    "LOOPBACK_NAMES",
    "MIN_TOKEN_CHARS",
    "PROBE_TIMEOUT_SECONDS",
    "TOKEN_BYTES",
    "AccessControl",
    "AddressInUseError",
    "BoundSocket",
    "ConnectionGate",
    "ConnectionLimits",
    "ListenerError",
    "PeerCredentials",
    "TokenFileError",
    "adopt_fd",
    "bind_host",
    "bind_tcp",
    "bind_unix",
    "install_peer_check",
    "load_token",
    "parse_allowed_host",
    "peer_allowed",
    "peer_credentials",
]
