"""Direct SSE writes: one leader per publish fans events out to parked streams."""

from __future__ import annotations

import gc
import json
import math
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import cast

import attrs
import h11
import pytest
import trio
import trio.lowlevel
import trio.testing
from hypercorn.events import RawData
from hypercorn.trio.tcp_server import TCPServer

from crushd.server import sse_frames
from crushd.server.patches import _hypercorn_fixes, _internals
from crushd.server.patches._hypercorn_fixes import install_send_timeout
from crushd.server.streams import _direct
from crushd.server.streams._direct import (
    ChunkWriter,
    DirectFollower,
    chunk_writer,
    fanout_for,
)
from crushd.workspace import PING_FRAME, EventLog

from .conftest import Harness, serve_harness


@attrs.define
class FakeWriter:
    """Records direct writes; ``accept`` decides, ``leave_pending`` fakes a partial."""

    accept: bool = True
    leave_pending: bool = False
    pending: bool = False
    written: list[bytes] = attrs.field(factory=list)

    def write(self, frame: bytes) -> bool:
        if not self.accept:
            return False
        self.written.append(frame)
        self.pending = self.leave_pending
        return True


async def park(follower: DirectFollower, woken: list[DirectFollower]) -> None:
    await follower.wait()
    woken.append(follower)


@attrs.define
class Parked:
    """Streams parked on one log, and the ones woken so far (in wake order)."""

    followers: list[DirectFollower]
    woken: list[DirectFollower]
    nursery: trio.Nursery


@asynccontextmanager
async def parked(
    log: EventLog, writers: list[FakeWriter | None]
) -> AsyncIterator[Parked]:
    """Park one stream per writer at cursor 0; on exit let the woken settle."""
    followers = [DirectFollower(log, 0, w) for w in writers]
    woken: list[DirectFollower] = []
    async with trio.open_nursery() as nursery:
        for follower in followers:
            nursery.start_soon(park, follower, woken)
        await trio.testing.wait_all_tasks_blocked()
        yield Parked(followers, woken, nursery)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()


def ids(data: bytes) -> list[int]:
    return [int(line[4:]) for line in data.split(b"\n") if line.startswith(b"id: ")]


async def test_publish_wakes_one_leader_which_writes_everyone() -> None:
    """Of three parked streams one wakes; it writes the events to the other
    two and to itself, one chunk each, the same bytes for all."""
    log = EventLog("ws", 4096)
    writers = [FakeWriter() for _ in range(3)]
    async with parked(log, list(writers)) as streams:
        log.publish("session", "created", {"n": 1})
        log.publish("session", "created", {"n": 2})
        await trio.testing.wait_all_tasks_blocked()
        assert len(streams.woken) == 1  # the leader, in any order trio picks
        assert [f.cursor for f in streams.followers] == [2, 2, 2]
        written = [w.written for w in writers]
        assert [ids(b"".join(w)) for w in written] == [[1, 2]] * 3
        assert [len(w) for w in written] == [1, 1, 1]  # one chunk each
        assert written[0][0] is written[1][0] is written[2][0]
        assert log.traffic.delivered == 6  # two events to three streams


async def test_a_cancelled_leader_writes_the_others_but_not_itself() -> None:
    """A leader whose wait was cancelled (its stream may be ending) still fans
    out to the parked streams; its own events are left to its task."""
    log = EventLog("ws", 4096)
    writer, other = FakeWriter(), FakeWriter()
    leader = DirectFollower(log, 0, writer)
    async with trio.open_nursery() as nursery:
        scope = trio.CancelScope()
        nursery.start_soon(_wait_in, scope, leader)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(DirectFollower(log, 0, other).wait)
        await trio.testing.wait_all_tasks_blocked()
        scope.cancel()  # cancelled, not yet run: still parked...
        log.publish("session", "created", {"n": 1})  # ...so chosen as leader
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert (writer.written, ids(b"".join(other.written))) == ([], [1])
    assert leader.cursor == 0


