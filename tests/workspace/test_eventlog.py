"""Tests for crushd/workspace/_eventlog.py: the per-workspace event ring."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from crushd.proto import ConfigChanged, Message, Part, Session, to_json
from crushd.workspace._eventlog import PING_FRAME, EventLog

WS = "ws-1"


def parse_sse(data: bytes) -> list[tuple[int, Any]]:
    """Split a chunk into (id, decoded envelope) pairs, checking the framing."""
    assert data.endswith(b"\n\n") or not data
    frames = []
    for raw in data.split(b"\n\n")[:-1]:
        id_line, data_line = raw.split(b"\n")
        assert id_line.startswith(b"id: ")
        assert data_line.startswith(b"data: ")
        frames.append((int(id_line[4:]), json.loads(data_line[6:])))
    return frames


@contextlib.asynccontextmanager
async def bounded_nursery() -> AsyncIterator[trio.Nursery]:
    """Open a nursery that fails the test instead of hanging (virtual time)."""
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            yield nursery


def ids(data: bytes) -> list[int]:
    return [seq for seq, _ in parse_sse(data)]


def resync_envelope(oldest_id: int) -> dict[str, Any]:
    inner = {"workspace_id": WS, "oldest_id": oldest_id}
    return {"type": "resync", "payload": {"type": "updated", "payload": inner}}


def filled(count: int, capacity: int = 4096) -> EventLog:
    log = EventLog(WS, capacity_frames=capacity)
    for n in range(count):
        log.publish("message", "updated", {"n": n + 1})
    return log


def test_publish_envelope_bytes_exact() -> None:
    """A published attrs model becomes exactly one compact `id:`/`data:` SSE frame."""
    log = EventLog(WS, 4096)
    log.publish("config_changed", "updated", ConfigChanged(workspace_id="w9"))
    assert log.read_sse(0).data == (
        b'id: 1\ndata: {"type":"config_changed","payload":{"type":"updated",'
        b'"payload":{"workspace_id":"w9"}}}\n\n'
    )


def test_publish_plain_json_keeps_unicode_and_escapes_newlines() -> None:
    """Plain JSON payloads keep non-ASCII text as UTF-8 and never hold a raw newline."""
    log = EventLog(WS, 4096)
    log.publish("message", "created", {"text": "héllo\nwörld", "list": [1, None]})
    data = log.read_sse(0).data
    assert data == (
        b'id: 1\ndata: {"type":"message","payload":{"type":"created","payload":'
        + '{"text":"héllo\\nwörld","list":[1,null]}}}\n\n'.encode()
    )
    assert data.count(b"\n") == 3


def test_publish_models_encode_as_the_proto_converter_does() -> None:
    """Wire models, alone or nested in plain data, encode exactly as proto.to_json."""
    message = Message(
        id="m1", role="assistant", session_id="s1", parts=[Part("text", {"text": "Hi"})]
    )
    sessions = [Session(id="s1", title="a"), Session(id="s2", title="b")]
    log = EventLog(WS, 4096)
    log.publish("message", "updated", message)
    log.publish("x", "created", {"sessions": sessions, "n": 1})
    (_, first), (_, second) = parse_sse(log.read_sse(0).data)
    assert first["payload"]["payload"] == json.loads(to_json(message))
    assert "is_summary_message" not in first["payload"]["payload"]
    assert second["payload"]["payload"] == {
        "sessions": json.loads(to_json(sessions)),
        "n": 1,
    }


@pytest.mark.parametrize("payload", [object(), {1, 2}, {"a": [b"raw"]}])
def test_publish_rejects_non_json_payload_and_stores_nothing(payload: object) -> None:
    """A payload that is neither JSON data nor a wire model raises TypeError."""
    log = filled(1)
    with pytest.raises(TypeError, match="not JSON data or a wire model"):
        log.publish("message", "created", payload)
    assert log.head == 1
    assert ids(log.read_sse(0).data) == [1]


def test_publish_ids_strictly_increasing_from_one() -> None:
    """Each publish returns the previous id plus one, starting at 1, and moves head."""
    log = EventLog(WS, 4096)
    assert (log.head, log.oldest) == (0, 1)
    assert [log.publish("session", "created", {}) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert log.head == 5
    assert ids(log.read_sse(0).data) == [1, 2, 3, 4, 5]


def test_read_sse_coalesces_all_pending_into_one_chunk() -> None:
    """One read returns every pending frame joined, byte for byte the single frames."""
    log = EventLog(WS, 4096)
    singles = []
    for n in range(4):
        log.publish("message", "updated", {"n": n})
        singles.append(log.read_sse(n).data)
    batch = log.read_sse(0)
    assert all(ids(one) == [n + 1] for n, one in enumerate(singles))
    assert batch.data == b"".join(singles)
    assert (batch.cursor, batch.resync) == (4, False)


def test_read_sse_caught_up_is_empty() -> None:
    """A reader at the head gets no data and keeps its cursor."""
    log = filled(3)
    batch = log.read_sse(3)
    assert (batch.data, batch.cursor, batch.resync) == (b"", 3, False)


def test_read_sse_resume_from_cursor_returns_exactly_missed() -> None:
    """Resuming from a Last-Event-ID inside the ring yields exactly the later events."""
    log = filled(10)
    batch = log.read_sse(6)
    assert ids(batch.data) == [7, 8, 9, 10]
    assert (batch.cursor, batch.resync) == (10, False)


def test_read_sse_cursor_just_before_oldest_needs_no_resync() -> None:
    """A cursor of oldest - 1 is not behind: the ring holds everything after it."""
    log = filled(10, capacity=4)
    assert log.oldest == 7
    batch = log.read_sse(6)
    assert not batch.resync
    assert ids(batch.data) == [7, 8, 9, 10]


def test_read_sse_overflow_starts_with_resync() -> None:
    """A reader behind the ring gets a resync frame with id oldest-1, then all held."""
    log = filled(10, capacity=4)
    batch = log.read_sse(5)
    frames = parse_sse(batch.data)
    assert frames[0] == (6, resync_envelope(7))
    assert [seq for seq, _ in frames[1:]] == [7, 8, 9, 10]
    assert (batch.cursor, batch.resync) == (10, True)


@pytest.mark.parametrize("cursor", [11, 99, -1])
def test_read_sse_garbage_cursor_resyncs(cursor: int) -> None:
    """A cursor past the head or below zero is garbage and gets a resync first."""
    log = filled(10, capacity=4)
    frames = parse_sse(log.read_sse(cursor).data)
    assert frames[0] == (6, resync_envelope(7))
    assert [seq for seq, _ in frames[1:]] == [7, 8, 9, 10]


def test_read_sse_garbage_cursor_on_empty_log_resyncs_to_zero() -> None:
    """On an empty log a garbage cursor gets only a resync with id 0 and oldest 1."""
    log = EventLog(WS, 4096)
    batch = log.read_sse(42)
    assert parse_sse(batch.data) == [(0, resync_envelope(1))]
    assert (batch.cursor, batch.resync) == (0, True)
    assert log.read_sse(0).data == b""


def test_read_ws_frames_put_id_first_and_match_sse_envelope() -> None:
    """Each WebSocket frame is the SSE envelope with "id" added as the first key."""
    log = filled(5)
    ws = log.read_ws(2)
    assert (ws.cursor, ws.resync) == (5, False)
    sse = parse_sse(log.read_sse(2).data)
    assert len(ws.frames) == len(sse) == 3
    for frame, (seq, envelope) in zip(ws.frames, sse, strict=True):
        pairs = json.loads(frame, object_pairs_hook=list)
        assert pairs[0] == ("id", seq)
        assert json.loads(frame) == {"id": seq, **envelope}
        assert "\n" not in frame


def test_read_ws_resync_leads_with_id_oldest_minus_one() -> None:
    """A WebSocket reader behind the ring gets the resync frame first, id oldest-1."""
    log = filled(6, capacity=2)
    ws = log.read_ws(1)
    assert ws.resync
    assert json.loads(ws.frames[0]) == {"id": 4, **resync_envelope(5)}
    assert [json.loads(f)["id"] for f in ws.frames[1:]] == [5, 6]
    assert log.read_ws(6).frames == []


def test_read_wraps_around_the_ring() -> None:
    """Reads that cross the ring's wrap point return the frames in id order."""
    log = filled(7, capacity=5)
    assert ids(log.read_sse(3).data) == [4, 5, 6, 7]
    assert [json.loads(f)["id"] for f in log.read_ws(2).frames] == [3, 4, 5, 6, 7]


