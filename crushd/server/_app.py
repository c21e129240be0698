"""The quart-trio app factory: one transport-agnostic app over the registry."""

from __future__ import annotations

from collections.abc import Iterable

from quart_trio import QuartTrio

from ._request_path import AppLayers, remember_layers, request_path
from .http import LazyBuildRule, ServerContext, add_routes, install_error_handlers
from .listen import AccessControl
from .routes import ROUTES


def create_app(
    ctx: ServerContext,
    *,
    token: str | None = None,
    host_names: Iterable[str] = (),
    allowed_hosts: Iterable[str] = (),
) -> QuartTrio:
    """Build the ``/v1`` app over ``ctx.registry``.

    Every route of ``crushd.server.routes.ROUTES`` is declared in the url
    map; the app's ``asgi_app`` is wrapped in the app layers of the request
    path (``_request_path``): ``AccessControl`` (TCP requests need ``token``
    and a ``Host`` naming the daemon, and must carry no ``Origin``: 401/403;
    unix-socket requests pass), ``HotDispatch`` (create/join, release and
    the SSE stream served without the framework) and ``RequestCleanups``
    (stream claims detached however a request ends). Bodies over
    ``ctx.max_body_bytes`` get 413; every error is JSON (``http._errors``).

    Args:
        ctx: what the routes use.
        token: the bearer token for TCP requests; ``None`` refuses every TCP
            request with 401 (for a daemon with only unix listeners).
        host_names: names of the ``tcp://`` hosts bound, accepted in ``Host``
            besides the loopback names and the connection's own address.
        allowed_hosts: ``--allow-host`` values (``NAME`` or ``NAME:PORT``)
            accepted in ``Host`` whatever port the connection arrived on.

    Returns:
        The app; serve it with hypercorn's trio worker.
    """
    app = QuartTrio("crushd")
    app.url_rule_class = LazyBuildRule  # url builders on first use: faster start
    app.config.update(
        MAX_CONTENT_LENGTH=ctx.max_body_bytes,
        PROVIDE_AUTOMATIC_OPTIONS=False,
        JSON_SORT_KEYS=False,
    )
    app.url_map.strict_slashes = False
    install_error_handlers(app)
    add_routes(app, ctx, ROUTES)
    access = AccessControl(
        app.asgi_app,
        token=token,
        host_names=host_names,
        allowed_hosts=allowed_hosts,
    )
    layers = AppLayers(ctx, ROUTES, access)
    remember_layers(app, app.asgi_app, layers)
    app.asgi_app = request_path(app.asgi_app, layers=layers)  # type: ignore[method-assign]
    return app
