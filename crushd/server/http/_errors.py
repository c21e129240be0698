"""The one place where errors become ``{"message": ...}`` JSON answers.

``error_body`` turns any exception into the status and JSON body; the quart
routes reach it through the handlers ``install_error_handlers`` registers,
the hot routes and access control through ``send_error``. So every refusal,
whichever layer makes it, has the same shape and text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from quart import Response
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from crushd.errors import CrushdError
from crushd.proto import ErrorBody

from ._request import JSON_TYPE, json_body, json_response, send_reply

log = logging.getLogger("crushd.server")

#: Messages for the HTTP errors the router and body reader raise.
_HTTP_MESSAGES = {
    404: "404 page not found",
    405: "method not allowed",
    413: "request body too large",
}


def error_response(status: int, message: str) -> Response:
    """Return the JSON error body ``{"message": message}`` with ``status``."""
    return json_response(ErrorBody(message=message), status=status)


def error_body(error: Exception) -> tuple[int, bytes]:
    """Return ``(status, JSON body)`` for an error a route raised, and log it.

    A ``CrushdError`` gives its own status and message (logged as a warning
    when >= 500); anything else is logged with its traceback and becomes 500
    ``internal server error``. Shared by the quart handlers and the hot routes.
    """
    if not isinstance(error, CrushdError):
        log.error("unhandled error in request", exc_info=error)
        return 500, json_body(ErrorBody(message="internal server error"))
    if error.status >= 500:
        log.warning("request failed status=%d: %s", error.status, error.message)
    return error.status, json_body(ErrorBody(message=error.message))


async def send_error(
    send: Any,
    error: Exception,
    *,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
    prefix: str = "http",
) -> None:
    """Answer ``error`` on a plain-ASGI ``send`` (``error_body``'s status and body).

    Args:
        send: the ASGI ``send``.
        error: what went wrong.
        extra_headers: sent after ``Content-Type`` and ``Content-Length``.
        prefix: ``"http"``, or ``"websocket.http"`` to refuse a handshake.
    """
    status, body = error_body(error)
    await send_reply(send, status, body, extra_headers=extra_headers, prefix=prefix)


def _any_error(error: Exception) -> Response:
    status, body = error_body(error)
    return Response(body, status=status, content_type=JSON_TYPE)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = _HTTP_MESSAGES.get(status) or (error.description or error.name).lower()
    response = error_response(status, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def install_error_handlers(app: QuartTrio) -> None:
    """Map every exception a route can raise to a JSON error response.

    ``CrushdError`` carries its own status and message; Quart/Werkzeug HTTP
    errors (unknown path 404, wrong method 405 with ``Allow``, body over the
    limit 413) get JSON bodies too; anything else is logged with its traceback
    and answered 500 ``internal server error`` without touching other requests.
    """
    app.register_error_handler(CrushdError, _any_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _any_error)
