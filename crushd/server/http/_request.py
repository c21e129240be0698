"""Request decoding and response encoding shared by every route.

The one helper set of both request paths: the quart routes read ``request``
through ``decode_body``/``query_client_id``; the hot routes (plain ASGI,
``_hot``) read the scope through ``AsgiHeaders``, ``asgi_query`` and
``read_asgi_body`` and answer with ``send_reply``. Both decode JSON with
``decode_json`` and validate with the same functions, so a bad request gets
the same answer whichever path serves it.

Source: docs/protocol.md 0.3 (answers), quart's request body rules
(``MAX_CONTENT_LENGTH`` -> 413, ``BODY_TIMEOUT`` 60 s -> 408).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl

import trio
from quart import Response, request

from crushd.config import scrub_known_secret_bytes
from crushd.errors import BadRequest, DecodeError, PayloadTooLarge, RequestTimeout
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

#: How long a request body may take to arrive (quart's ``BODY_TIMEOUT``).
BODY_TIMEOUT_SECONDS = 60.0


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


class AsgiHeaders:
    """Case-insensitive first-value lookup over ASGI header pairs (a ``StringLookup``).

    Args:
        pairs: the scope's ``headers`` (lower-case names, latin-1 bytes).
    """

    def __init__(self, pairs: list[tuple[bytes, bytes]]) -> None:
        self._pairs = pairs

    def get(self, key: str) -> str | None:
        """Return the first value of header ``key``, or ``None``."""
        values = header_values(self._pairs, key.lower().encode())
        return values[0].decode("latin-1") if values else None


def asgi_query(scope: Any) -> dict[str, str]:
    """The query parameters, first value of each (werkzeug's ``args.get``)."""
    text = bytes(scope.get("query_string", b"")).decode("utf-8", "replace")
    args: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        args.setdefault(name, value)
    return args


class DisconnectedError(Exception):
    """The client went away while its request body was being read."""


async def read_asgi_body(scope: Any, receive: Any, limit: int) -> bytes:
    """Read a plain-ASGI request's whole body, at most ``limit`` bytes.

    Raises:
        PayloadTooLarge: ``Content-Length`` or the bytes received exceed
            ``limit`` (413), as quart's ``MAX_CONTENT_LENGTH``.
        RequestTimeout: the body took over ``BODY_TIMEOUT_SECONDS`` (408).
        DisconnectedError: the client closed the connection first.
    """
    declared = AsgiHeaders(scope.get("headers", [])).get("content-length") or ""
    # ASCII digits only: str.isdigit() also takes "\xb2" (superscript two),
    # which int() refuses. A bad value is h11's to reject; here it is ignored.
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    with trio.move_on_after(BODY_TIMEOUT_SECONDS) as timer:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise DisconnectedError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    assert timer.cancelled_caught
    raise RequestTimeout


async def send_reply(
    send: Any,
    status: int,
    body: bytes,
    content_type: str | None = JSON_TYPE,
    *,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
    prefix: str = "http",
) -> None:
    """Send a whole plain-ASGI response: ``Content-Type``, ``Content-Length``, body.

    Args:
        send: the ASGI ``send``.
        status: the HTTP status.
        body: the whole body.
        content_type: ``None`` sends no ``Content-Type`` (upstream's empty 200s).
        extra_headers: appended after the two (lower-case names).
        prefix: ``"http"``, or ``"websocket.http"`` to refuse a handshake.
    """
    headers = [] if content_type is None else [(b"content-type", content_type.encode())]
    headers.append((b"content-length", str(len(body)).encode()))
    headers.extend(extra_headers)
    start = {"type": f"{prefix}.response.start", "status": status}
    await send({**start, "headers": headers})
    await send({"type": f"{prefix}.response.body", "body": body, "more_body": False})
