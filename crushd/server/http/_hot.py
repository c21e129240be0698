"""The hot routes' dispatch over plain ASGI, built from the route table.

A client's life with a workspace is three requests: ``POST /v1/workspaces``,
``GET /v1/workspaces/{id}/events`` held open, ``DELETE /v1/workspaces/{id}``.
Through quart each of them pays for request and app contexts, werkzeug routing
and request/response objects: measured at about 0.45 ms of CPU per request on
the 2-core benchmark machine, and about 11 KiB per open stream (issue 5,
"churn" and "idle"; stress/RESULTS.md). So the table marks them ``hot``, and
``HotDispatch`` answers exactly those method and path pairs itself, with the
same helpers (``_request``), the same errors (``send_error``) and the same
bytes on the wire; every other request goes to the quart app untouched.
``POST .../agent`` joined them: a prompt is the agent's most frequent request
and must answer fast while runs stream (issue 13's POST latency target).

The url map still declares them (``add_routes``), so 404, 405 and ``Allow``
stay the router's. ``HotMatcher`` accepts exactly the paths the router sends
to those rules (tests/server/test_hot_routes.py checks both directions with
hypothesis): werkzeug's default converter is ``[^/]+``, ``strict_slashes =
False`` also matches a trailing slash, and a ``GET`` rule also takes ``HEAD``.

Source: docs/protocol.md 2.2 and 3.1 (shapes, handshake order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs
import trio

from ._context import ServerContext
from ._errors import send_error
from ._request import (
    JSON_TYPE,
    AsgiHeaders,
    DisconnectedError,
    asgi_query,
    read_asgi_body,
    send_reply,
)
from ._table import Route

__all__ = ["HotDispatch", "HotMatcher", "HotRequest"]

ASGIApp = Any


@attrs.define
class HotRequest:
    """One hot request: the ASGI triple plus the shared request helpers.

    A handler answers with ``reply`` (a whole response) or ``start`` and then
    body messages on ``send`` (a stream). Whatever it raises before that is
    answered by ``HotDispatch`` with ``fail``.

    Attributes:
        scope: the ASGI scope.
        receive: the ASGI ``receive``.
        send: the ASGI ``send``.
        max_body_bytes: the body limit (``ServerContext.max_body_bytes``).
        started: the response head went out (errors can no longer be answered).
    """

    scope: Any
    receive: Any
    send: Any
    max_body_bytes: int
    started: bool = attrs.field(default=False, init=False)

    @property
    def args(self) -> dict[str, str]:
        """The query parameters, first value of each."""
        return asgi_query(self.scope)

    @property
    def headers(self) -> AsgiHeaders:
        """The request headers (case-insensitive ``get``)."""
        return AsgiHeaders(self.scope.get("headers", []))

    async def body(self) -> bytes:
        """The whole body; the errors of ``read_asgi_body`` (413, 408, gone)."""
        return await read_asgi_body(self.scope, self.receive, self.max_body_bytes)

    async def reply(
        self, status: int, body: bytes, content_type: str | None = JSON_TYPE
    ) -> None:
        """Send the whole answer (``send_reply``)."""
        self.started = True
        await send_reply(self.send, status, body, content_type)

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """Send the response head of a streamed answer; the body follows on ``send``."""
        self.started = True
        await self.send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )

    async def fail(self, error: Exception) -> None:
        """Send ``error`` as JSON (``send_error``); logs unexpected ones.

        A client gone while its body was read (``DisconnectedError``) gets
        nothing.
        """
        if not isinstance(error, DisconnectedError):
            await send_error(self.send, error)

    async def cancel_on_disconnect(self, scope: trio.CancelScope) -> None:
        """Cancel ``scope`` once the client has gone (``http.disconnect``)."""
        while (await self.receive())["type"] != "http.disconnect":
            pass
        scope.cancel()


def _pattern(path: str) -> re.Pattern[str]:
    """The regex of a werkzeug rule: ``<name>`` is one segment, ``/`` optional."""
    parts = re.split(r"<(\w+)>", path)
    text = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
        for index, part in enumerate(parts)
    )
    return re.compile(text + "/?")


class HotMatcher:
    """Find the hot route of a request, as the url map would.

    Args:
        routes: the table; only ``hot`` entries are matched.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._table = [(r, _pattern(r.path)) for r in routes if r.hot]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """Return ``(route, path segments)`` for a hot request, else ``None``.

        Args:
            method: the HTTP method (``HEAD`` matches ``GET`` routes).
            path: the decoded request path (ASGI ``scope["path"]``).
        """
        for route, pattern in self._table:
            same = method == route.method or (method, route.method) == ("HEAD", "GET")
            if same and (found := pattern.fullmatch(path)):
                return route, found.groupdict()
        return None


class HotDispatch:
    """ASGI middleware: serve the hot routes, pass everything else on.

    The error boundary of the hot routes: an exception raised before the
    response started is answered as JSON (``HotRequest.fail``, the same
    ``error_body`` as quart's handlers); a client that left while its body
    was read gets nothing.

    Args:
        app: the ASGI app behind (``RequestCleanups`` around quart).
        ctx: what the handlers use.
        routes: the route table.
    """

    def __init__(
        self, app: ASGIApp, ctx: ServerContext, routes: Iterable[Route]
    ) -> None:
        self.app = app
        self._ctx = ctx
        self.matcher = HotMatcher(routes)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        found = None
        if scope["type"] == "http":
            found = self.matcher.match(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, segments = found
        request = HotRequest(scope, receive, send, self._ctx.max_body_bytes)
        try:
            await route.handler(self._ctx, request, **segments)
        except Exception as error:
            if request.started:
                raise  # mid-stream: nothing can be answered any more
            await request.fail(error)
