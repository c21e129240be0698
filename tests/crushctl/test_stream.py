"""open_event_stream / EventStream: request shape, decoding, endings and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio.testing

from crushctl import (
    Client,
    ConflictError,
    NotFoundError,
    RequestError,
    ServerSentEvent,
    decode_event,
    open_event_stream,
    parse_event_id,
)
from crushd.proto import Event, parse_host

CID = "0b6f1c1e-4a0e-4a53-9d43-0c1b2f5d7a11"


def frame(seq: int, type_: str, event_type: str, payload: object) -> bytes:
    envelope = {"type": type_, "payload": {"type": event_type, "payload": payload}}
    return b"id: %d\ndata: %s\n\n" % (seq, json.dumps(envelope).encode())


class Body(httpx.AsyncByteStream):
    """An SSE body: the given chunks, then EOF, an error, or silence."""

    def __init__(
        self, chunks: list[bytes], *, error: Exception | None = None, hang: bool = False
    ) -> None:
        self.chunks = chunks
        self.error = error
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await trio.lowlevel.checkpoint()
            yield chunk
        if self.error is not None:
            raise self.error
        if self.hang:
            await trio.sleep_forever()

    async def aclose(self) -> None:
        self.closed = True


class Events:
    """A transport answering the events route with one prepared response."""

    def __init__(self, status: int = 200, body: Body | None = None) -> None:
        self.status = status
        self.body = body or Body([])
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json={"message": "nope"})
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, stream=self.body)


def client_for(events: Events) -> Client:
    return Client(
        parse_host("unix:///tmp/crushctl-test.sock"),
        client_id=CID,
        transport=httpx.MockTransport(events),
    )


async def collect(client: Client, **kwargs: int) -> list[Event]:
    async with open_event_stream(client, "w1", **kwargs) as stream:
        return [event async for event in stream]


async def test_open_event_stream_request_shape() -> None:
    """The stream GETs .../events?client_id= with SSE headers and no read timeout."""
    events = Events()
    async with client_for(events) as client:
        await collect(client)
    request = events.requests[0]
    assert request.url.path == "/v1/workspaces/w1/events"
    assert dict(request.url.params) == {"client_id": CID}
    assert request.headers["Accept"] == "text/event-stream"
    assert "Last-Event-ID" not in request.headers
    assert request.extensions["timeout"]["read"] is None
    assert request.extensions["timeout"]["connect"] == 5.0


async def test_open_event_stream_sends_last_event_id() -> None:
    """Resuming sends the Last-Event-ID header."""
    events = Events()
    async with client_for(events) as client:
        await collect(client, last_event_id=41)
    assert events.requests[0].headers["Last-Event-ID"] == "41"


async def test_event_stream_decodes_events_and_skips_noise() -> None:
    """Envelopes become Events with ids; pings and malformed frames are skipped."""
    stream = b"".join(
        [
            b": ping\n\n",
            frame(1, "session", "created", {"id": "s1"}),
            b"id: 2\ndata: not json\n\n",
            frame(3, "message", "updated", {"id": "m1"}),
        ]
    )
    # Split every frame mid-line to prove chunk boundaries do not matter.
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    events = Events(body=Body(chunks))
    async with client_for(events) as client:
        got = await collect(client)
    assert got == [
        Event("session", "created", {"id": "s1"}, 1),
        Event("message", "updated", {"id": "m1"}, 3),
    ]


async def test_event_stream_resync_is_an_event() -> None:
    """A resync frame arrives as an Event of type resync with its payload."""
    resync = frame(0, "resync", "updated", {"workspace_id": "w1", "oldest_id": 1})
    events = Events(body=Body([resync]))
    async with client_for(events) as client:
        got = await collect(client, last_event_id=999)
    assert got == [
        Event("resync", "updated", {"workspace_id": "w1", "oldest_id": 1}, 0)
    ]


async def test_event_stream_tracks_last_event_id() -> None:
    """last_event_id follows the ids of the events returned."""
    events = Events(
        body=Body([frame(4, "a", "created", {}), frame(5, "b", "created", {})])
    )
    seen: list[int | None] = []
    async with client_for(events) as client, open_event_stream(client, "w1") as stream:
        seen.append(stream.last_event_id)
        seen.extend([stream.last_event_id async for _ in stream])
    assert seen == [None, 4, 5]


async def test_event_stream_closes_response_on_exit() -> None:
    """Leaving the block closes the response body even while it is still open."""
    body = Body([frame(1, "a", "created", {})], hang=True)
    async with client_for(Events(body=body)) as client:
        async with open_event_stream(client, "w1") as stream:
            await anext(stream)
        assert body.closed


async def test_event_stream_cancelled_while_waiting_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a reader blocked on a silent stream still closes the response."""
    body = Body([], hang=True)
    async with client_for(Events(body=body)) as client:
        with trio.move_on_after(1):
            async with open_event_stream(client, "w1") as stream:
                await anext(stream)
    assert body.closed


@pytest.mark.parametrize(
    ("status", "cls"), [(404, NotFoundError), (409, ConflictError)]
)
async def test_open_event_stream_error_status(
    status: int, cls: type[Exception]
) -> None:
    """A non-200 answer raises the status's error on entering."""
    async with client_for(Events(status=status)) as client:
        with pytest.raises(cls, match="nope"):
            await collect(client)


async def test_event_stream_broken_connection_is_request_error() -> None:
    """A connection error mid-stream raises RequestError from iteration."""
    body = Body([frame(1, "a", "created", {})], error=httpx.ReadError("reset"))
    async with (
        client_for(Events(body=body)) as client,
        open_event_stream(client, "w1") as stream,
    ):
        assert (await anext(stream)).id == 1
        with pytest.raises(RequestError, match="GET /v1/workspaces/w1/events failed"):
            await anext(stream)


def test_decode_event_rejects_wrong_shapes() -> None:
    """Frames that are not two-level envelopes decode to None."""
    for data in ("[]", '{"type":"x"}', '{"type":1,"payload":{"type":"c","payload":1}}'):
        assert decode_event(ServerSentEvent(data)) is None


def test_parse_event_id() -> None:
    """Only ASCII digit ids parse; anything else is None."""
    assert parse_event_id("12") == 12
    assert parse_event_id(None) is None
    assert parse_event_id("x1") is None
    assert parse_event_id("") is None


async def test_event_stream_error_leaves_block_unwrapped() -> None:
    """A RequestError from iteration propagates out of the block as itself."""
    body = Body([], error=httpx.ReadError("reset"))
    async with client_for(Events(body=body)) as client:
        with pytest.raises(RequestError):
            await collect(client)
