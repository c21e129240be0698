"""The per-workspace event log: one append-only ring, read by cursor.

Every event is encoded once, at publish, into its SSE frame and its WebSocket
text frame. Readers hold nothing but a cursor (the last id they have), so memory
is O(ring) (bounded by a frame count and a byte count) and a publish costs the
same for one reader or a thousand. A reader
takes everything between its cursor and the head as one chunk per wake-up.
A direct reader (the server's SSE fan-out, ``crushd.server._direct``) is
offered each new frame at publish instead of being woken. The encodings
themselves are ``_frames``'.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import attrs
import trio

from ._frames import (
    PING_FRAME,
    Batch,
    WsBatch,
    envelope,
    replay_frames,
    resync_envelope,
    sse_frame,
    ws_frame,
)
from ._traffic import EventTraffic

__all__ = [
    "DEFAULT_CAPACITY_BYTES",
    "PING_FRAME",
    "Batch",
    "DirectReader",
    "EventLog",
    "EventLogStatistics",
    "WsBatch",
    "replay_frames",
]

#: Default bound on the bytes of frames a log holds (64 MiB): every streaming
#: message update carries the whole message, so frames can be large.
DEFAULT_CAPACITY_BYTES = 64 * 1024 * 1024

_T = TypeVar("_T")


class DirectReader(Protocol):
    """A reader that may take new events at publish time (server-side SSE).

    ``publish`` calls ``offer`` with each new event's id and SSE frame; a
    reader that cannot take it right now returns ``False`` and is woken
    instead. ``wake``/``close`` of the log call ``wake``.
    """

    def offer(self, seq: int, frame: bytes) -> bool:
        """Take event ``seq`` now (synchronously) or return False."""

    def wake(self) -> None:
        """Make the reader's task look at the log."""


@attrs.frozen
class EventLogStatistics:
    """A snapshot of an ``EventLog``.

    Attributes:
        head: the last id published, 0 if none.
        oldest: the oldest id still held, ``head + 1`` when empty.
        frames_held: how many events the ring holds (``head - oldest + 1``).
        readers_waiting: tasks blocked in ``wait_after`` right now.
        bytes_held: UTF-8 size of the SSE and WebSocket frames held.
        closed: whether ``close`` was called.
    """

    head: int
    oldest: int
    frames_held: int
    readers_waiting: int
    bytes_held: int
    closed: bool


