"""Direct SSE writes: a parked stream gets each new event written at publish.

The per-write path of a streamed response (the SSE generator resumes, quart's
send loop, hypercorn's ``HTTPStream`` and ``H11Protocol``, h11's chunk
framing, the send lock, the socket) measured at 40-70 us of CPU per write on
the 2-core benchmark machine: with 100 streams at 200 events/s that is more
than a core (issue 5, "trickle"; stress/RESULTS.md). So a stream that is
*parked* (its task waits for the next event, everything before it written)
can be written to by another stream's task: on publish, the log's
``Fanout`` wakes one parked stream (the leader) instead of all of them, and
the leader writes its own and each other parked stream's pending events as
one HTTP/1.1 chunk, framed exactly as h11 would (once per batch), with one
non-blocking ``write(2)`` per stream. One
task switch per publish burst instead of one per stream, and the events are
still coalesced. Whenever a direct write is not possible (the socket buffer
is full, the connection is sending something else, the response is not
chunked) that stream is woken and writes through the normal path, which
keeps the send timeout.

Ordering: a direct write happens only while the stream task is parked with
its cursor at the previous event, so the task has nothing in flight; when a
write is partial, the rest is kept on the connection and sent by the patched
``protocol_send`` before anything else (``patches._hypercorn_fixes``), and the
task is woken to push it out.

Source: docs/architecture.md 4 (readers by cursor, coalesced writes) with the publish-
time fast path added for parked streams; the hypercorn 0.18 / h11 0.16
internals it reaches are named and version-guarded in ``patches._internals``.
"""

from __future__ import annotations

import math
import time
import weakref
from typing import Protocol

import trio

from crushd.workspace import Batch, EventLog

from ..patches import ChunkWriter, chunk_writer

__all__ = [
    "ChunkWriter",
    "DirectFollower",
    "DirectWriter",
    "Fanout",
    "chunk_writer",
    "fanout_for",
]


#: The longest one task step writes for other streams, seconds (then the
#: fan-out is handed to the next stream): a publish to 50 streams of a 10 KB
#: message update took 5-11 ms in one step, which every request waited out
#: (stress/RESULTS.md, agent benchmark). 1 ms rather than 2: a prompt that
#: arrives while three runs start waits out a slice at each of its task hops
#: (the starting prompts' worst case went from 6-12 to about 6 ms, the
#: burst figures did not move). 0.5 ms rather than 1 (with the turn readers'
#: share below): POST p99 in four alternated full benchmarks 3.3, 11.4, 6.4,
#: 4.0 ms against 6.3, 21.4, 8.3, 5.1, the CPU per delta unchanged.
FANOUT_SLICE_SECONDS = 0.0005


