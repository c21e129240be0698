"""Every failure a crushctl call can raise, and the one place httpx errors map in.

Our exception hierarchy::

    CrushctlError
    ├── ServerUnavailable        nothing listens at the host (no socket, refused)
    ├── RequestError             the exchange broke: timeout, reset, bad body
    ├── UntrustedServerError     another uid holds the unix socket: nothing sent
    └── HTTPStatusError          an error status from crushd (.status, .message)
        ├── BadRequestError      400: bad client_id, bad body, ...
        ├── NotFoundError        404: workspace, session, ... not found
        ├── ConflictError        409: client retired / not attached, busy daemon
        ├── PayloadTooLargeError 413: request body too large
        ├── NotSupportedError    501: a route crushd does not implement
        ├── ConfigLockedError    503: a config file stayed locked; retry later
        └── ShuttingDownError    503: the daemon is leaving; start a new one

httpx exceptions are translated exactly once, by ``request_context`` (httpx's
``map_httpcore_exceptions`` pattern), and every error carries the ``method`` and
``route`` (URL path) of the request that failed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import httpx

from crushd.proto import Host, default_host


class CrushctlError(Exception):
    """Base class of every crushctl error.

    Attributes:
        message: one human-readable line, also ``str(error)``.
        method: the HTTP method of the failed request (``""`` if none).
        route: the URL path of the failed request, e.g. ``/v1/workspaces/8c1f``.
    """

    def __init__(self, message: str, *, method: str = "", route: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.route = route


class ServerUnavailable(CrushctlError):  # noqa: N818 - reads as a state, like trio's Cancelled
    """No daemon listens at the host: the socket is missing or refuses connections.

    The message names the host and how to start a daemon there, e.g.
    ``crushd is not running at unix:///run/user/1000/crush-1000.sock; start it
    with: crushd serve``.

    Attributes:
        host: the ``--host`` URL that could not be reached.

    Source: docs/protocol.md 8.3 "stale" classification (refused or file-not-found).
    """

    def __init__(self, host: str, *, method: str = "", route: str = "") -> None:
        message = f"crushd is not running at {host}; start it with: {_start_hint(host)}"
        super().__init__(message, method=method, route=route)
        self.host = host


class RequestError(CrushctlError):
    """The request was sent but the exchange failed.

    Timeouts, resets, a stream cut mid-chunk, or a response body that is not
    the JSON the route promises.
    """


class UntrustedServerError(CrushctlError):
    """The unix socket at the host belongs to another user; nothing was sent.

    Raised before a single byte of a request leaves crushctl: the server's uid
    (``SO_PEERCRED``), the socket file's owner or its folder's owner is not
    this user. Someone may be
    squatting the socket path to collect API keys.

    Attributes:
        host: the ``--host`` URL that was refused.
        uid: the uid that holds the socket.
    """

    def __init__(self, host: str, what: str, uid: int) -> None:
        message = (
            f"refusing the crushd at {host}: {what} belongs to uid {uid}, not to"
            f" you (uid {os.geteuid()}); someone else may be squatting the socket path,"
            " so nothing was sent to it"
        )
        super().__init__(message)
        self.host = host
        self.uid = uid


class HTTPStatusError(CrushctlError):
    """crushd answered with a non-2xx status.

    Attributes:
        status: the HTTP status code.
        message: the ``message`` of the ``{"message": ...}`` error body (or the
            body text when it is not JSON).

    Source: docs/protocol.md 0.5 (error body and status mapping).
    """

    def __init__(
        self, message: str, *, status: int, method: str = "", route: str = ""
    ) -> None:
        super().__init__(message, method=method, route=route)
        self.status = status


class BadRequestError(HTTPStatusError):
    """400: the request was invalid (``client_id is required``, bad body, ...)."""


class NotFoundError(HTTPStatusError):
    """404: ``workspace not found``, ``session not found``, unknown route, ..."""


class ConflictError(HTTPStatusError):
    """409: ``client has been retired``, ``client not attached``, busy daemon, ..."""


class PayloadTooLargeError(HTTPStatusError):
    """413: the request body exceeds the daemon's limit."""


class NotSupportedError(HTTPStatusError):
    """501: ``not supported by crushd`` (LSP, MCP, ... routes)."""


class ShuttingDownError(HTTPStatusError):
    """503: ``server is shutting down``; a new daemon must be started."""


class ConfigLockedError(HTTPStatusError):
    """503 ``timed out locking <file>.lock``: a config write waited 5 s in vain.

    Another writer held the config file's lock; nothing was written. The
    daemon is not leaving (unlike ``ShuttingDownError``): retry the call.
    """


#: The start of crushd's ``ConfigLocked`` message (the one 503 that is not a
#: shutdown).
_CONFIG_LOCKED_PREFIX = "timed out locking "


_STATUS_ERRORS: dict[int, type[HTTPStatusError]] = {
    400: BadRequestError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    501: NotSupportedError,
    503: ShuttingDownError,
}


def _start_hint(host: str) -> str:
    if host == default_host().url:
        return "crushd serve"
    return f"crushd serve --host {host}"


@contextlib.contextmanager
def request_context(host: Host, method: str, route: str) -> Iterator[None]:
    """Translate httpx exceptions raised in the block into crushctl errors.

    Args:
        host: the daemon's host, named in ``ServerUnavailable``.
        method: the request's HTTP method.
        route: the request's URL path.

    Raises:
        ServerUnavailable: an ``httpx.ConnectError`` (missing socket, refused).
        RequestError: any other ``httpx.HTTPError`` (timeouts, resets, ...).
    """
    try:
        yield
    except httpx.ConnectError as exc:
        raise ServerUnavailable(host.url, method=method, route=route) from exc
    except httpx.HTTPError as exc:
        detail = str(exc) or type(exc).__name__
        message = f"{method} {route} failed: {detail}"
        raise RequestError(message, method=method, route=route) from exc


def error_for_status(
    status: int, message: str, *, method: str = "", route: str = ""
) -> HTTPStatusError:
    """Build the ``HTTPStatusError`` subclass that matches ``status``.

    Args:
        status: the HTTP status code (any non-2xx value).
        message: the error text.
        method: the request's HTTP method.
        route: the request's URL path.

    Returns:
        An instance of the status's class, or of ``HTTPStatusError`` itself for
        statuses without one (e.g. 500). A 503 whose message is crushd's
        config-lock timeout is a ``ConfigLockedError``, any other 503 a
        ``ShuttingDownError``.
    """
    cls = _STATUS_ERRORS.get(status, HTTPStatusError)
    if status == 503 and message.startswith(_CONFIG_LOCKED_PREFIX):
        cls = ConfigLockedError
    return cls(message, status=status, method=method, route=route)


def raise_for_status(response: httpx.Response) -> None:
    """Raise the matching ``HTTPStatusError`` unless ``response`` is a 2xx.

    The body must have been read already.

    Args:
        response: a response whose ``request`` is set.

    Raises:
        HTTPStatusError: the status is not 2xx; see the subclasses for 400,
            404, 409, 413, 501 and 503.
    """
    if response.is_success:
        return
    request = response.request
    raise error_for_status(
        response.status_code,
        _error_message(response),
        method=request.method,
        route=request.url.path,
    )


def _error_message(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    text = response.text.strip()
    return text or f"{response.status_code} {response.reason_phrase}"
