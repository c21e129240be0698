"""Read one workspace's SSE event stream as ``crushd.proto.Event`` values."""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator

import httpx
import trio

from crushd.proto import Event, Host

from ._client import Client
from ._exceptions import CrushctlError, request_context
from ._sessions import segment
from ._sse import ServerSentEvent, SSEDecoder
from ._tasks import open_helper_nursery, receive_or_raise

logger = logging.getLogger("crushctl")

#: What the reader task hands over: an SSE event, or the error that ended it.
_Item = ServerSentEvent | CrushctlError

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

    Source: docs/protocol.md 3.3 (envelope), C.1 (``id:``).
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
    ``open_event_stream``, whose reader task fills it as chunks arrive
    (without bound: a caller that stops iterating holds the backlog).

    Attributes:
        last_event_id: the ``id`` of the last event returned (``None`` before
            the first, or when the daemon sends no ids); resume from it.

    Raises:
        RequestError: from ``__anext__``, the connection broke mid-stream
            (reset, cut chunk, read timeout).
    """

    def __init__(self, receive: trio.MemoryReceiveChannel[_Item]) -> None:
        self._receive = receive
        self.last_event_id: int | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        while True:
            item = await receive_or_raise(self._receive)
            self.last_event_id = parse_event_id(item.id)
            event = decode_event(item)
            if event is not None:
                return event


async def _pump(
    response: httpx.Response,
    send: trio.MemorySendChannel[_Item],
    host: Host,
) -> None:
    """Move the body's events into ``send`` until EOF, an error, or cancellation.

    The loop body never awaits, so this task only ever waits inside httpx's
    chain of async generators: cancelling it unwinds the whole chain instead
    of leaving suspended generators for the garbage collector.
    """
    decoder = SSEDecoder()
    with send:
        try:
            with request_context(host, "GET", response.request.url.path):
                async for chunk in response.aiter_bytes():
                    for sse in decoder.feed(chunk):
                        send.send_nowait(sse)
        except CrushctlError as exc:
            send.send_nowait(exc)


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
    client is attached and sees every event published from then on. A reader
    task runs inside the block; enter and exit it in the same task.

    Args:
        client: the client whose ``client_id`` attaches.
        workspace_id: the workspace to follow.
        last_event_id: resume after this id; ``None`` starts with live events
            (plus pending prompts, docs/protocol.md C.4). A daemon that no longer
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
        Safe at any point; the reader task is cancelled and the response
        closed (bounded, shielded), which detaches the stream on the daemon.

    Source: docs/protocol.md 3 (SSE stream), C.1 (ids and resume), C.2 (heartbeat).
    """
    headers = dict(_STREAM_HEADERS)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    path = f"/workspaces/{segment(workspace_id)}/events"
    async with client._http.open_stream(
        path,
        params={"client_id": client.client_id},
        headers=headers,
        read_timeout_seconds=read_timeout_seconds,
    ) as response:
        send, receive = trio.open_memory_channel[_Item](math.inf)
        async with open_helper_nursery() as nursery:
            nursery.start_soon(_pump, response, send, client.host)
            yield EventStream(receive)
