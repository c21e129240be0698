"""The route table's shape, and the quart-trio app built from it.

Every ``/v1`` route is one ``Route`` in ``crushd.server.routes.ROUTES``:
method, path (werkzeug syntax, ``<name>`` is one path segment), the handler,
whether it is hot and what access it needs. ``add_routes`` declares every
entry in the app's url map, so 404, 405 and ``Allow`` are the router's for
all of them; ``HotDispatch`` (``_hot``) serves the hot ones before quart.

Handler shapes (``ctx`` first, then the path segments as keyword arguments):

- ordinary: ``async def h(ctx: ServerContext, **segments) -> Response``,
  reading ``quart.request`` (``decode_body``, ``query_client_id``);
- WebSocket (method ``WEBSOCKET``): ``async def h(ctx, **segments) -> None``,
  reading ``quart.websocket``;
- hot: ``async def h(ctx, request: HotRequest, **segments) -> None``, which
  answers through ``request`` (plain ASGI, no framework).

The remaining ``Route`` attributes only document the route: the OpenAPI
document (``_openapi``) is generated from them, never written by hand.

Source: issue 12 ("one request path"); docs/architecture.md, server section.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, NoReturn

import attrs
from quart import request
from quart_trio import QuartTrio

from crushd.errors import Forbidden, InternalError

from ._context import ServerContext

__all__ = [
    "EVENT_STREAM",
    "WEBSOCKET",
    "Access",
    "Handler",
    "Route",
    "TextBody",
    "add_routes",
    "came_over_tcp",
]

#: A handler: ``ctx`` first, path segments as keyword arguments.
Handler = Callable[..., Awaitable[Any]]

#: The ``Route.method`` of a WebSocket route (a ``GET`` with an upgrade).
WEBSOCKET = "WEBSOCKET"

_UNIX_ONLY = "debug endpoints are served on unix sockets only"


class Access(enum.Enum):
    """What a request must show to reach a route.

    ``OWNER``: what ``AccessControl`` asks of every request (a unix peer of
    the daemon's uid; over TCP the token, a ``Host`` naming the daemon, no
    ``Origin``). ``DEBUG``: the route exists only with ``--debug-endpoints``
    (else 404) and is served on unix sockets only (TCP: 403).
    """

    OWNER = "owner"
    DEBUG = "debug"


@attrs.frozen
class TextBody:
    """``Route.response`` of an answer that is not JSON.

    Attributes:
        media_type: its ``Content-Type`` without parameters (``text/html``).
        description: what the body is, for the OpenAPI document.
    """

    media_type: str
    description: str


#: ``Route.response`` of the SSE stream (docs/protocol.md 3).
EVENT_STREAM = TextBody(
    "text/event-stream", "The SSE event stream (docs/protocol.md 3)."
)


@attrs.frozen
class Route:
    """One ``/v1`` route.

    Attributes:
        method: ``GET``, ``POST``, ``PUT``, ``DELETE`` or ``WEBSOCKET``.
        path: the werkzeug rule, e.g. ``/v1/workspaces/<workspace_id>``.
        handler: the module-level handler (shapes in the module docstring);
            its name is the url map's endpoint.
        hot: served over plain ASGI by ``HotDispatch``, never by quart.
        access: what the request must show (``Access``).
        request: the JSON body: a ``crushd.proto`` model, a type hint or a
            literal JSON schema (a dict); ``None``: no body.
        response: the success body, the same kinds (``list[Session]``,
            ``int``, ...); ``None``: empty; a ``TextBody``: not JSON.
        status: the success status (501 for routes crushd does not serve).
        optional_body: the ``request`` body may be left out.
        query: optional ``?name=`` query parameters (strings).
        client_id: a ``?client_id=`` query parameter is required.
        addition: the docs/protocol.md part C section when crushd added
            the route (``"C.5"``), else ``""``.
    """

    method: str
    path: str
    handler: Handler
    hot: bool = False
    access: Access = Access.OWNER
    # The rest only documents the route: not part of its identity (eq, hash).
    request: Any = attrs.field(default=None, eq=False, kw_only=True)
    response: Any = attrs.field(default=None, eq=False, kw_only=True)
    status: int = attrs.field(default=200, eq=False, kw_only=True)
    optional_body: bool = attrs.field(default=False, eq=False, kw_only=True)
    query: tuple[str, ...] = attrs.field(default=(), eq=False, kw_only=True)
    client_id: bool = attrs.field(default=False, eq=False, kw_only=True)
    addition: str = attrs.field(default="", eq=False, kw_only=True)


def add_routes(app: QuartTrio, ctx: ServerContext, routes: Iterable[Route]) -> None:
    """Declare ``routes`` in ``app``'s url map; bind each handler to ``ctx``.

    ``DEBUG`` routes are left out unless ``ctx.debug_endpoints``. A hot
    route's quart view answers 500: ``HotDispatch`` serves those requests
    before quart routes anything, so reaching one means the matchers differ.
    Endpoints are handler names, suffixed ``_N`` when a handler serves
    several rules.
    """
    for route in routes:
        if route.access is Access.DEBUG and not ctx.debug_endpoints:
            continue
        endpoint = _endpoint(app.view_functions, route.handler.__name__)
        if route.method == WEBSOCKET:
            app.add_websocket(route.path, endpoint, partial(route.handler, ctx))
            continue
        app.add_url_rule(
            route.path, endpoint, _view(route, ctx), methods=[route.method]
        )


def _endpoint(taken: Mapping[str, object], name: str) -> str:
    index = 0
    endpoint = name
    while endpoint in taken:
        index += 1
        endpoint = f"{name}_{index}"
    return endpoint


def _view(route: Route, ctx: ServerContext) -> Handler:
    if route.hot:
        return partial(_unreachable, route.handler.__name__)
    if route.access is Access.DEBUG:
        return partial(_unix_only, route.handler, ctx)
    return partial(route.handler, ctx)


async def _unreachable(name: str, **_: str) -> NoReturn:
    raise InternalError(f"hot route {name} reached the framework")


async def _unix_only(handler: Handler, ctx: ServerContext, **segments: str) -> Any:
    """Refuse a TCP request with 403 before its body is read, else serve it."""
    if came_over_tcp(request.scope):
        raise Forbidden(_UNIX_ONLY)
    return await handler(ctx, **segments)


def came_over_tcp(scope: Mapping[str, Any]) -> bool:
    """Tell a TCP request from a unix one: hypercorn gives a TCP ``server`` a port."""
    server = scope.get("server")
    if not server:
        return False
    return server[1] is not None
