"""``GET /v1/metrics``: the Prometheus text exposition of this server.

An ordinary route of the table, so over TCP it needs the token like every
other. The first scrape imports prometheus-client (``_metrics_collect``);
the counters it reads are the request path's (``AppLayers.requests``) and
the agent's.

Source: issue 15 section 1; docs/protocol.md notes on metrics.
"""

from __future__ import annotations

from quart import Response, current_app

from .._request_path import app_layers_of
from ..http import ServerContext

__all__ = ["metrics"]


async def metrics(ctx: ServerContext) -> Response:
    """``GET /v1/metrics``: every crushd family plus the process collector.

    Returns:
        200 ``text/plain; version=...`` (prometheus-client's text format).

    Raises:
        InternalError: the app was not built by ``create_app`` (500).
    """
    from crushd.errors import InternalError

    from .._metrics_collect import CONTENT_TYPE_LATEST, render

    layers = app_layers_of(current_app)[1]
    if layers is None:
        raise InternalError("the app has no request counters")
    body = render(ctx, layers.requests)
    return Response(body, status=200, content_type=CONTENT_TYPE_LATEST)
