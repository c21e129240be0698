"""Read one workspace's SSE event stream as ``crushd.proto.Event`` values."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

from crushd.proto import Event, Host

from ._client import Client
from ._exceptions import request_context
from ._sse import ServerSentEvent, SSEDecoder

logger = logging.getLogger("crushctl")

_STREAM_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}


def parse_event_id(raw: str | None) -> int | None:
    """Return an SSE ``id`` field as an int, or ``None`` if absent or not a number."""
    if raw is None or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def decode_event(sse: ServerSentEvent) -> Event | None:
    """Decode a two-level envelope ``{"type", "payload": {"type", "payload"}}``.

    Args:
        sse: one dispatched SSE event.

    Returns:
        The ``Event`` (``id`` 0 when the frame had none), or ``None`` when the
        data is not such an envelope (logged at warning and skipped, as the Go
        client does).

    Source: PROTOCOL.md 3.3 (envelope), C.1 (``id:``).
    """
    try:
        outer = json.loads(sse.data)
        inner = outer["payload"]
        event = Event(
            type=_text(outer["type"]),
            event_type=_text(inner["type"]),
            payload=inner["payload"],
            id=parse_event_id(sse.id) or 0,
        )
    except (ValueError, TypeError, KeyError):
        logger.warning("skipping a malformed event frame: %.200s", sse.data)
        return None
    return event


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


class EventStream:
    """The events of one open SSE response, in arrival order.

    Iterate it with ``async for``; iteration ends when the daemon ends the
    stream (workspace torn down, daemon shutting down, client retired).
    ``: ping`` heartbeats and malformed frames are skipped. Get one from
    ``open_event_stream``.

    Attributes:
        last_event_id: the ``id`` of the last event returned (``None`` before
            the first, or when the daemon sends no ids); resume from it.

    Raises:
        RequestError: from ``__anext__``, the connection broke mid-stream
            (reset, cut chunk, read timeout).
    """

    def __init__(self, chunks: AsyncIterator[bytes], *, host: Host, route: str) -> None:
        self._chunks = chunks
        self._host = host
        self._route = route
        self._decoder = SSEDecoder()
        self._ready: collections.deque[ServerSentEvent] = collections.deque()
        self.last_event_id: int | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        while True:
            while not self._ready:
                self._ready.extend(self._decoder.feed(await self._read()))
            sse = self._ready.popleft()
            self.last_event_id = parse_event_id(sse.id)
            event = decode_event(sse)
            if event is not None:
                return event

    async def _read(self) -> bytes:
        with request_context(self._host, "GET", self._route):
            return await anext(self._chunks)


@contextlib.asynccontextmanager
async def open_event_stream(
    client: Client,
    workspace_id: str,
    *,
    last_event_id: int | None = None,
    read_timeout_seconds: float | None = None,
) -> AsyncIterator[EventStream]:
    """Attach to a workspace's event stream; detach on exit.

    Sends ``GET /v1/workspaces/{id}/events?client_id=`` (with ``Last-Event-ID``
    when resuming). Entering returns once the daemon answered 200, so this
    client is attached and sees every event published from then on.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace_id: the workspace to follow.
        last_event_id: resume after this id; ``None`` starts with live events
            (plus pending prompts, PROTOCOL.md C.4). A daemon that no longer
            holds that id answers with a ``resync`` event first.
        read_timeout_seconds: the longest silence to accept between chunks;
            ``None`` waits forever. Must exceed the daemon's heartbeat (15 s).

    Yields:
        The ``EventStream``.

    Raises:
        NotFoundError: 404, ``workspace not found``.
        BadRequestError: 400, ``client_id`` is not a UUID.
        ConflictError: 409, ``client has been retired``.
        ServerUnavailable: nothing listens at the host.
        RequestError: the request failed in transit.

    Cancellation:
        Safe at any point; the response is closed (bounded, shielded), which
        detaches the stream on the daemon.

    Source: PROTOCOL.md 3 (SSE stream), C.1 (ids and resume), C.2 (heartbeat).
    """
    headers = dict(_STREAM_HEADERS)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    path = f"/workspaces/{quote(workspace_id, safe='')}/events"
    async with client._open_stream(
        path,
        params={"client_id": client.client_id},
        headers=headers,
        read_timeout_seconds=read_timeout_seconds,
    ) as response:
        chunks = response.aiter_bytes()
        route = response.request.url.path
        try:
            yield EventStream(chunks, host=client.host, route=route)
        finally:
            # httpx's iterator is an async generator: close it explicitly
            # rather than leaving it to garbage collection.
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
