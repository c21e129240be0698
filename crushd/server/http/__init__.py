"""The HTTP plumbing every route shares: context, request helpers, errors, cleanups."""

from ._cleanup import RequestCleanups, on_request_end
from ._context import MAX_BODY_BYTES, ServerContext, version_info
from ._errors import error_body, error_response, install_error_handlers, send_error
from ._hot import HotDispatch, HotMatcher, HotRequest
from ._lazy_rule import LazyBuildRule
from ._openapi import openapi_document, openapi_path
from ._openapi_page import DOCS_CSP, DOCS_PAGE
from ._request import (
    BODY_TIMEOUT_SECONDS,
    JSON_TYPE,
    AsgiHeaders,
    DisconnectedError,
    StringLookup,
    asgi_query,
    decode_body,
    decode_json,
    empty_response,
    header_values,
    json_body,
    json_response,
    last_event_id_from,
    parse_query_client_id,
    query_client_id,
    read_asgi_body,
    send_reply,
)
from ._table import (
    EVENT_STREAM,
    WEBSOCKET,
    Access,
    Handler,
    Route,
    TextBody,
    add_routes,
    came_over_tcp,
)

__all__ = [
    "BODY_TIMEOUT_SECONDS",
    "DOCS_CSP",
    "DOCS_PAGE",
    "EVENT_STREAM",
    "JSON_TYPE",
    "MAX_BODY_BYTES",
    "WEBSOCKET",
    "Access",
    "AsgiHeaders",
    "DisconnectedError",
    "Handler",
    "HotDispatch",
    "HotMatcher",
    "HotRequest",
    "LazyBuildRule",
    "RequestCleanups",
    "Route",
    "ServerContext",
    "StringLookup",
    "TextBody",
    "add_routes",
    "asgi_query",
    "came_over_tcp",
    "decode_body",
    "decode_json",
    "empty_response",
    "error_body",
    "error_response",
    "header_values",
    "install_error_handlers",
    "json_body",
    "json_response",
    "last_event_id_from",
    "on_request_end",
    "openapi_document",
    "openapi_path",
    "parse_query_client_id",
    "query_client_id",
    "read_asgi_body",
    "send_error",
    "send_reply",
    "version_info",
]
