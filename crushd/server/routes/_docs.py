"""API documentation routes: the OpenAPI document and a page that renders it.

``GET /v1/openapi.json`` is generated from the route table (``ROUTES``) and
the ``crushd.proto`` models on its first request, then kept for the app's
life (in ``app.extensions``), so neither start-up nor later requests pay for
it. ``GET /v1/docs/`` is a self-contained page (no remote assets: the daemon
may have no internet) that fetches the document and renders it.

Source: issue 15 section 2; upstream serves a Swagger UI under ``/v1/docs/``.
"""

from __future__ import annotations

from quart import Response, current_app

from ..http import (
    DOCS_CSP,
    DOCS_PAGE,
    JSON_TYPE,
    ServerContext,
    json_body,
    openapi_document,
)

_CACHE_KEY = "crushd.openapi"


async def openapi(ctx: ServerContext) -> Response:
    """``GET /v1/openapi.json``: the OpenAPI 3.1 document of every ``/v1`` route.

    Built from the route table and the wire models on the first request,
    then served from the app's cache.
    """
    body = current_app.extensions.get(_CACHE_KEY)
    if body is None:
        from ._table import ROUTES  # the table imports this module

        document = openapi_document(ROUTES, version=ctx.version.version)
        body = current_app.extensions[_CACHE_KEY] = json_body(document)
    return Response(body, content_type=JSON_TYPE)


async def docs_page(ctx: ServerContext) -> Response:
    """``GET /v1/docs/``: an HTML page rendering ``/v1/openapi.json``.

    One inline page, no remote assets; its Content-Security-Policy allows
    nothing but its own script and style and requests to the daemon.
    """
    headers = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff"}
    return Response(DOCS_PAGE, content_type="text/html; charset=utf-8", headers=headers)
