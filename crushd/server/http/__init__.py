"""The HTTP plumbing every route shares: context, request helpers, errors, cleanups."""

from ._cleanup import RequestCleanups, on_request_end
from ._context import MAX_BODY_BYTES, ServerContext, version_info
from ._errors import error_body, error_response, install_error_handlers
from ._lazy_rule import LazyBuildRule
from ._request import (
    JSON_TYPE,
    StringLookup,
    decode_body,
    decode_json,
    empty_response,
    header_values,
    json_body,
    json_response,
    last_event_id_from,
    parse_query_client_id,
    query_client_id,
)

__all__ = [
    "JSON_TYPE",
    "MAX_BODY_BYTES",
    "LazyBuildRule",
    "RequestCleanups",
    "ServerContext",
    "StringLookup",
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
    "parse_query_client_id",
    "query_client_id",
    "version_info",
]
