"""The hot routes over plain ASGI: create/join, release, and the SSE stream.

A client's life with a workspace is three requests: ``POST /v1/workspaces``,
``GET /v1/workspaces/{id}/events`` held open, ``DELETE /v1/workspaces/{id}``.
Through quart each of them pays for request and app contexts, werkzeug routing
and request/response objects: measured at about 0.45 ms of CPU per request on
the 2-core benchmark machine, and about 11 KiB per open stream (issue 5,
"churn" and "idle"; stress/RESULTS.md). ``HotRoutes`` answers exactly those
method and path pairs itself, with the same validation, the same errors
(``error_body``) and the same bytes on the wire; every other request goes to
the quart app untouched.

The url map still declares the three routes (``declare_hot_rules``), so 404,
405 and ``Allow`` stay the router's, computed over every method as before.
Their quart views are never reached: ``match_hot_route`` accepts exactly the
paths the router sends to them (tests/server/test_hot_routes.py checks both
directions with hypothesis); were one reached anyway, it answers 500.

Source: docs/protocol.md 2.2 and 3.1 (shapes, handshake order), quart's request
body rules (``MAX_CONTENT_LENGTH`` -> 413, ``BODY_TIMEOUT`` 60 s -> 408);
a departure from docs/architecture.md 1 ("routes/ per area" as quart views), for speed.
"""

from __future__ import annotations

import re
from contextlib import aclosing
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import trio
from quart_trio import QuartTrio

from crushd.errors import InternalError, PayloadTooLarge, RequestTimeout
from crushd.proto import Workspace as WireWorkspace
from crushd.registry import Hosted

from ..http import (
    JSON_TYPE,
    ServerContext,
    decode_json,
    error_body,
    header_values,
    json_body,
    last_event_id_from,
    parse_query_client_id,
)
from ..patches import RAW_SEND_KEY
from ..streams import SSE_HEADERS, chunk_writer, sse_frames
from ._live import live_workspace

__all__ = ["BODY_TIMEOUT_SECONDS", "HotRoutes", "declare_hot_rules", "match_hot_route"]

ASGIApp = Any

#: How long a request body may take to arrive (quart's ``BODY_TIMEOUT``).
BODY_TIMEOUT_SECONDS = 60.0

_WS = "/v1/workspaces/<workspace_id>"
# (method, compiled path, route name): werkzeug's default converter is
# ``[^/]+`` and ``strict_slashes = False`` also matches a trailing slash.
_ROUTES = (
    ("POST", re.compile(r"/v1/workspaces/?"), "create"),
    ("DELETE", re.compile(r"/v1/workspaces/([^/]+)/?"), "release"),
    ("GET", re.compile(r"/v1/workspaces/([^/]+)/events/?"), "events"),
    ("HEAD", re.compile(r"/v1/workspaces/([^/]+)/events/?"), "events"),
)
#: The url-map declarations: (rule, method, endpoint, route name).
_RULES = (
    ("/v1/workspaces", "POST", "create_workspace", "create"),
    (_WS, "DELETE", "release_workspace", "release"),
    (f"{_WS}/events", "GET", "events", "events"),
)
_SSE_HEADERS = [(n.lower().encode(), v.encode()) for n, v in SSE_HEADERS.items()]


def match_hot_route(method: str, path: str) -> tuple[str, str | None] | None:
    """Return ``(route name, workspace id or None)`` for a hot request, else None.

    Args:
        method: the HTTP method (``HEAD`` is served like ``GET``).
        path: the decoded request path (ASGI ``scope["path"]``).
    """
    for route_method, pattern, name in _ROUTES:
        if method == route_method and (found := pattern.fullmatch(path)):
            return name, found.group(1) if pattern.groups else None
    return None


def declare_hot_rules(app: QuartTrio) -> None:
    """Declare the hot routes in ``app``'s url map, for 404/405/``Allow``.

    Their views answer 500: ``HotRoutes`` serves these requests before quart
    routes anything, so reaching one means the two matchers disagree.
    """
    for rule, method, endpoint, name in _RULES:

        async def unreachable(name: str = name, **_: str) -> NoReturn:
            raise InternalError(f"hot route {name} reached the framework")

        app.add_url_rule(rule, endpoint, unreachable, methods=[method])


class _Headers:
    """Case-insensitive first-value lookup over ASGI header pairs."""

    def __init__(self, pairs: list[tuple[bytes, bytes]]) -> None:
        self._pairs = pairs

    def get(self, key: str) -> str | None:
        values = header_values(self._pairs, key.lower().encode())
        return values[0].decode("latin-1") if values else None


def _query(scope: Any) -> dict[str, str]:
    """The query parameters, first value of each (werkzeug's ``args.get``)."""
    text = bytes(scope.get("query_string", b"")).decode("utf-8", "replace")
    args: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        args.setdefault(name, value)
    return args


class _DisconnectedError(Exception):
    """The client went away while its request body was being read."""


