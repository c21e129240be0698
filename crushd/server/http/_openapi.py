"""The OpenAPI 3.1 document of the ``/v1`` API, generated from the route table.

Nothing here is written by hand per route: each ``Route`` of
``crushd.server.routes.ROUTES`` becomes one operation (its method and path,
``<name>`` segments as ``{name}`` parameters), with the summary and
description from the handler's docstring, the request and success bodies
from the route's ``request``/``response`` (schemas from the ``crushd.proto``
models, ``_openapi_schema``), and the ``{"message": str}`` error body for
every 4xx and 5xx. crushd's additions are marked ``x-crushd-addition`` (the
docs/protocol.md part C section) and named in the description.

Source: issue 15 section 2; docs/protocol.md 0.5 (errors), part 1 (routes).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from crushd.proto import ErrorBody

from ._openapi_schema import SchemaBook, models_in
from ._request import JSON_TYPE
from ._table import WEBSOCKET, Access, Route, TextBody

__all__ = ["openapi_document", "openapi_path"]

_SEGMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
#: A docstring's leading "`GET /v1/x` (hot): " (the document says it already).
_ROUTE_PREFIX = re.compile(r"^`[A-Z]+ [^`]*`(?:\s*\([^)]*\))?:\s*")
_ERROR = {"$ref": "#/components/schemas/ErrorBody"}
_PATH_NAMES = {
    "workspace_id": "A workspace id (a UUID minted by the daemon).",
    "session_id": "A session id.",
    "client_id": "A client's UUID (docs/protocol.md 0.6).",
    "lsp": "An LSP name.",
}
#: Tag of the paths whose first segment after the workspace is not a tag.
_TAG_ALIASES = {
    "current-session": "workspaces",
    "clients": "workspaces",
    "ws": "events",
    "messages": "sessions",
    "filetracker": "files",
    "providers": "config",
    "project": "config",
    "questions": "permissions",
}
_INTRO = (
    "The crushd HTTP API (docs/protocol.md): plain HTTP/1.1 over a unix socket "
    'or TCP. Every error is `{"message": "..."}` with a 4xx or 5xx status. '
    "Over TCP every route needs the bearer token; unix-socket peers of the "
    "daemon's user need none. Generated from the daemon's route table."
)


def openapi_path(path: str) -> str:
    """``/v1/workspaces/<workspace_id>`` -> ``/v1/workspaces/{workspace_id}``."""
    return _SEGMENT.sub(r"{\1}", path)


def openapi_document(routes: Iterable[Route], *, version: str) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of ``routes``.

    Args:
        routes: the route table (``ROUTES``), debug routes included.
        version: the daemon's version, the document's ``info.version``.

    Returns:
        The document as JSON data (dicts, lists, strings, numbers).

    Raises:
        TypeError: a route's ``request``/``response`` has no JSON shape.
    """
    table = list(routes)
    outputs = {m for r in table for m in models_in(r.response)}
    book = SchemaBook(outputs | {ErrorBody})
    book.schema(ErrorBody, output=True)
    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for route in table:
        method = "get" if route.method == WEBSOCKET else route.method.lower()
        operation = _operation(route, book, _operation_id(route, taken))
        paths.setdefault(openapi_path(route.path), {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "crushd", "version": version, "description": _INTRO},
        "paths": paths,
        "components": {"schemas": book.components, "securitySchemes": _SECURITY},
        "security": [{}, {"bearer": []}],
    }


_SECURITY = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "TCP listeners only (docs/operations.md, Security model).",
    }
}


def _operation_id(route: Route, taken: set[str]) -> str:
    name = route.handler.__name__
    if name in taken:
        name = re.sub(r"\W+", "_", f"{route.method.lower()}{route.path}").strip("_")
    taken.add(name)
    return name


def _operation(route: Route, book: SchemaBook, operation_id: str) -> dict[str, Any]:
    summary, description = _docstring(route)
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": [_tag(route.path)],
        "responses": _responses(route, book),
    }
    if parameters := _parameters(route):
        operation["parameters"] = parameters
    if route.request is not None:
        schema = book.schema(route.request, output=False)
        operation["requestBody"] = {
            "required": not route.optional_body,
            "content": {JSON_TYPE: {"schema": schema}},
        }
    if route.addition:
        operation["x-crushd-addition"] = route.addition
    return operation


def _docstring(route: Route) -> tuple[str, str]:
    """(summary, description): the handler docstring plus the route's marks."""
    text = inspect.cleandoc(route.handler.__doc__ or "").replace("``", "`")
    first, _, rest = text.partition("\n")
    summary = _ROUTE_PREFIX.sub("", first).strip()
    notes = [rest.strip()]
    if route.addition:
        notes.append(f"crushd addition (docs/protocol.md {route.addition}).")
    if route.access is Access.DEBUG:
        notes.append("Only with `crushd serve --debug-endpoints`; unix sockets only.")
    if route.status == 501:
        notes.append(f"Not served by crushd: `{route.method} {route.path}` is 501.")
    summary = summary[:1].upper() + summary[1:] or f"{route.method} {route.path}"
    return summary, "\n\n".join(note for note in notes if note)


def _tag(path: str) -> str:
    parts = [p for p in path.split("/")[2:] if p and not p.startswith("<")]
    if not parts or parts[0] not in {"workspaces", "debug"}:
        return "system"
    if parts[0] == "debug":
        return "debug"
    return _TAG_ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else "workspaces"


def _parameters(route: Route) -> list[dict[str, Any]]:
    string = {"type": "string"}
    found = [
        {"name": name, "in": "path", "required": True, "schema": string}
        | ({"description": _PATH_NAMES[name]} if name in _PATH_NAMES else {})
        for name in _SEGMENT.findall(route.path)
    ]
    if route.client_id:
        found.append(_query("client_id", required=True))
    found.extend(_query(name, required=False) for name in route.query)
    return found


def _query(name: str, *, required: bool) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required}
    return parameter | {"schema": {"type": "string"}}


def _responses(route: Route, book: SchemaBook) -> dict[str, Any]:
    error = {"description": "An error.", "content": {JSON_TYPE: {"schema": _ERROR}}}
    answers: dict[str, Any] = {}
    status = str(route.status)
    if route.status >= 400:
        answers[status] = error | {"description": "Not supported by crushd."}
    elif route.method == WEBSOCKET:
        answers["101"] = {"description": "WebSocket upgrade: one text frame per event."}
    elif isinstance(route.response, TextBody):
        text = {route.response.media_type: {"schema": {"type": "string"}}}
        answers[status] = {"description": route.response.description, "content": text}
    elif route.response is None:
        answers[status] = {"description": "Success: an empty body, no Content-Type."}
    else:
        schema = book.schema(route.response, output=True)
        content = {JSON_TYPE: {"schema": schema}}
        answers[status] = {"description": "Success.", "content": content}
    return answers | {"4XX": error, "5XX": error}
