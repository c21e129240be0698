"""Who reaches the daemon: sockets, peer credentials, access control, token file."""

from ._auth import (
    AUTHENTICATED_HOOK,
    LOOPBACK_NAMES,
    AccessControl,
    TokenFileError,
    load_token,
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

__all__ = [
    "AUTHENTICATED_HOOK",
    "DEFAULT_BACKLOG",
    "LOOPBACK_NAMES",
    "PROBE_TIMEOUT_SECONDS",
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
