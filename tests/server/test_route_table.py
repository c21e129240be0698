"""The route table is the one place a route exists; the request path's order."""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import MagicMock

import pytest

from crushd.server import ConnectionLimits, ServerContext, create_app
from crushd.server._request_path import Transport, app_layers_of, request_path
from crushd.server.http import (
    WEBSOCKET,
    Access,
    HotDispatch,
    HotMatcher,
    HotRequest,
    Route,
)
from crushd.server.listen import ConnectionGate
from crushd.server.patches import ShieldFinalSend, _internals
from crushd.server.routes import ROUTES, UNSUPPORTED_ROUTES
from crushd.server.routes._unsupported import not_supported

#: Methods werkzeug adds to rules on its own.
_AUTOMATIC = {"HEAD", "OPTIONS"}


def _context(*, debug: bool) -> ServerContext:
    return ServerContext(MagicMock(), heartbeat_seconds=15, debug_endpoints=debug)


def _declared(debug: bool) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in ROUTES if debug or r.access is not Access.DEBUG}


@pytest.mark.parametrize("debug", [False, True])
def test_url_map_holds_exactly_the_table(debug: bool) -> None:
    """Every url-map rule comes from ROUTES and every entry is in the url map."""
    app = create_app(_context(debug=debug))
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue  # quart's own static-file rule (no static folder: 404)
        methods = (rule.methods or set()) - _AUTOMATIC
        if rule.websocket:
            methods = {WEBSOCKET}
        found |= {(method, rule.rule) for method in methods}
    assert found == _declared(debug)


def test_each_route_is_declared_once() -> None:
    """No (method, path) pair appears twice in the table."""
    pairs = [(r.method, r.path) for r in ROUTES]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_handlers_are_documented_module_level_functions(route: Any) -> None:
    """A handler is a named module-level coroutine function with a docstring."""
    handler = route.handler
    assert inspect.iscoroutinefunction(handler)
    assert handler.__qualname__ == handler.__name__
    assert handler.__module__.startswith("crushd.server.routes.")
    assert inspect.getdoc(handler)
    assert next(iter(inspect.signature(handler).parameters)) == "ctx"


def test_hot_matcher_takes_exactly_the_hot_routes() -> None:
    """Each hot route's own path matches it; no other entry's path is hot."""
    matcher = HotMatcher(ROUTES)
    for route in ROUTES:
        path = (
            route.path.replace("<workspace_id>", "w1").replace("<", "").replace(">", "")
        )
        found = matcher.match(route.method, path)
        if route.hot:
            assert found is not None
            assert found[0] == route
        elif found is not None:
            # Another hot route on the same path and method does not exist.
            assert (found[0].method, found[0].path) != (route.method, route.path)


def test_unsupported_routes_are_table_entries() -> None:
    """The 501 list is derived from the table: entries whose handler is 501's."""
    table = {(r.method, r.path): r.handler for r in ROUTES}
    assert UNSUPPORTED_ROUTES
    for pair in UNSUPPORTED_ROUTES:
        assert table[pair] is not_supported
    assert ("GET", "/v1/workspaces/<workspace_id>/lsps") in UNSUPPORTED_ROUTES


def _chain(app: Any) -> list[str]:
    names = []
    while hasattr(app, "app"):
        names.append(type(app).__name__)
        app = app.app
    return names


def test_create_app_assembles_the_app_layers_in_order() -> None:
    """Requests observed, AccessControl, the hot dispatch, the cleanups, quart."""
    app = create_app(_context(debug=False))
    layers = ["ObserveRequests", "AccessControl", "HotDispatch", "RequestCleanups"]
    assert _chain(app.asgi_app) == layers


def test_serving_adds_the_transport_layers_outside() -> None:
    """serve_app's path: the final-send shield and the gate hook, then the app's."""
    app = create_app(_context(debug=False))
    core, layers = app_layers_of(app)
    assert layers is not None
    gate = ConnectionGate(ConnectionLimits(4, 2))
    served = request_path(core, layers=layers, transport=Transport(gate, 1.5))
    assert isinstance(served, ShieldFinalSend)
    assert served.shield_seconds == 1.5
    gated = inspect.getclosurevars(served.app).nonlocals["app"]
    assert _chain(gated) == _chain(app.asgi_app)
    assert app_layers_of(core) == (core, None)


def test_direct_writes_need_the_checked_hypercorn_and_h11(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another hypercorn or h11 line turns the direct writer off."""
    versions = {"hypercorn": "0.18.0", "h11": "0.16.0"}
    monkeypatch.setattr("importlib.metadata.version", versions.__getitem__)
    checked = _internals._versions_checked
    try:
        checked.cache_clear()
        assert checked()
        versions["h11"] = "0.17.0"
        checked.cache_clear()
        assert not checked()
        versions.update(h11="0.16.0", hypercorn="0.19.0")
        checked.cache_clear()
        assert not checked()
    finally:
        checked.cache_clear()


async def _boom_before(ctx: Any, request: HotRequest) -> None:
    """Fails before answering."""
    raise RuntimeError("boom")


async def _boom_after(ctx: Any, request: HotRequest) -> None:
    """Fails after the stream's head went out."""
    await request.start(200, [])
    raise RuntimeError("boom")


async def _dispatch(handler: Any) -> tuple[list[dict[str, Any]], BaseException | None]:
    dispatch = HotDispatch(
        None, _context(debug=False), [Route("GET", "/x", handler, hot=True)]
    )
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    try:
        await dispatch(scope, None, send)
    except RuntimeError as error:
        return sent, error
    return sent, None


async def test_hot_dispatch_answers_errors_raised_before_the_head() -> None:
    """A hot handler's error before its answer becomes the JSON 500."""
    sent, raised = await _dispatch(_boom_before)
    assert raised is None
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"message":"internal server error"}\n'


async def test_hot_dispatch_never_answers_twice() -> None:
    """After the head went out an error propagates; no second head is sent."""
    sent, raised = await _dispatch(_boom_after)
    assert isinstance(raised, RuntimeError)
    assert [m["type"] for m in sent] == ["http.response.start"]