async def test_wait_after_wakes_on_publish(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A reader at the head sleeps until the next publish, then returns."""
    log = EventLog(WS, 4096)
    woke = trio.Event()

    async def reader() -> None:
        await log.wait_after(0)
        woke.set()

    async with bounded_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        assert not woke.is_set()
        assert log.statistics().readers_waiting == 1
        log.publish("session", "created", {})
    assert woke.is_set()


async def test_wait_after_wakes_on_close(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Closing the log wakes a waiting reader, which then finds itself drained."""
    log = filled(2)
    async with bounded_nursery() as nursery:
        nursery.start_soon(log.wait_after, 2)
        await trio.testing.wait_all_tasks_blocked()
        assert log.statistics().readers_waiting == 1
        log.close()
    assert log.is_drained(2)
    assert log.statistics().readers_waiting == 0


async def test_wait_after_wakes_on_wake_without_publishing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """wake() releases waiting readers but leaves the head unchanged."""
    log = filled(1)
    async with bounded_nursery() as nursery:
        nursery.start_soon(log.wait_after, 1)
        await trio.testing.wait_all_tasks_blocked()
        log.wake()
    assert log.head == 1
    assert log.read_sse(1).data == b""


@pytest.mark.parametrize("cursor", [0, 2, 9, -1])
async def test_wait_after_returns_at_once_when_work_is_pending(
    cursor: int, autojump_clock: trio.testing.MockClock
) -> None:
    """A reader behind the head, or past it, returns at once after a checkpoint."""
    log = filled(3)
    with trio.fail_after(1), trio.testing.assert_checkpoints():
        await log.wait_after(cursor)


async def test_wait_after_on_closed_log_returns_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After close, wait_after never blocks, even for a reader at the head."""
    log = filled(3)
    log.close()
    with trio.fail_after(1), trio.testing.assert_checkpoints():
        await log.wait_after(3)


async def test_wait_after_cancelled_leaves_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a waiting reader unregisters it and leaves the log usable."""
    log = EventLog(WS, 4096)
    async with bounded_nursery() as nursery:
        nursery.start_soon(log.wait_after, 0)
        await trio.testing.wait_all_tasks_blocked()
        assert log.statistics().readers_waiting == 1
        nursery.cancel_scope.cancel()
    assert log.statistics().readers_waiting == 0
    assert log.publish("session", "created", {}) == 1
    assert ids(log.read_sse(0).data) == [1]


async def test_wait_after_heartbeat_is_a_caller_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A caller's move_on_after around wait_after times out on an idle log."""
    log = EventLog(WS, 4096)
    start = trio.current_time()
    with trio.move_on_after(15) as scope:
        await log.wait_after(0)
    assert scope.cancelled_caught
    assert trio.current_time() - start == pytest.approx(15)
    assert log.statistics().readers_waiting == 0
    assert PING_FRAME == b": ping\n\n"


async def test_publish_wakes_many_readers_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """One publish wakes every one of many waiting readers and each reads it."""
    log = EventLog(WS, 4096)
    got: list[bytes] = []

    async def reader() -> None:
        await log.wait_after(0)
        got.append(log.read_sse(0).data)

    async with bounded_nursery() as nursery:
        for _ in range(200):
            nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        assert log.statistics().readers_waiting == 200
        log.publish("session", "created", {"id": "s"})
    assert len(got) == 200
    assert len(set(got)) == 1
    assert ids(got[0]) == [1]


async def test_close_lets_a_reader_loop_drain_then_stop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A reader loop gets every event published before close, then stops."""
    log = EventLog(WS, 4096)
    chunks: list[bytes] = []

    async def reader() -> None:
        cursor = 0
        while True:
            batch = log.read_sse(cursor)
            cursor = batch.cursor
            chunks.append(batch.data)
            if log.is_drained(cursor):
                return
            await log.wait_after(cursor)

    async with bounded_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        log.publish("session", "created", {})
        log.publish("session", "updated", {})
        log.close()
    assert ids(b"".join(chunks)) == [1, 2]


def test_close_is_idempotent() -> None:
    """Closing twice is harmless and the log stays closed."""
    log = filled(1)
    log.close()
    log.close()
    assert log.closed
    assert log.statistics().closed


def test_publish_after_close_is_dropped() -> None:
    """A publish after close returns the unchanged head and stores nothing."""
    log = filled(2)
    log.close()
    assert log.publish("session", "created", {}) == 2
    assert log.head == 2
    assert ids(log.read_sse(0).data) == [1, 2]


def test_statistics_counts_frames_and_bytes() -> None:
    """statistics() reports head, oldest, frames held and both encodings bytes."""
    log = filled(9, capacity=4)
    stats = log.statistics()
    assert (stats.head, stats.oldest, stats.frames_held) == (9, 6, 4)
    assert stats.readers_waiting == 0
    sse = log.read_sse(5).data
    ws = "".join(log.read_ws(5).frames).encode()
    assert stats.bytes_held == len(sse) + len(ws)
    assert attrs.has(type(stats))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.head = 1  # type: ignore[misc]


def test_eventlog_rejects_capacity_below_one() -> None:
    """A ring with no room is refused at construction."""
    with pytest.raises(ValueError, match="capacity_frames"):
        EventLog(WS, capacity_frames=0)


# --- property: a reader never sees a gap without a resync, nor a duplicate ---

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(1, 6)),
        st.tuples(st.just("read"), st.integers(0, 2)),
        st.tuples(st.just("resume"), st.integers(0, 2), st.integers(-3, 40)),
    ),
    max_size=60,
)


@attrs.define
class _Reader:
    cursor: int = 0
    delivered: list[int] = attrs.Factory(list)  # event ids seen since (re)sync


def _check_read(log: EventLog, model: list[int], reader: _Reader) -> None:
    """Read once and check the batch against the model of all events ever sent."""
    was = reader.cursor
    batch = log.read_sse(was)
    frames = parse_sse(batch.data)
    expect_resync = not (log.oldest - 1 <= was <= log.head)
    assert batch.resync == expect_resync
    if expect_resync:
        assert frames.pop(0) == (log.oldest - 1, resync_envelope(log.oldest))
        reader.delivered = []
    events = [seq for seq, _ in frames]
    for seq, envelope in frames:
        assert envelope["payload"]["payload"] == {"n": model[seq - 1]}
    # Since the last (re)sync, ids run on by exactly one: no gap, no duplicate.
    run = reader.delivered + events
    assert run == list(range(run[0], run[0] + len(run))) if run else True
    if events:
        assert events[0] == (log.oldest if expect_resync else was + 1)
        assert events[-1] == log.head
    reader.cursor, reader.delivered = batch.cursor, run
    assert [json.loads(f)["id"] for f in log.read_ws(was).frames] == (
        ([log.oldest - 1] if expect_resync else []) + events
    )


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 8), ops=_ops)
def test_eventlog_matches_model_of_all_events(
    capacity: int, ops: list[tuple[Any, ...]]
) -> None:
    """Random publish/read/resume runs: readers see every event once or a resync."""
    log = EventLog(WS, capacity_frames=capacity)
    model: list[int] = []
    readers = [_Reader() for _ in range(3)]
    for op in ops:
        if op[0] == "publish":
            for _ in range(op[1]):
                model.append(len(model) * 7 % 11)
                assert log.publish("m", "created", {"n": model[-1]}) == len(model)
        elif op[0] == "read":
            _check_read(log, model, readers[op[1]])
        else:  # a reconnect with an arbitrary Last-Event-ID
            readers[op[1]] = _Reader(cursor=op[2])
        assert log.head == len(model)
        assert log.oldest == max(1, len(model) - capacity + 1)
    for reader in readers:
        _check_read(log, model, reader)
        assert reader.cursor == log.head


# --- the byte bound (docs/agent.md 7.4) ---


def _frame_bytes(log: EventLog, seq: int) -> int:
    """Bytes one held event costs: its SSE frame plus its WebSocket frame."""
    sse = parse_sse(log.read_sse(seq - 1).data)
    assert sse[0][0] == seq
    one_sse = log.read_sse(seq - 1).data.split(b"\n\n")[0] + b"\n\n"
    return len(one_sse) + len(log.read_ws(seq - 1).frames[0].encode())


def test_byte_bound_evicts_oldest_and_a_reader_behind_resyncs() -> None:
    """Over capacity_bytes the oldest frames go; a cursor behind them gets resync."""
    probe = EventLog(WS, 4096)
    probe.publish("m", "created", {"n": "x" * 100})
    size = _frame_bytes(probe, 1)
    log = EventLog(WS, capacity_frames=100, capacity_bytes=3 * size)
    for _ in range(5):
        log.publish("m", "created", {"n": "x" * 100})
    stats = log.statistics()
    assert (stats.head, stats.oldest, stats.frames_held) == (5, 3, 3)
    assert stats.bytes_held == 3 * size
    behind = log.read_sse(1)
    assert behind.resync
    assert ids(behind.data) == [2, 3, 4, 5]  # the resync frame is id oldest-1
    assert parse_sse(behind.data)[0][1] == resync_envelope(3)
    caught_up = log.read_sse(2)
    assert (caught_up.resync, ids(caught_up.data)) == (False, [3, 4, 5])


def test_byte_bound_keeps_the_newest_frame_even_when_oversized() -> None:
    """One event larger than the bound is still held (alone), so it can be read."""
    log = EventLog(WS, capacity_frames=10, capacity_bytes=64)
    log.publish("m", "created", {"n": 1})
    log.publish("m", "created", {"n": "y" * 500})
    stats = log.statistics()
    assert (stats.oldest, stats.frames_held) == (2, 1)
    assert stats.bytes_held > 64
    assert ids(log.read_sse(1).data) == [2]


def test_eventlog_rejects_capacity_bytes_below_one() -> None:
    """A byte bound of zero is refused at construction."""
    with pytest.raises(ValueError, match="capacity_bytes"):
        EventLog(WS, 4096, capacity_bytes=0)


def test_default_byte_bound_is_64_mib() -> None:
    """The default byte bound is 64 MiB, next to the 4,096-frame window."""
    log = EventLog(WS, 4096)
    assert (log.capacity_frames, log.capacity_bytes) == (4096, 64 * 1024 * 1024)


_sized_ops = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(0, 120)),
        st.tuples(st.just("read"), st.integers(0, 2)),
        st.tuples(st.just("resume"), st.integers(0, 2), st.integers(-3, 40)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 8), capacity_bytes=st.integers(1, 1200), ops=_sized_ops)
def test_eventlog_with_byte_bound_matches_model(
    capacity: int, capacity_bytes: int, ops: list[tuple[Any, ...]]
) -> None:
    """Random sizes: held frames are exactly what both bounds allow; no silent gap."""
    log = EventLog(WS, capacity_frames=capacity, capacity_bytes=capacity_bytes)
    reference = EventLog(WS, 4096)  # same stream, unbounded: each frame's size
    model: list[Any] = []
    sizes: list[int] = []
    held: list[int] = []  # ids the model says are held
    readers = [_Reader() for _ in range(3)]
    for op in ops:
        if op[0] == "publish":
            model.append("z" * op[1])
            log.publish("m", "created", {"n": model[-1]})
            reference.publish("m", "created", {"n": model[-1]})
            sizes.append(_frame_bytes(reference, len(model)))
            held.append(len(model))
            while len(held) > capacity:
                held.pop(0)
            while sum(sizes[i - 1] for i in held) > capacity_bytes and len(held) > 1:
                held.pop(0)
        elif op[0] == "read":
            _check_read(log, model, readers[op[1]])
        else:
            readers[op[1]] = _Reader(cursor=op[2])
        stats = log.statistics()
        assert stats.oldest == (held[0] if held else 1)
        assert stats.bytes_held == sum(sizes[i - 1] for i in held)
    for reader in readers:
        _check_read(log, model, reader)
