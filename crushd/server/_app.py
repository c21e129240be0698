"""The quart-trio app factory: one transport-agnostic app over the registry."""

from __future__ import annotations

from collections.abc import Iterable

from quart_trio import QuartTrio

from .http import (
    LazyBuildRule,
    RequestCleanups,
    ServerContext,
    install_error_handlers,
)
from .listen import AccessControl
from .routes import (
    HotRoutes,
    declare_hot_rules,
    register_agent_routes,
    register_config_routes,
    register_debug_routes,
    register_filetracker_routes,
    register_session_routes,
    register_skill_routes,
    register_system_routes,
    register_unsupported_routes,
    register_websocket_route,
    register_workspace_routes,
)


def create_app(
    ctx: ServerContext,
    *,
    token: str | None = None,
    host_names: Iterable[str] = (),
    allowed_hosts: Iterable[str] = (),
) -> QuartTrio:
    """Build the ``/v1`` app over ``ctx.registry``.

    The returned app's ``asgi_app`` is wrapped in ``RequestCleanups`` so stream
    claims are detached however a request ends, outside that in ``HotRoutes``
    (create/join, release and the SSE stream served without the framework),
    and outside that in
    ``AccessControl``: TCP requests need ``token`` and a ``Host`` naming the
    daemon, and must carry no ``Origin`` (401/403); unix-socket requests pass.
    Bodies over ``ctx.max_body_bytes`` get 413; every error is JSON
    (``_errors``).

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
    register_system_routes(app, ctx)
    register_workspace_routes(app, ctx)
    register_session_routes(app, ctx)
    register_filetracker_routes(app, ctx)
    register_config_routes(app, ctx)
    register_skill_routes(app, ctx)
    register_agent_routes(app, ctx)
    declare_hot_rules(app)
    register_websocket_route(app, ctx)
    register_unsupported_routes(app, ctx)
    register_debug_routes(app, ctx)
    guarded = AccessControl(
        HotRoutes(RequestCleanups(app.asgi_app), ctx),
        token=token,
        host_names=host_names,
        allowed_hosts=allowed_hosts,
    )
    app.asgi_app = guarded  # type: ignore[method-assign]
    return app
