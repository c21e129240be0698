"""Tests for crushd/workspace/_messages.py: write, then publish; one debouncing flusher.

Twins of upstream's ``internal/message/message_test.go`` (debounce, structural
flush, ordering, flush waits for an in-flight write, delete drops pending).
Time is virtual (``autojump_clock``); waits for writes are on the event log,
never on the clock or a deadline, because database calls run in real worker
threads and the clock jumps to the next deadline while one runs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from crushd.errors import InternalError, NotFound
from crushd.proto import Message, Part
from crushd.store import DATABASE_FILE_NAME, Database, MessageStore, SessionStore
from crushd.workspace import EventLog, MessageService, with_stop_finish
from crushd.workspace._messages import DEBOUNCE_SECONDS, STRETCH_SECONDS


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness.

    These tests write through real worker threads. With the default
    threshold of 0 the clock jumps while a thread writes, and the run loop
    spins (about 100,000 turns a test, seconds of CPU under coverage); a
    short real threshold lets the thread finish first.
    """
    return trio.testing.MockClock(autojump_threshold=0.02)


WS = "ws-1"


class GatedStore(MessageStore):
    """A message store whose ``update_many`` can be held, or fail, on demand."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.gate: trio.Event | None = None
        self.entered = trio.Event()
        self.failures: list[BaseException] = []
        self.batches: list[list[str]] = []
        self.times: list[float] = []  # when each batch write began

    async def update_many(self, messages: list[Message]) -> list[Message]:
        self.batches.append([m.id for m in messages])
        self.times.append(trio.current_time())
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        return await super().update_many(messages)


@attrs.define
class Setup:
    service: MessageService
    store: GatedStore
    log: EventLog
    session_id: str
    counts: list[tuple[str, int]]

    def events(self, kind: str = "") -> list[tuple[str, dict[str, Any]]]:
        """(inner type, message payload) of every ``message`` event so far."""
        found = []
        for frame in self.log.read_ws(0).frames:
            envelope = json.loads(frame)
            if envelope["type"] == "message" and kind in (
                "",
                envelope["payload"]["type"],
            ):
                found.append(
                    (envelope["payload"]["type"], envelope["payload"]["payload"])
                )
        return found

    def texts(self) -> list[str]:
        return [_text_of(payload) for kind, payload in self.events("updated")]

    async def stored(self, message_id: str) -> Message:
        return await MessageStore(self.store.db).get(message_id)

    async def wait_for_events(self, count: int) -> None:
        """Wait until ``count`` message events were published.

        Unbounded on purpose: under ``autojump_clock`` a deadline would be
        jumped to while a worker thread writes (pytest's timeout bounds it).
        """
        while len(self.events()) < count:
            await self.log.wait_after(self.log.head)


def _text_of(payload: dict[str, Any]) -> str:
    return "".join(p["data"]["text"] for p in payload["parts"] if p["type"] == "text")


def _with_text(message: Message, text: str, *extra: Part) -> Message:
    return attrs.evolve(message, parts=[Part("text", {"text": text}), *extra])


def _finish(at: int = 5) -> Part:
    return Part("finish", {"reason": "end_turn", "time": at})


@pytest.fixture
async def setup(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[Setup]:
    db = await Database.open(tmp_path / DATABASE_FILE_NAME)
    session = await SessionStore(db).create("s")
    store, log = GatedStore(db), EventLog(WS, 4096)
    counts: list[tuple[str, int]] = []
    service = MessageService(
        store, log, count_changed=lambda sid, delta: counts.append((sid, delta))
    )
    await nursery.start(service.serve)
    yield Setup(service, store, log, session.id, counts)
    await service.flush_all()  # waits for a write in flight, then closes
    await db.aclose()


async def _assistant(setup: Setup, mid: str = "a1") -> Message:
    message = Message(id=mid, role="assistant", session_id=setup.session_id)
    return await setup.service.create(message)


async def test_update_soon_coalesces_deltas_into_one_event(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """Five deltas inside one window: one write, one message/updated, final text."""
    message = await _assistant(setup)
    for n in range(1, 6):
        setup.service.update_soon(_with_text(message, "a" * n))
    await trio.sleep(0.010)
    assert setup.texts() == []
    assert (await setup.stored(message.id)).parts == []
    await setup.wait_for_events(2)
    assert setup.texts() == ["aaaaa"]
    assert setup.store.batches == [["a1"]]
    assert _text_of(attrs.asdict(await setup.stored(message.id))) == "aaaaa"


async def test_update_now_writes_and_publishes_before_returning(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A terminal update lands in the row and on the log by the time it returns."""
    message = await _assistant(setup)
    done = _with_text(message, "done", _finish(77))
    await setup.service.update_now(done)
    assert setup.texts() == ["done"]
    stored = await setup.stored(message.id)
    assert stored.parts == done.parts
    query = "SELECT finished_at FROM messages WHERE id = ?"
    row = await setup.store.db.run(lambda c: c.execute(query, (message.id,)).fetchone())
    assert row[0] == 77


async def test_update_now_supersedes_a_pending_snapshot(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A structural write replaces the debounced one: no stale write follows it."""
    message = await _assistant(setup)
    setup.service.update_soon(_with_text(message, "a"))
    call = Part(
        "tool_call", {"id": "c1", "name": "view", "input": "", "finished": False}
    )
    await setup.service.update_now(_with_text(message, "ab", call))
    await trio.sleep(1)
    assert setup.texts() == ["ab"]
    assert setup.service.pending == 0
    assert (await setup.stored(message.id)).parts[1] == call


async def test_flush_session_writes_only_that_session(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """flush_session drains one session's updates now; flush_all drains the rest."""
    other = await SessionStore(setup.store.db).create("other")
    mine = await _assistant(setup, "mine")
    theirs = await setup.service.create(
        Message(id="theirs", role="assistant", session_id=other.id)
    )
    setup.service.update_soon(_with_text(mine, "x"))
    setup.service.update_soon(_with_text(theirs, "y"))
    await setup.service.flush_session(setup.session_id)
    assert setup.texts() == ["x"]
    assert setup.service.pending == 1
    await setup.service.flush_all()
    assert setup.texts() == ["x", "y"]
    await setup.service.flush_all()  # nothing left: a no-op
    assert setup.texts() == ["x", "y"]


async def test_list_flushes_the_session_first(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """GET messages' source: a pending delta is in the listed history."""
    message = await _assistant(setup)
    setup.service.update_soon(_with_text(message, "buffered"))
    (listed,) = await setup.service.list(setup.session_id)
    assert listed.parts == [Part("text", {"text": "buffered"})]
    assert await setup.service.list("no-such-session") == []


async def test_coalesced_and_written_through_end_in_the_same_state(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """Interleaved soon/now updates converge to the final message; events only grow."""
    message = await _assistant(setup)
    reasoning = Part("reasoning", {"thinking": "t", "finished_at": 0})
    steps = [
        ("soon", _with_text(message, "h")),
        ("soon", _with_text(message, "he")),
        ("now", _with_text(message, "hel", reasoning)),
        ("soon", _with_text(message, "hell", reasoning)),
        ("soon", _with_text(message, "hello", reasoning)),
        ("now", _with_text(message, "hello", reasoning, _finish())),
    ]
    for how, snapshot in steps:
        if how == "soon":
            setup.service.update_soon(snapshot)
        else:
            await setup.service.update_now(snapshot)
        await trio.sleep(0.02)
    await setup.service.flush_all()
    assert (await setup.stored(message.id)).parts == steps[-1][1].parts
    texts = setup.texts()
    assert texts[-1] == "hello"
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))


async def test_events_follow_write_order_across_messages(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """One batch, one transaction, one event per message in the order dirtied."""
    first, second = await _assistant(setup, "m1"), await _assistant(setup, "m2")
    setup.service.update_soon(_with_text(second, "2"))
    setup.service.update_soon(_with_text(first, "1"))
    setup.service.update_soon(_with_text(second, "22"))
    await setup.wait_for_events(4)
    assert [p["id"] for _, p in setup.events("updated")] == ["m2", "m1"]
    assert setup.texts() == ["22", "1"]
    assert setup.store.batches == [["m2", "m1"]]


@pytest.mark.parametrize("flush", ["flush_session", "flush_all"])
async def test_flush_waits_for_an_in_flight_write(
    setup: Setup, autojump_clock: trio.testing.MockClock, flush: str
) -> None:
    """A flush called while the flusher's write is held returns only after it lands."""
    message = await _assistant(setup)
    setup.store.gate = trio.Event()
    setup.service.update_soon(_with_text(message, "payload"))
    await setup.store.entered.wait()
    finished = trio.Event()

    async def flush_now() -> None:
        call = getattr(setup.service, flush)
        await (call(setup.session_id) if flush == "flush_session" else call())
        finished.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(flush_now)
        await trio.sleep(1)
        assert not finished.is_set()
        assert setup.texts() == []
        setup.store.gate.set()
    assert setup.texts() == ["payload"]
    assert (await setup.stored(message.id)).parts[0].data["text"] == "payload"


async def test_delete_drops_the_pending_update(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A deleted message's buffered delta is never written back; deleted published."""
    message = await _assistant(setup)
    setup.service.update_soon(_with_text(message, "dropped"))
    await setup.service.delete(message.id)
    await setup.service.flush_all()
    await trio.sleep(1)
    with pytest.raises(NotFound):
        await setup.stored(message.id)
    assert [kind for kind, _ in setup.events()] == ["created", "deleted"]
    assert setup.counts == [(setup.session_id, 1), (setup.session_id, -1)]


async def test_update_of_a_message_deleted_elsewhere_publishes_nothing(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A row gone behind the service's back (session deleted) gets no updated event."""
    message = await _assistant(setup)
    await setup.store.db.run(lambda c: c.execute("DELETE FROM messages"))
    await setup.service.update_now(_with_text(message, "late"))
    assert setup.texts() == []


async def test_create_writes_then_publishes_with_upstream_stop_finish(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A user message gets finish{stop,0} once; the created event is the stored row."""
    user = Message(
        id="u1",
        role="user",
        session_id=setup.session_id,
        parts=[Part("text", {"text": "hi"})],
    )
    created = await setup.service.create(user)
    stop = Part("finish", {"reason": "stop", "time": 0})
    assert created.parts == [Part("text", {"text": "hi"}), stop]
    assert await setup.stored("u1") == created
    (event,) = setup.events("created")
    assert event[1]["parts"][-1] == {
        "type": "finish",
        "data": {"reason": "stop", "time": 0},
    }
    assert with_stop_finish(created) == created
    assert (
        with_stop_finish(Message(id="a", role="assistant", session_id="s")).parts == []
    )


async def test_failed_flush_keeps_updates_dirty_and_the_flusher_alive(
    setup: Setup,
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database failure is logged; the update is written by the next flush."""
    message = await _assistant(setup)
    setup.store.failures.append(InternalError("database error: disk I/O error"))
    setup.service.update_soon(_with_text(message, "kept"))
    while len(setup.store.batches) < 1 or setup.service.pending == 0:
        await trio.sleep(0.01)
    assert "streamed messages failed" in caplog.text
    setup.service.update_soon(_with_text(message, "kept!"))
    await setup.wait_for_events(2)
    assert setup.texts() == ["kept!"]


async def test_cancelled_flush_leaves_the_updates_dirty(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A flush cancelled before its write ran loses nothing: a later flush writes it."""
    message = await _assistant(setup)
    setup.store.gate = trio.Event()
    setup.service.update_soon(_with_text(message, "first"))
    await setup.store.entered.wait()  # the flusher holds the lock, write held
    setup.service.update_soon(_with_text(message, "second"))
    with trio.move_on_after(1):
        await setup.service.flush_all()  # waits for the lock, then is cancelled
    assert setup.service.pending == 1
    setup.store.gate.set()
    await setup.service.flush_all()
    assert setup.texts() == ["first", "second"]


async def test_a_window_flush_holds_what_the_woken_reads_brought(
    setup: Setup, autojump_clock: trio.testing.MockClock
) -> None:
    """A provider read parked in the window is woken at its close, and the
    flusher waits for its tokens before it writes (``FlushWindow.settle``):
    they go out in that flush, not one window late. The next window opens
    at once for the reader, which parks in it again."""
    message = await _assistant(setup)
    window = setup.service.window
    setup.service.update_soon(_with_text(message, "x"))
    await trio.sleep(0.002)
    assert window.is_open
    last: int | None = None

    async def read() -> None:  # one provider socket read, as PacedStream does
        nonlocal last
        await window.pace(last)
        await trio.sleep(0.001)
        last = window.stamp()

    await read()
    setup.service.update_soon(_with_text(message, "xx"))
    await read()  # parks until the close at 33 ms
    assert 0.033 <= trio.current_time() < 0.04
    setup.service.update_soon(_with_text(message, "xxx"))
    await window.pace(last)  # back: parks in the next window, woken at 66 ms
    assert 0.066 <= trio.current_time() < 0.07
    await setup.wait_for_events(2)
    assert setup.texts() == ["xxx"]


async def _crowd(log: EventLog, per_10ms: int, seconds: float) -> None:
    """Publish ``per_10ms`` events every 10 ms for ``seconds`` on ``log``."""
    for _ in range(round(seconds / 0.01)):
        for _ in range(per_10ms):
            log.publish("session", "created", {})
        await trio.sleep(0.01)


@pytest.mark.parametrize(
    ("per_10ms", "crowd_seconds", "earliest", "latest"),
    [
        (0, 0, DEBOUNCE_SECONDS, DEBOUNCE_SECONDS),
        (20, 1.0, DEBOUNCE_SECONDS, DEBOUNCE_SECONDS),  # 2,000/s: not busy
        (40, 1.0, STRETCH_SECONDS, STRETCH_SECONDS + DEBOUNCE_SECONDS),  # capped
        (40, 0.1, 0.1, 0.1 + 2 * DEBOUNCE_SECONDS),  # ends soon after the crowd
    ],
)
async def test_a_busy_daemon_keeps_the_window_open_up_to_the_stretch(
    setup: Setup,
    autojump_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    per_10ms: int,
    crowd_seconds: float,
    earliest: float,
    latest: float,
) -> None:
    """Another workspace's log publishing above the busy rate (3,000/s) on
    the same traffic holds the flush back a debounce at a time, never past
    ``STRETCH_SECONDS``; below the rate, or once the crowd stops, it is the
    33 ms window again."""
    other = EventLog("ws-2", 4096, traffic=setup.log.traffic)
    message = await _assistant(setup)
    start = trio.current_time()
    nursery.start_soon(_crowd, other, per_10ms, crowd_seconds)
    setup.service.update_soon(_with_text(message, "a"))
    await setup.wait_for_events(2)
    waited = setup.store.times[0] - start
    assert earliest - 0.001 <= waited <= latest + 0.001
    assert setup.texts() == ["a"]
    stretched = earliest > DEBOUNCE_SECONDS
    assert (setup.log.traffic.stretches > 0) is stretched  # GET /v1/metrics