async def test_a_spent_slice_hands_the_fan_out_to_the_next_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the time slice the leader stops; a woken stream serves the rest."""
    monkeypatch.setattr(_direct, "FANOUT_SLICE_SECONDS", -1.0)  # spent at once
    log = EventLog("ws", 4096)
    writers = [FakeWriter() for _ in range(4)]
    async with parked(log, list(writers)) as streams:
        log.publish("session", "created", {"n": 1})
        await trio.testing.wait_all_tasks_blocked()
        # Each leader writes its own event, then hands on before the next
        # stream's: every stream ends up woken, each written to once, by
        # itself; none lost, none written twice.
        followers = streams.followers
        assert sorted(map(id, streams.woken)) == sorted(map(id, followers))
        assert [ids(b"".join(w.written)) for w in writers] == [[1]] * 4
        assert [f.cursor for f in followers] == [1, 1, 1, 1]


async def test_streams_already_at_the_head_are_skipped_not_handed_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hand-off goes only to a stream that still has events to get."""
    log = EventLog("ws", 4096)
    async with parked(log, [FakeWriter() for _ in range(3)]) as streams:
        log.publish("session", "created", {"n": 1})
        await trio.testing.wait_all_tasks_blocked()
        (leader,) = streams.woken
        streams.woken.clear()
        leader.cursor = log.head  # as its task does after writing its own
        streams.nursery.start_soon(park, leader, streams.woken)
        await trio.testing.wait_all_tasks_blocked()
        # Everyone is at the head: a spent slice wakes nobody new.
        monkeypatch.setattr(_direct, "FANOUT_SLICE_SECONDS", -1.0)
        fanout_for(log).fan_out(leader)
        await trio.testing.wait_all_tasks_blocked()
        assert streams.woken == []


async def test_stream_that_cannot_take_the_write_is_woken() -> None:
    """A declined direct write wakes that stream so it writes the normal way."""
    log = EventLog("ws", 4096)
    async with parked(log, [FakeWriter(accept=False) for _ in range(2)]) as streams:
        log.publish("session", "created", {})
    assert sorted(map(id, streams.woken)) == sorted(map(id, streams.followers))
    assert [f.cursor for f in streams.followers] == [0, 0]
    assert log.traffic.delivered == 0  # the streams will write (and count) it


async def test_stream_without_writer_is_woken() -> None:
    """A stream with no direct writer (not hypercorn HTTP/1.1) is always woken."""
    log = EventLog("ws", 4096)
    async with parked(log, [None, None]) as streams:
        log.publish("session", "created", {})
    assert len(streams.woken) == 2


async def test_wait_returns_at_once_when_behind_or_closed() -> None:
    """A stream behind the head, or on a closed log, does not park."""
    log = EventLog("ws", 4096)
    log.publish("session", "created", {})
    with trio.testing.assert_checkpoints():
        await DirectFollower(log, 0, None).wait()
    log.close()
    with trio.testing.assert_checkpoints():
        await DirectFollower(log, 1, None).wait()


async def test_close_of_log_wakes_parked_streams() -> None:
    """Closing the log wakes every parked stream (teardown ends streams)."""
    log = EventLog("ws", 4096)
    followers = [DirectFollower(log, 0, FakeWriter()) for _ in range(3)]
    woken: list[DirectFollower] = []
    async with trio.open_nursery() as nursery:
        for follower in followers:
            nursery.start_soon(park, follower, woken)
        await trio.testing.wait_all_tasks_blocked()
        log.close()
    assert len(woken) == 3
    assert not fanout_for(log).parked


async def test_cancelled_leader_still_fans_out() -> None:
    """A leader whose wait is cancelled right after it was chosen still fans out."""
    log = EventLog("ws", 4096)
    writer = FakeWriter()
    leader, other = DirectFollower(log, 0, FakeWriter()), DirectFollower(log, 0, writer)
    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_wait_in, scope, leader)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(park, other, [])
        await trio.testing.wait_all_tasks_blocked()
        log.publish("session", "created", {})
        assert fanout_for(log).leader is leader
        scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert ids(b"".join(writer.written)) == [1]
        assert fanout_for(log).leader is None
        assert other in fanout_for(log).parked  # written to, never woken
        nursery.cancel_scope.cancel()


async def _wait_in(scope: trio.CancelScope, follower: DirectFollower) -> None:
    with scope:
        await follower.wait()


async def test_closed_leader_hands_the_fan_out_on() -> None:
    """A stream closed while chosen leader fans out in its close()."""
    log = EventLog("ws", 4096)
    writer = FakeWriter()
    leader, other = DirectFollower(log, 0, FakeWriter()), DirectFollower(log, 0, writer)
    fanout = fanout_for(log)
    fanout.parked.update({leader: None, other: None})
    log.publish("session", "created", {})
    assert fanout.leader is leader
    leader.close()
    assert fanout_for(log).leader is None
    assert ids(b"".join(writer.written)) == [1]


