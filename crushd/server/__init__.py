"""The HTTP layer: the quart-trio app, SSE/WebSocket streams, listeners, serving.

Subpackages by job: ``http`` (context, request helpers, errors), ``routes``
(the ``/v1`` handlers), ``streams`` (SSE frames, direct fan-out), ``listen``
(sockets, peer credentials, access control, token file) and ``patches`` (the
version-guarded hypercorn fixes). docs/architecture.md draws the request path.
"""

from ._app import create_app
from ._serve import serve_app
from .http import (
    MAX_BODY_BYTES,
    RequestCleanups,
    ServerContext,
    error_response,
    install_error_handlers,
    on_request_end,
    version_info,
)
from .listen import (
    AccessControl,
    AddressInUseError,
    BoundSocket,
    ConnectionLimits,
    ListenerError,
    PeerCredentials,
    TokenFileError,
    adopt_fd,
    bind_host,
    bind_tcp,
    bind_unix,
    install_peer_check,
    load_token,
    parse_allowed_host,
    peer_allowed,
    peer_credentials,
)
from .streams import SSE_HEADERS, sse_frames

__all__ = [
    "MAX_BODY_BYTES",
    "SSE_HEADERS",
    "AccessControl",
    "AddressInUseError",
    "BoundSocket",
    "ConnectionLimits",
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
