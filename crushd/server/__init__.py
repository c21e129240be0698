"""The HTTP layer: the quart-trio app, SSE/WebSocket streams, listeners, serving."""

from ._app import create_app
from ._auth import AccessControl, TokenFileError, load_token, parse_allowed_host
from ._cleanup import RequestCleanups, on_request_end
from ._context import MAX_BODY_BYTES, ServerContext, version_info
from ._errors import error_response, install_error_handlers
from ._listeners import (
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
from ._serve import serve_app
from ._sse import SSE_HEADERS, sse_frames

__all__ = [
    "MAX_BODY_BYTES",
    "SSE_HEADERS",
    "AccessControl",
    "AddressInUseError",
    "BoundSocket",
    "ListenerError",
    "PeerCredentials",
    "RequestCleanups",
    "ServerContext",
    "TokenFileError",
    "adopt_fd",
    "bind_host",
    "bind_tcp",
    "bind_unix",
    "create_app",
    "error_response",
    "install_error_handlers",
    "install_peer_check",
    "load_token",
    "on_request_end",
    "parse_allowed_host",
    "peer_allowed",
    "peer_credentials",
    "serve_app",
    "sse_frames",
    "version_info",
]