async def test_partial_direct_write_wakes_stream_to_flush() -> None:
    """A write that left bytes pending wakes the stream, which yields a ping."""
    log = EventLog("ws", 4096)
    writer = FakeWriter(leave_pending=True)
    follower = DirectFollower(log, 0, writer)
    follower.push({})  # nothing pending: no write
    log.publish("session", "created", {})
    follower.push({})
    assert (follower.cursor, follower.flush_needed) == (1, True)
    with trio.testing.assert_checkpoints():
        await follower.wait()  # returns at once: the flush is due


async def test_sse_frames_pushes_pending_bytes_with_a_ping(
    harness: Harness, project: Path
) -> None:
    """When a direct write to a stream was partial, its next yield is a ping."""
    client_id = str(uuid.uuid4())
    _, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    ws = body["id"]
    ticket = harness.registry.attach(ws, client_id)
    log = harness.registry.get(ws).workspace.log
    assert isinstance(log, EventLog)
    writer = FakeWriter(leave_pending=True)
    leader = DirectFollower(log, 0, None)
    first: list[bytes] = []
    async with (
        aclosing(sse_frames(log, ticket, 0, 15.0, writer)) as frames,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(park, leader, [])  # parks first: it will lead
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(_first, frames, first)
        await trio.testing.wait_all_tasks_blocked()
        log.publish("session", "created", {})
    assert ids(b"".join(writer.written)) == [1]
    assert first == [PING_FRAME]


async def _first(frames: AsyncIterator[bytes], out: list[bytes]) -> None:
    out.append(await anext(frames))


def test_chunk_writer_needs_hypercorn_send() -> None:
    """Anything but hypercorn's HTTP/1.1 send gives no direct writer."""
    assert chunk_writer(None) is None
    assert chunk_writer(print) is None


@pytest.fixture
async def served(harness: Harness, nursery: trio.Nursery) -> AsyncIterator[Path]:
    """The harness app on a real unix socket through serve_app."""
    async with serve_harness(harness, nursery, send_timeout_seconds=5) as path:
        yield path


async def sse_numbers(
    path: Path, url: str, count: int, ready: trio.Event, go: trio.Event
) -> list[int]:
    """Read ``count`` events' ``n`` through h11 (which checks the chunk framing)."""
    stream = await trio.open_unix_socket(str(path))
    conn = h11.Connection(h11.CLIENT)
    request = h11.Request(method="GET", target=url, headers=[("Host", "c")])
    await stream.send_all(conn.send(request))
    body, seen = b"", list[int]()
    while len(seen) < count:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response):
            assert event.status_code == 200
            ready.set()
            await go.wait()
        elif isinstance(event, h11.Data):
            body += event.data
            frames = body.split(b"\n\n")
            body = frames.pop()
            seen += [_number(frame) for frame in frames if b"data: " in frame]
        else:
            raise AssertionError(f"unexpected {event!r}")
    await stream.aclose()
    return seen


def _number(frame: bytes) -> int:
    data = frame.split(b"data: ", 1)[1]
    return int(json.loads(data)["payload"]["payload"]["n"])


async def test_direct_writes_reach_real_clients_in_order(
    harness: Harness, project: Path, served: Path
) -> None:
    """Over hypercorn, parked streams get every event, in order, as valid chunks.

    One client reads nothing until far more than a socket buffer is queued,
    so its direct writes fail or are partial and the normal path takes over.
    """
    client_id = str(uuid.uuid4())
    _, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    ws = body["id"]
    log = harness.registry.get(ws).workspace.log
    assert isinstance(log, EventLog)
    url = f"/v1/workspaces/{ws}/events?client_id={client_id}"
    results: dict[int, list[int]] = {}
    total = 400
    pad = "x" * 4000  # 400 x 4 KB: far beyond one socket buffer

    async def client(index: int, ready: trio.Event, start_reading: trio.Event) -> None:
        results[index] = await sse_numbers(served, url, total, ready, start_reading)

    readers_go, slow_go = trio.Event(), trio.Event()
    async with trio.open_nursery() as nursery:
        ready = [trio.Event() for _ in range(4)]
        for index in range(3):
            nursery.start_soon(client, index, ready[index], readers_go)
        nursery.start_soon(client, 3, ready[3], slow_go)
        for event in ready:
            await event.wait()
        readers_go.set()
        with trio.fail_after(10):
            while len(fanout_for(log).parked) < 3:
                await trio.sleep(0.01)
        followers = list(fanout_for(log).parked)
        for n in range(total):
            log.publish("debug", "created", {"n": n, "pad": pad})
            if n % 50 == 0:
                await trio.sleep(0.01)
        slow_go.set()
    assert results == {i: list(range(total)) for i in range(4)}
    # hypercorn's connections really were written to directly
    assert any(f.last_direct_write > -math.inf for f in followers)