async def _read_body(scope: Any, receive: Any, limit: int) -> bytes:
    """Read the whole request body, at most ``limit`` bytes.

    Raises:
        PayloadTooLarge: ``Content-Length`` or the bytes received exceed
            ``limit`` (413).
        RequestTimeout: the body took over ``BODY_TIMEOUT_SECONDS`` (408).
        _DisconnectedError: the client closed the connection first.
    """
    declared = _Headers(scope.get("headers", [])).get("content-length") or ""
    # ASCII digits only: str.isdigit() also takes "\xb2" (superscript two),
    # which int() refuses. A bad value is h11's to reject; here it is ignored.
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    with trio.move_on_after(BODY_TIMEOUT_SECONDS) as timer:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _DisconnectedError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    assert timer.cancelled_caught
    raise RequestTimeout


async def _send_reply(
    send: Any, status: int, body: bytes, content_type: str | None = JSON_TYPE
) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type.encode())]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_error(send: Any, error: Exception) -> None:
    status, body = error_body(error)
    await _send_reply(send, status, body)


async def _cancel_on_disconnect(receive: Any, scope: trio.CancelScope) -> None:
    """Cancel ``scope`` once the client has gone (``http.disconnect``)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


class HotRoutes:
    """ASGI middleware: serve the three hot routes, pass everything else on.

    Args:
        app: the quart app's ASGI callable (with its middleware).
        ctx: what the routes use (registry, heartbeat, body limit).
    """

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app = app
        self._ctx = ctx
        self._registry = ctx.registry

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        found = None
        if scope["type"] == "http":
            found = match_hot_route(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        name, workspace_id = found
        if name == "create":
            await self._create(scope, receive, send)
        elif name == "release":
            await self._release(scope, send, str(workspace_id))
        else:
            await self._events(scope, receive, send, str(workspace_id))

    async def _create(self, scope: Any, receive: Any, send: Any) -> None:
        """``POST /v1/workspaces``: create or join (``Registry.create``).

        A client that disconnects before the answer cancels the create (as
        quart cancelled its handler): a build nobody waits for is undone and
        no claim is left behind (``Registry.create``'s cancellation rules).
        """
        try:
            data = await _read_body(scope, receive, self._ctx.max_body_bytes)
            hosted = await self._create_unless_gone(receive, data)
            if hosted is None:
                return
            _, workspace = live_workspace(self._registry, hosted.id)
            body = json_body(workspace.to_wire())
        except _DisconnectedError:
            return
        except Exception as error:  # noqa: BLE001 - the route's error boundary
            await _send_error(send, error)
            return
        await _send_reply(send, 200, body)

    async def _create_unless_gone(self, receive: Any, data: bytes) -> Hosted | None:
        """Run the create; ``None`` if the client disconnected meanwhile."""
        request = decode_json(data, WireWorkspace)
        hosted, failure = None, None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
            try:
                hosted = await self._registry.create(request)
            except Exception as error:  # noqa: BLE001 - raised bare, below
                failure = error  # not wrapped in the nursery's ExceptionGroup
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        return hosted

    async def _release(self, scope: Any, send: Any, workspace_id: str) -> None:
        """``DELETE /v1/workspaces/{id}``: drop the caller's claim; empty 200."""
        try:
            client_id = parse_query_client_id(_query(scope))
            self._registry.release(workspace_id, client_id)
        except Exception as error:  # noqa: BLE001 - the route's error boundary
            await _send_error(send, error)
            return
        await _send_reply(send, 200, b"", content_type=None)

    async def _events(
        self, scope: Any, receive: Any, send: Any, workspace_id: str
    ) -> None:
        """``GET /v1/workspaces/{id}/events``: the SSE stream (docs/protocol.md 3.1).

        Validates the client id and resume point, finds the workspace and
        attaches the claim before the 200 goes out (hypercorn writes the
        head at once), so a client that saw the 200 sees every later event.
        The claim is detached however the stream ends.
        """
        registry = self._registry
        try:
            args = _query(scope)
            client_id = parse_query_client_id(args)
            headers = _Headers(scope.get("headers", []))
            resume_from = last_event_id_from(headers, args)
            hosted, workspace = live_workspace(registry, workspace_id)
            user_agent = headers.get("user-agent") or ""
            ticket = registry.attach(hosted.id, client_id, user_agent)
        except Exception as error:  # noqa: BLE001 - the route's error boundary
            await _send_error(send, error)
            return
        try:
            log = workspace.log
            cursor = log.head if resume_from is None else resume_from
            writer = chunk_writer(scope.get(RAW_SEND_KEY))
            heartbeat = self._ctx.heartbeat_seconds
            frames = sse_frames(log, ticket, cursor, heartbeat, writer)
            start = {"type": "http.response.start", "status": 200}
            await send({**start, "headers": _SSE_HEADERS})
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
                async with aclosing(frames):
                    async for chunk in frames:
                        message = {"body": chunk, "more_body": True}
                        await send({"type": "http.response.body", **message})
                await send({"type": "http.response.body", "body": b""})
                nursery.cancel_scope.cancel()
        finally:
            registry.detach(ticket)
