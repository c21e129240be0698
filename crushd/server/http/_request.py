"""Request decoding and response encoding shared by every route."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from quart import Response, request

from crushd.config import scrub_known_secret_bytes
from crushd.errors import BadRequest, DecodeError
from crushd.proto import (
    MAX_EVENT_ID,
    from_json,
    load_json,
    parse_event_id,
    to_json,
)
from crushd.registry import validate_query_client_id

T = TypeVar("T")

JSON_TYPE = "application/json"


def header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of header ``name`` (lower case) in ASGI header pairs, in order."""
    return [value for key, value in headers if key.lower() == name]


class StringLookup(Protocol):
    """Anything with ``get(key)``: query args, headers (werkzeug's or a dict)."""

    def get(self, key: str) -> str | None:
        """Return the value for ``key`` or ``None``."""


def json_body(value: object) -> bytes:
    """Encode ``value`` as one line of JSON plus a newline (Go's encoder shape).

    Every JSON answer (the quart routes, the hot routes, every error body)
    is encoded here, so a secret value the daemon knows is masked here,
    whatever field holds it (``crushd.config.scrub_known_secret_bytes``).

    Args:
        value: a wire model, a list of them, or plain JSON data.
    """
    return scrub_known_secret_bytes(to_json(value)) + b"\n"


def json_response(value: object, status: int = 200) -> Response:
    """Return ``value`` as a JSON response (``json_body``) with ``status``."""
    return Response(json_body(value), status=status, content_type=JSON_TYPE)


class _EmptyResponse(Response):
    # No default Content-Type: upstream's empty 200s carry none.
    default_mimetype = None  # type: ignore[assignment]


def empty_response(status: int = 200) -> Response:
    """Return an empty success body with no Content-Type (docs/protocol.md 0.3)."""
    return _EmptyResponse(b"", status=status)


async def decode_body(cls: type[T]) -> T:
    """Read the request body as JSON into ``cls``; Content-Type is ignored.

    Raises:
        DecodeError: empty body, malformed JSON or a type mismatch (400
            ``failed to decode request``, with the detail appended for type
            mismatches, nesting deeper than 64 levels and unpaired
            surrogates).
        RequestEntityTooLarge: from Quart when over ``MAX_CONTENT_LENGTH`` (413).
    """
    return decode_json(await request.get_data(cache=False, as_text=False), cls)


def decode_json(data: bytes | str, cls: type[T]) -> T:
    """Decode a request body into ``cls``; the errors of ``decode_body``.

    The one JSON decode of both request paths (quart routes and ``_hot``):
    bodies nested deeper than ``MAX_JSON_DEPTH`` or holding an unpaired
    surrogate are refused here (``load_json``), before any route sees them.
    ``cls`` is a wire model, so the body must be a JSON object.
    """
    if not data.strip():
        raise DecodeError
    try:
        value = load_json(data)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {type(value).__name__}")
        return from_json(value, cls)
    except ValueError as exc:
        detail = str(exc)
        if detail.startswith("invalid JSON"):
            raise DecodeError from None
        raise DecodeError(f"failed to decode request: {detail}") from None


def query_client_id() -> str:
    """Return the ``client_id`` query parameter, validated.

    Raises:
        ClientIDRequired, ClientIDNotUUID: ``client_id is required`` or
            ``client_id is not a valid UUID`` (400), the upstream handler
            texts (``crushd.registry.validate_query_client_id``).
    """
    return parse_query_client_id(request.args)


def parse_query_client_id(args: StringLookup) -> str:
    """Validate ``args["client_id"]``; see ``query_client_id`` for the errors."""
    return validate_query_client_id(args.get("client_id"))


def last_event_id_from(headers: StringLookup, args: StringLookup) -> int | None:
    """Return the resume point: ``Last-Event-ID`` header, else ``?last_event_id=``.

    Args:
        headers: the request headers (case-insensitive ``get``).
        args: the query parameters.

    Returns:
        The event id, or ``None`` when neither is given (start at the head).

    Raises:
        BadRequest: the value is not a decimal integer from 0 to 2^63 - 1
            (400); ``parse_event_id`` says what is accepted.

    Source: docs/protocol.md C.1 (crushd addition).
    """
    raw = headers.get("Last-Event-ID") or args.get("last_event_id")
    if raw is None or raw == "":
        return None
    try:
        return parse_event_id(raw)
    except ValueError:
        raise BadRequest(
            f"Last-Event-ID must be a decimal integer from 0 to {MAX_EVENT_ID}"
        ) from None
