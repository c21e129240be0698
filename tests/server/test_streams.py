"""The SSE and WebSocket event streams: framing, heartbeat, resume, ends, detach."""

from __future__ import annotations

import json
import uuid
from contextlib import aclosing
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, wrap_client_stream

from crushd.server import sse_frames
from crushd.workspace import PING_FRAME, EventLog

from .conftest import Harness, uds_http


def new_id() -> str:
    return str(uuid.uuid4())


async def create(h: Harness, path: Path, client_id: str) -> str:
    status, body = await h.json(
        "POST", "/v1/workspaces", {"path": str(path), "client_id": client_id}
    )
    assert status == 200
    return str(body["id"])


def event_log(h: Harness, ws: str) -> EventLog:
    log = h.registry.get(ws).workspace.log
    assert isinstance(log, EventLog)
    return log


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps after 20 ms of real idleness.

    Creating the workspace writes through worker threads; with a threshold
    of 0 the clock would race them and the run loop spin for seconds.
    """
    return trio.testing.MockClock(autojump_threshold=0.02)


async def test_sse_frames_heartbeat_when_idle(
    harness: Harness, project: Path, idle_clock: trio.testing.MockClock
) -> None:
    """An idle stream writes ': ping' every heartbeat interval, then the next event."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    ticket = harness.registry.attach(ws, client_id)
    log = event_log(harness, ws)
    start = trio.current_time()
    async with aclosing(sse_frames(log, ticket, log.head, 15.0)) as frames:
        assert await anext(frames) == PING_FRAME
        assert trio.current_time() - start == pytest.approx(15.0)
        log.publish("session", "created", {"id": "s"})
        assert (await anext(frames)).startswith(b"id: 1\ndata: ")


async def test_sse_frames_coalesce_pending_events(
    harness: Harness, project: Path
) -> None:
    """Everything pending is written as one chunk, with an id on every frame."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    ticket = harness.registry.attach(ws, client_id)
    log = event_log(harness, ws)
    for index in range(3):
        log.publish("session", "created", {"n": index})
    async with aclosing(sse_frames(log, ticket, 0, 15.0)) as frames:
        chunk = await anext(frames)
    assert chunk.count(b"\n\n") == 3
    assert [line for line in chunk.split(b"\n") if line.startswith(b"id:")] == [
        b"id: 1",
        b"id: 2",
        b"id: 3",
    ]


async def test_sse_frames_end_when_client_retired(
    harness: Harness, project: Path
) -> None:
    """Retiring a client ends its open stream (decision B.8)."""
    client_id, other = new_id(), new_id()
    ws = await create(harness, project, client_id)
    harness.registry.attach(ws, other)
    ticket = harness.registry.attach(ws, client_id)
    log = event_log(harness, ws)
    async with aclosing(sse_frames(log, ticket, log.head, 15.0)) as frames:
        with trio.fail_after(1):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.lowlevel.checkpoint)
                harness.registry.retire(client_id)
                assert [chunk async for chunk in frames] == []


async def test_sse_frames_drain_then_end_on_teardown(
    harness: Harness, project: Path
) -> None:
    """A torn-down workspace's streams get what was published, then end."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    ticket = harness.registry.attach(ws, client_id)
    log = event_log(harness, ws)
    log.publish("session", "deleted", {"id": "s"})
    harness.registry.detach(ticket)  # detach grace 10 s: still alive
    harness.registry.release(ws, client_id)
    delivered = log.traffic.delivered
    async with aclosing(sse_frames(log, ticket, 0, 15.0)) as frames:
        chunks = [chunk async for chunk in frames]
    assert len(chunks) == 1
    assert b'"deleted"' in chunks[0]
    assert log.traffic.delivered - delivered == log.head  # counted as written


async def test_sse_response_headers_and_detach_on_disconnect(
    harness: Harness, project: Path, server: Path
) -> None:
    """The stream answers text/event-stream at once; closing it detaches the claim."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    url = f"/v1/workspaces/{ws}/events?client_id={client_id}"
    async with uds_http(server) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        (claim,) = harness.registry.roster(ws)
        assert (claim.streams, claim.held) == (1, False)
    with trio.fail_after(5):
        while harness.registry.roster(ws)[0].streams:
            await trio.sleep(0.01)
    (claim,) = harness.registry.roster(ws)
    assert claim.held  # the detach grace holds the workspace


async def test_sse_stream_ends_cleanly_on_teardown(
    harness: Harness, project: Path, server: Path
) -> None:
    """When the workspace is torn down the stream ends with a terminating chunk."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    url = f"/v1/workspaces/{ws}/events?client_id={client_id}"
    async with uds_http(server) as client, client.stream("GET", url) as response:
        harness.registry.retire(client_id)
        with trio.fail_after(5):
            body = b"".join([chunk async for chunk in response.aiter_raw()])
    assert body == b""


async def test_websocket_frames_resume_and_close(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    """WS frames carry "id"; a first last_event_id frame replays; retire closes 1000."""
    client_id = new_id()
    ws = await create(harness, project, client_id)
    log = event_log(harness, ws)
    log.publish("session", "created", {"id": "before"})
    delivered = log.traffic.delivered
    resource = f"/v1/workspaces/{ws}/ws?client_id={client_id}"
    stream = await trio.open_unix_socket(str(server))
    connection = await wrap_client_stream(nursery, stream, "crushd", resource)
    await connection.send_message(json.dumps({"last_event_id": 0}))
    with trio.fail_after(5):
        first = json.loads(await connection.get_message())
    assert first["id"] == 1
    assert first["payload"]["payload"] == {"id": "before"}
    assert harness.registry.roster(ws)[0].streams == 1
    log.publish("session", "created", {"id": "live"})
    with trio.fail_after(5):
        live = json.loads(await connection.get_message())
    assert (live["id"], live["type"]) == (2, "session")
    assert log.traffic.delivered - delivered == 2  # each frame counted once
    harness.registry.retire(client_id)
    with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
        await connection.get_message()
    assert closed.value.reason is not None
    assert closed.value.reason.code == 1000
    await connection.aclose()
    await stream.aclose()


async def test_websocket_rejects_unknown_workspace(
    harness: Harness, server: Path
) -> None:
    """A WebSocket for an unknown workspace is refused with a 404 before the upgrade."""
    resource = f"/v1/workspaces/{new_id()}/ws?client_id={new_id()}"
    stream = await trio.open_unix_socket(str(server))
    try:
        with pytest.RaisesGroup(ConnectionRejected, flatten_subgroups=True) as refused:
            async with trio.open_nursery() as inner:
                await wrap_client_stream(inner, stream, "crushd", resource)
    finally:
        await stream.aclose()
    rejected = refused.value.exceptions[0]
    assert isinstance(rejected, ConnectionRejected)
    assert rejected.status_code == 404
    assert json.loads(rejected.body or b"") == {"message": "workspace not found"}
