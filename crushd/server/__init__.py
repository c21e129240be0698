"""The HTTP layer: the quart-trio app, SSE/WebSocket streams, listeners, serving."""

from ._app import create_app
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
from ._serve import serve_app
from ._sse import SSE_HEADERS, sse_frames

__all__ = [
    "MAX_BODY_BYTES",
    "SSE_HEADERS",
    "AddressInUseError",
    "BoundSocket",
    "ListenerError",
    "RequestCleanups",
    "ServerContext",
    "adopt_fd",
    "bind_host",
    "bind_tcp",
    "bind_unix",
    "create_app",
    "error_response",
    "install_error_handlers",
    "on_request_end",
    "serve_app",
    "sse_frames",
    "version_info",
]