class EventLog:
    """Hold one workspace's recent events and let readers follow by cursor.

    ``publish`` appends an event and wakes every waiting reader; it never
    blocks and costs O(1) in the number of ``wait_after`` readers. Direct
    readers (``add_direct_reader``; the server's SSE fan-out registers one
    per log) are offered each new frame synchronously, so their cost is the
    caller's, O(direct readers). A reader keeps only its cursor and loops::

        while True:
            batch = log.read_sse(cursor)
            cursor = batch.cursor
            if batch.data:
                await send(batch.data)
            if log.is_drained(cursor):
                break
            with trio.move_on_after(heartbeat_seconds) as idle:
                await log.wait_after(cursor)
            if idle.cancelled_caught:
                await send(PING_FRAME)

    A cursor older than the ring (``cursor < oldest - 1``) or past the head (a
    garbage ``Last-Event-ID``) gets a ``resync`` frame first, then every event
    still held. Nothing is dropped silently.

    Two bounds decide what is held: at most ``capacity_frames`` events, and
    at most ``capacity_bytes`` of frames (``bytes_held``); the oldest events
    are evicted when either is exceeded. The newest event is always held,
    even when it alone is larger than ``capacity_bytes``.

    Args:
        workspace_id: the workspace's id, echoed in ``resync`` payloads.
        capacity_frames: how many events the ring keeps (the replay window,
            ``--replay-window``; its default is ``Settings``'s); at least 1.
        capacity_bytes: how many bytes of frames (SSE and WebSocket, UTF-8)
            the ring keeps; at least 1.
        traffic: the daemon's event counters, shared by its logs
            (``EventTraffic``); a log of its own by default.

    Raises:
        ValueError: ``capacity_frames`` or ``capacity_bytes`` is less than 1.

    Source: docs/protocol.md 3.2-3.3 (SSE framing and envelope), C.1-C.3 (ids,
    resume, heartbeat, slow consumers), C.9 (WebSocket frames); Crush's
    per-subscriber 4096-event buffer, made lossless within the window; the
    byte bound from docs/agent.md 7.4.
    """

    def __init__(
        self,
        workspace_id: str,
        capacity_frames: int,
        capacity_bytes: int = DEFAULT_CAPACITY_BYTES,
        traffic: EventTraffic | None = None,
    ) -> None:
        if capacity_frames < 1:
            raise ValueError(f"capacity_frames must be >= 1, got {capacity_frames}")
        if capacity_bytes < 1:
            raise ValueError(f"capacity_bytes must be >= 1, got {capacity_bytes}")
        self.workspace_id = workspace_id
        self.capacity_frames = capacity_frames
        self.capacity_bytes = capacity_bytes
        # Parallel lists used as a ring: slot (seq - 1) % capacity holds seq.
        self._sse: list[bytes] = [b""] * capacity_frames
        self._ws: list[str] = [""] * capacity_frames
        self._sizes: list[int] = [0] * capacity_frames
        self._bytes_held = 0
        self._head = 0
        self._oldest = 1
        self._closed = False
        self._changed = trio.Event()
        self._direct: dict[DirectReader, None] = {}  # insertion-ordered set
        #: The daemon's event counters (shared by its logs; streams count
        #: their deliveries on it).
        self.traffic = traffic or EventTraffic()

    @property
    def head(self) -> int:
        """The last id published, 0 if none."""
        return self._head

    @property
    def oldest(self) -> int:
        """The oldest id still held; ``head + 1`` when the log is empty."""
        return self._oldest

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def publish(self, type: str, event_type: str, payload: object) -> int:  # noqa: A002 - wire field name
        """Append one event, encoded once, and wake every waiting reader.

        Synchronous, never blocks, O(1) in the number of readers. After
        ``close`` the event is dropped without error (a workspace that is being
        torn down may still have services finishing) and the head is returned.

        Args:
            type: the outer discriminator (``message``, ``session``, ...).
            event_type: the inner event type (``created``/``updated``/``deleted``).
            payload: a ``crushd.proto`` attrs model or plain JSON data.

        Returns:
            The event's id (the new head), or the unchanged head if closed.

        Raises:
            TypeError: ``payload`` holds something that is neither JSON data nor
                an attrs wire model (a bug in the caller); nothing is published.

        Source: docs/protocol.md 3.3 envelope, C.1 ids.
        """
        if self._closed:
            return self._head
        self.traffic.published += 1
        frame = self._store(envelope(type, event_type, payload))
        self._offer(self._head, frame)
        self._wake()
        return self._head

    def read_sse(self, cursor: int) -> Batch:
        """Return every SSE frame after ``cursor`` as one chunk.

        Args:
            cursor: the last id the reader has (0 for "from the start", or
                the client's ``Last-Event-ID``); any int is accepted.

        Returns:
            A ``Batch`` whose ``cursor`` is the current head.
        """
        first, resync = self._start(cursor)
        frames = self._slice(self._sse, first)
        if resync:
            frames.insert(0, self._resync_sse())
        return Batch(b"".join(frames), self._head, resync)

    def read_ws(self, cursor: int) -> WsBatch:
        """Return every WebSocket text frame after ``cursor``.

        Args:
            cursor: as for ``read_sse``.

        Returns:
            A ``WsBatch`` whose ``cursor`` is the current head.

        Source: docs/protocol.md C.9 (the SSE envelope with ``"id"`` first).
        """
        first, resync = self._start(cursor)
        frames = self._slice(self._ws, first)
        if resync:
            frames.insert(0, self._resync_ws())
        return WsBatch(frames, self._head, resync)

    def is_drained(self, cursor: int) -> bool:
        """Tell whether a reader at ``cursor`` is finished: closed and caught up."""
        return self._closed and cursor == self._head

    async def wait_after(self, cursor: int) -> None:
        """Wait until a reader at ``cursor`` has something to do.

        Returns at once if ``cursor != head`` (events pending, or a garbage
        cursor that needs a resync) or the log is closed; otherwise when the
        next ``publish``, ``wake`` or ``close`` happens. Always a checkpoint.
        Heartbeats are the caller's ``trio.move_on_after`` around this call.

        Args:
            cursor: the last id the reader has.

        Cancellation:
            Safe at any point; nothing is left behind (the reader is simply
            no longer counted in ``readers_waiting``).
        """
        if self._closed or cursor != self._head:
            await trio.lowlevel.checkpoint()
            return
        await self._changed.wait()

    def wake(self) -> None:
        """Wake every waiting reader without publishing (e.g. a client retired)."""
        self._wake()
        self._wake_direct()

    def add_direct_reader(self, reader: DirectReader) -> None:
        """Offer ``reader`` every event at publish time, for the log's whole life.

        Each ``publish`` calls ``reader.offer(seq, frame)`` before waking the
        ``wait_after`` readers; a reader that declines is woken (``wake``).
        This makes ``publish`` O(direct readers), which is the point: a parked
        SSE stream gets its event written without a task switch.
        """
        self._direct[reader] = None

    def close(self) -> None:
        """Close the log and wake every reader; idempotent.

        Readers drain what is left, then see ``is_drained`` and stop. Later
        publishes are dropped.
        """
        self._closed = True
        self._changed.set()
        self._wake_direct()

    def statistics(self) -> EventLogStatistics:
        """Return a snapshot of the log's counters."""
        return EventLogStatistics(
            head=self._head,
            oldest=self.oldest,
            frames_held=self._head - self.oldest + 1,
            readers_waiting=self._changed.statistics().tasks_waiting,
            bytes_held=self._bytes_held,
            closed=self._closed,
        )

    def _offer(self, seq: int, frame: bytes) -> None:
        for reader in list(self._direct):
            if not reader.offer(seq, frame):
                reader.wake()

    def _wake_direct(self) -> None:
        for reader in list(self._direct):
            reader.wake()

    def _store(self, encoded: str) -> bytes:
        seq = self._head + 1
        body = encoded.encode()
        sse = sse_frame(seq, body)
        slot = (seq - 1) % self.capacity_frames
        # The WebSocket frame is the body plus '"id":<seq>,', all ASCII.
        size = len(sse) + len(body) + len(str(seq)) + 6
        self._bytes_held += size - self._sizes[slot]
        self._sse[slot], self._ws[slot], self._sizes[slot] = (
            sse,
            ws_frame(seq, encoded),
            size,
        )
        self._head = seq
        if seq - self._oldest >= self.capacity_frames:
            self._oldest = seq - self.capacity_frames + 1  # the slot was reused
        if self._bytes_held > self.capacity_bytes:
            self._evict_bytes()
        return sse

    def _evict_bytes(self) -> None:
        """Drop the oldest frames until under the byte bound; keep the newest."""
        while self._bytes_held > self.capacity_bytes and self._oldest < self._head:
            slot = (self._oldest - 1) % self.capacity_frames
            self._bytes_held -= self._sizes[slot]
            self._sse[slot], self._ws[slot], self._sizes[slot] = b"", "", 0
            self._oldest += 1

    def _wake(self) -> None:
        if self._closed:
            return  # the closed event stays set: every wait returns at once
        self._changed.set()
        self._changed = trio.Event()

    def _start(self, cursor: int) -> tuple[int, bool]:
        """Return the first id to send and whether a resync must lead."""
        oldest = self.oldest
        if oldest - 1 <= cursor <= self._head:
            return cursor + 1, False
        self.traffic.resyncs += 1
        return oldest, True

    def _slice(self, ring: list[_T], first: int) -> list[_T]:
        """Return the ring's items for ids ``first..head`` in order."""
        count = self._head - first + 1
        if count <= 0:
            return []
        start = (first - 1) % self.capacity_frames
        stop = start + count
        if stop <= self.capacity_frames:
            return ring[start:stop]
        return ring[start:] + ring[: stop - self.capacity_frames]

    def _resync_envelope(self) -> str:
        return resync_envelope(self.workspace_id, self.oldest)

    def _resync_sse(self) -> bytes:
        # Id oldest - 1: a client resuming from it gets exactly what follows.
        return sse_frame(self.oldest - 1, self._resync_envelope().encode())

    def _resync_ws(self) -> str:
        return ws_frame(self.oldest - 1, self._resync_envelope())