class DirectWriter(Protocol):
    """What a ``DirectFollower`` writes through (``ChunkWriter`` in the daemon)."""

    @property
    def pending(self) -> bool:
        """Whether a partial write left bytes that still have to go out."""

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now, whole or committed; False = not possible."""


class Fanout:
    """The direct writer of one event log: registered once, shared by its streams.

    On publish it wakes one parked stream, the *leader*, and nothing else.
    The leader, once it runs (after the publisher's synchronous burst, so
    everything published meanwhile coalesces), writes to every other parked
    stream what lies between that stream's cursor and the head, as one chunk
    per stream; a stream that cannot take it is woken to write it itself.
    """

    def __init__(self, log: EventLog) -> None:
        # No reference back to the log: ``_FANOUTS`` is keyed weakly by it.
        self.parked: dict[DirectFollower, None] = {}  # insertion-ordered set
        self.leader: DirectFollower | None = None
        log.add_direct_reader(self)

    def offer(self, seq: int, frame: bytes) -> bool:
        """Publish hook: make sure a leader will fan the new event out."""
        if self.leader is None and self.parked:
            self.leader = next(iter(self.parked))
            self.leader.wake()
        return True

    def wake(self) -> None:
        """Log wake/close hook: wake every parked stream."""
        for follower in list(self.parked):
            follower.wake()

    def fan_out(self, leader: DirectFollower, *, serve_leader: bool = False) -> None:
        """Write the pending events to every parked stream, and to ``leader``.

        ``leader`` is written to first, and only when ``serve_leader`` (it
        was woken, not cancelled: like a parked stream, it has nothing in
        flight), so its own events skip the streamed response's send path
        too. After ``FANOUT_SLICE_SECONDS`` the next stream not yet served
        becomes the leader and is woken to go on (it skips the streams
        already at the head), so requests and other tasks run in between.
        """
        self.leader = None
        chunks: dict[int, Batch] = {}
        if serve_leader:
            leader.push(chunks)
        deadline = time.perf_counter() + FANOUT_SLICE_SECONDS
        for follower in list(self.parked):
            if follower is leader:
                continue
            if time.perf_counter() > deadline and follower.cursor != follower.log.head:
                self.leader = follower
                follower.wake()
                return
            follower.push(chunks)


_FANOUTS: weakref.WeakKeyDictionary[EventLog, Fanout] = weakref.WeakKeyDictionary()


def fanout_for(log: EventLog) -> Fanout:
    """The log's ``Fanout``, created (and registered) on first use."""
    fanout = _FANOUTS.get(log)
    if fanout is None:
        fanout = _FANOUTS[log] = Fanout(log)
    return fanout


class DirectFollower:
    """One SSE stream's cursor; while parked, its events may be written for it.

    Args:
        log: the event log followed.
        cursor: the last id the stream has.
        writer: the connection's chunk writer, or ``None`` (never written to
            directly; it still may lead the fan-out for others).
    """

    def __init__(self, log: EventLog, cursor: int, writer: DirectWriter | None) -> None:
        self.log = log
        self.cursor = cursor
        self.flush_needed = False
        self.last_direct_write = -math.inf
        self._writer = writer
        self._fanout = fanout_for(log)
        # The parked task itself, rescheduled by ``wake``: no Event or
        # ParkingLot per stream (an idle stream's memory is a benchmark).
        self._task: trio.lowlevel.Task | None = None

    def push(self, chunks: dict[int, Batch]) -> None:
        """Write everything after the cursor now, or wake the stream to do it.

        ``chunks`` caches ``read_sse`` per cursor for one fan-out (streams
        mostly share a cursor).
        """
        if self.cursor == self.log.head:
            return
        batch = chunks.get(self.cursor)
        if batch is None:
            batch = chunks[self.cursor] = self.log.read_sse(self.cursor)
        if self._writer is None or not self._writer.write(batch.data):
            self.wake()
            return
        self.log.traffic.delivered += batch.cursor - self.cursor
        self.cursor = batch.cursor
        self.last_direct_write = trio.current_time()
        if self._writer.pending:
            self.flush_needed = True  # the stream task must push the rest out
            self.wake()

    def wake(self) -> None:
        """Make ``wait`` return (no-op unless parked)."""
        task, self._task = self._task, None
        if task is not None:
            trio.lowlevel.reschedule(task)

    async def wait(self) -> None:
        """Park until woken; returns at once if events are pending or closed.

        Cancellation: safe; a stream chosen as leader still fans out first.
        """
        if self.log.closed or self.cursor != self.log.head or self.flush_needed:
            await trio.lowlevel.checkpoint()
            return
        self._task = trio.lowlevel.current_task()
        self._fanout.parked[self] = None
        woken = False
        try:
            await trio.lowlevel.wait_task_rescheduled(self._abort)
            woken = True
        finally:
            self._fanout.parked.pop(self, None)
            if self._fanout.leader is self:
                self._fanout.fan_out(self, serve_leader=woken)

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def close(self) -> None:
        """Stop following (synchronous; the stream's ``finally``)."""
        self._fanout.parked.pop(self, None)
        if self._fanout.leader is self:
            self._fanout.fan_out(self)
