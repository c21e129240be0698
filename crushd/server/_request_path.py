"""The request path, socket to handler, assembled in one function.

::

    socket accepted by hypercorn's trio worker (TCPServer.run, patched)
      |- unix: peer uid must be ours, else closed unread ....... listen._peercred
      |- tcp: counted against the connection caps, 503 ...... listen._connections
    h11 parses HTTP/1.1 (HTTP/2 refused with GOAWAY) ............ patches._http1
    writes: one write(2), then bounded by the send timeout patches._hypercorn_fixes
      v ASGI (scope, receive, send)
    ShieldFinalSend: raw send kept for the fan-out; final send shielded  [transport]
    ConnectionGate.middleware: the scope gets the "authenticated" hook  [transport]
    ObserveRequests: count, time, log failures by route template  _metrics_requests
    AccessControl: tcp needs token, Host, no Origin (401/403) ..... listen._auth
    HotDispatch: create/join, release, SSE served here ............ http._hot
    RequestCleanups: per-request sync callbacks (stream detach) . http._cleanup
    quart-trio: url map (404/405), body limit (413), JSON errors  http._errors
      v
    handler(ctx, **segments) from routes.ROUTES ................ routes._table

``create_app`` assembles the app layers (so quart's test client sees the
access checks); ``serve_app`` assembles the same path again with the
transport layers, from the pieces ``create_app`` left on the app.

Source: issue 12 ("one request path"); docs/architecture.md, server section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ._metrics_requests import ObserveRequests, RequestStats
from .http import HotDispatch, RequestCleanups, Route, ServerContext
from .listen import AccessControl, ConnectionGate
from .patches import ShieldFinalSend

__all__ = ["AppLayers", "Transport", "app_layers_of", "request_path"]

ASGIApp = Any

#: Where ``create_app`` leaves ``(core, AppLayers)`` in ``app.extensions``.
_EXTENSION = "crushd.request_path"


@attrs.frozen
class AppLayers:
    """The app's own layers: access control, hot routes, request cleanups.

    Attributes:
        ctx: what the handlers use.
        routes: the route table (the hot ones are dispatched before quart).
        access: the access guard; its ``wrap`` puts it in front of an app.
        requests: the server's request counters (``GET /v1/metrics``).
    """

    ctx: ServerContext
    routes: Sequence[Route]
    access: AccessControl
    requests: RequestStats = attrs.field(factory=RequestStats)


@attrs.frozen
class Transport:
    """The layers one ``serve_app`` call adds.

    Attributes:
        gate: the connection caps of its TCP listeners.
        shield_seconds: bound on a response's final send, in seconds (> 0).
    """

    gate: ConnectionGate
    shield_seconds: float


def request_path(
    core: ASGIApp,
    *,
    layers: AppLayers | None = None,
    transport: Transport | None = None,
) -> ASGIApp:
    """Wrap ``core`` in the request path's middleware, in the order drawn above.

    Args:
        core: quart-trio's own ASGI callable (or any ASGI app, in tests).
        layers: the app layers; ``None`` leaves them out.
        transport: the serving layers; ``None`` leaves them out.

    Returns:
        The outermost ASGI callable.
    """
    app = core
    if layers is not None:
        app = RequestCleanups(app)
        app = HotDispatch(app, layers.ctx, layers.routes)
        app = layers.access.wrap(app)
        app = ObserveRequests(app, layers.requests, layers.routes)
    if transport is not None:
        app = transport.gate.middleware(app)
        app = ShieldFinalSend(app, shield_seconds=transport.shield_seconds)
    return app


def remember_layers(app: Any, core: ASGIApp, layers: AppLayers) -> None:
    """Leave ``core`` and ``layers`` on ``app`` for ``app_layers_of``."""
    app.extensions[_EXTENSION] = (core, layers)


def app_layers_of(app: Any) -> tuple[ASGIApp, AppLayers | None]:
    """Return ``(core, layers)`` of an app from ``create_app``, else ``(app, None)``."""
    found = getattr(app, "extensions", {}).get(_EXTENSION)
    return found if found is not None else (app, None)