@attrs.define(slots=False)  # the patch keeps pending bytes as an attribute
class FakeServer:
    """The parts of hypercorn's TCPServer the direct writer and the patch use."""

    stream: trio.SocketStream
    send_lock: trio.Lock = attrs.field(factory=trio.Lock)
    config: object = None


def streaming_h11() -> h11.Connection:
    """A server-side h11 connection in SEND_BODY of a chunked response."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(b"GET /events HTTP/1.1\r\nHost: c\r\n\r\n")
    assert isinstance(conn.next_event(), h11.Request)
    conn.send(h11.Response(status_code=200, headers=[]))
    return conn


@pytest.fixture
async def socket_pair() -> AsyncIterator[tuple[trio.SocketStream, trio.SocketStream]]:
    left, right = trio.socket.socketpair()
    a, b = trio.SocketStream(left), trio.SocketStream(right)
    yield a, b
    await a.aclose()
    await b.aclose()


def writer_for(server: FakeServer, conn: h11.Connection) -> ChunkWriter:
    return ChunkWriter(cast("TCPServer", server), conn)


async def test_chunk_writer_frames_like_h11(
    socket_pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """A direct write is exactly the chunk h11 itself would have produced."""
    sender, receiver = socket_pair
    conn = streaming_h11()
    assert writer_for(FakeServer(sender), conn).write(b"id: 1\ndata: {}\n\n")
    expected = conn.send(h11.Data(data=b"id: 1\ndata: {}\n\n"))
    assert await receiver.receive_some(65536) == expected


async def test_chunk_writer_frames_one_batch_once(
    socket_pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """Streams given the same batch (one bytes object) share one framed
    chunk; other bytes are framed anew, each exactly as h11 frames it."""
    sender, receiver = socket_pair
    writer = writer_for(FakeServer(sender), streaming_h11())
    batch = b"id: 1\ndata: {}\n\n"
    framed = [_internals._framed(batch), _internals._framed(batch)]
    assert framed[0] is framed[1]
    assert _internals._framed(b"id: 22\ndata: {}\n\n").startswith(b"11\r\nid: 22")
    for data in (batch, b"x" * 300, batch):
        assert writer.write(data)
    got = await receiver.receive_some(65536)
    assert got == framed[0] + b"12c\r\n" + b"x" * 300 + b"\r\n" + framed[0]


async def test_chunk_writer_declines_when_it_must(
    socket_pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """Lock held, response not streaming, or peer gone: no direct write."""
    sender, receiver = socket_pair
    server = FakeServer(sender)
    async with server.send_lock:
        assert not writer_for(server, streaming_h11()).write(b"x")
    idle = h11.Connection(h11.SERVER)  # no response started
    assert not writer_for(server, idle).write(b"x")
    await receiver.aclose()
    assert not writer_for(server, streaming_h11()).write(b"x")


async def test_partial_direct_write_is_finished_before_the_next_send(
    socket_pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """A partly written chunk's rest goes out first on the connection's next send."""
    install_send_timeout()
    sender, receiver = socket_pair
    server = FakeServer(sender)
    writer = writer_for(server, streaming_h11())
    filler = b"f" * 1024
    while _hypercorn_fixes.write_nowait(sender, filler) == len(filler):
        pass  # the buffer is (nearly) full; the last write may be partial
    frame = b"id: 9\ndata: " + b"y" * 300_000 + b"\n\n"
    received = bytearray()

    async def drain() -> None:
        while b"next" not in received[-8:]:
            received.extend(await receiver.receive_some(65536))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain)
        with trio.fail_after(5):
            while not writer.write(frame):
                await trio.lowlevel.checkpoint()  # the reader frees some room
        assert writer.pending
        await _hypercorn_fixes._protocol_send_with_deadline(
            cast("TCPServer", server), RawData(data=b"next")
        )
    assert not _hypercorn_fixes.has_pending(cast("TCPServer", server))
    chunk = b"%x\r\n%s\r\n" % (len(frame), frame)
    assert bytes(received).endswith(chunk + b"next")


async def test_fanout_does_not_keep_its_log_alive() -> None:
    """Once its streams are gone a log (and its ring) can be freed."""
    log = EventLog("ws", 4096)
    follower = DirectFollower(log, 0, None)
    follower.close()
    ref = weakref.ref(log)
    del log, follower
    gc.collect()
    assert ref() is None
