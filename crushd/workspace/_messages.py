"""The message service: write, then publish; streaming updates coalesced by one flusher.

Every change of a message is written to the database first and published on
the workspace's event log after the write committed, so a client that saw
event N reads at least that state. Streaming updates (``update_soon``) only
mark the message dirty; one flusher task per workspace wakes, waits the
debounce window (33 ms), writes every dirty message in one transaction and
publishes one ``message``/``updated`` per message in write order. Structural
and final updates (``update_now``) are written through at once. The provider
reads line up with that debounce window (``FlushWindow``): the flusher waits
for the reads it woke at the close before it writes, and gathers window
after window while they keep coming. While the daemon's event traffic runs
above its busy rates (another workspace fanning a burst out), a window stays
open a debounce more at a time, up to ``STRETCH_SECONDS``: the per-window
work is then done once for several windows (``_traffic``).

All writes and their publishes run one at a time, in call order, under one
lock: a flush therefore waits for a write already in flight, and an event
never overtakes the write of an earlier one.

Source: Crush ``internal/message/message.go`` (33 ms debounce, terminal
updates flushed synchronously, ``Flush``/``FlushAll``, ``Delete`` drops the
pending state); docs/agent.md 1.5 and 7.5 (one flusher, one transaction per
window instead of a timer per message; the stretch under load is crushd's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs
import trio

from crushd.proto import CREATED, DELETED, MESSAGE_EVENT, UPDATED, Message, Part
from crushd.store import MessageStore

from ._eventlog import EventLog
from ._flush_window import FlushWindow
from ._traffic import TrafficMark

log = logging.getLogger("crushd.workspace")

#: How long the flusher gathers streaming updates before writing, seconds.
DEBOUNCE_SECONDS = 0.033

#: How long a window may stay open, seconds, while the daemon's event traffic
#: is above its busy rates (``EventTraffic``): one debounce more at a time.
#: Two updates a second still read as live; 0.5 rather than 0.3 s: a burst
#: of 0.3-0.45 s then meets one flush, not two (burst beside the answers over
#: alone, burst phase only, alternated four times: 0.87-1.11 against
#: 0.82-0.88; stress/RESULTS.md "The flusher steps aside").
STRETCH_SECONDS = 0.5

_FINISH = "finish"

#: A list of messages (``list`` is a method name inside ``MessageService``).
Messages = list[Message]


def with_stop_finish(message: Message) -> Message:
    """Give a non-assistant message its ``finish{reason:"stop",time:0}`` part.

    Upstream's message service appends that part to every user, tool and
    system message it creates; a message that already has a finish part (or
    an assistant message) is returned unchanged.
    """
    if message.role == "assistant" or any(p.type == _FINISH for p in message.parts):
        return message
    finish = Part(type=_FINISH, data={"reason": "stop", "time": 0})
    return attrs.evolve(message, parts=[*message.parts, finish])


def _ignore_count(_session_id: str, _delta: int) -> None:
    return None


class MessageService:
    """Messages of one workspace: the agent's message sink and the routes' reads.

    Run ``serve`` in the workspace nursery for debounced updates to flush on
    their own; without it they are written by the next ``flush_session``,
    ``flush_all``, ``list`` or ``update_now`` of that message.

    Args:
        store: the workspace database's messages table.
        log: the workspace's event log.
        debounce_seconds: how long the flusher gathers updates.
        stretch_seconds: the longest a window stays open while the daemon's
            event traffic is busy (``EventTraffic.busy_since``).
        count_changed: called as ``count_changed(session_id, delta)`` after a
            message of that session was created (+1) or deleted (-1).
    """

    def __init__(
        self,
        store: MessageStore,
        log: EventLog,
        *,
        debounce_seconds: float = DEBOUNCE_SECONDS,
        stretch_seconds: float = STRETCH_SECONDS,
        count_changed: Callable[[str, int], None] | None = None,
    ) -> None:
        self._store = store
        self._log = log
        self._count_changed = count_changed or _ignore_count
        self._debounce = debounce_seconds
        self._stretch = stretch_seconds
        self._dirty: dict[str, Message] = {}  # insertion order = write order
        self._lock = trio.Lock()  # one write-then-publish at a time, FIFO
        self._wake = trio.Event()
        #: The window the provider reads line up with (``FlushWindow``).
        self.window = FlushWindow()

    @property
    def pending(self) -> int:
        """How many messages have a debounced update not yet written."""
        return len(self._dirty)

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the flusher until cancelled (one per workspace).

        A failed write is logged and its messages stay dirty (written by the
        next update, flush or ``update_now``); the flusher goes on.

        Cancellation: what is dirty stays dirty; ``flush_all`` (the
        workspace's close) writes it.
        """
        task_status.started()
        while True:
            await self._wake.wait()
            self.window.open()
            try:
                await self._gather()
            finally:
                self.window.shut()

    async def _gather(self) -> None:
        # Windows back to back while provider reads keep parking in them.
        opened, mark = trio.current_time(), self._log.traffic.mark()
        while True:
            await trio.sleep_until(opened + self._debounce)
            await self._step_aside(opened, mark)
            reading = self.window.close()
            opened = trio.current_time()
            await self.window.settle()
            self._wake = trio.Event()
            try:
                await self._flush(None)
            except Exception:
                log.exception("writing %d streamed messages failed", self.pending)
            if not reading:
                return
            mark = self._log.traffic.mark()

    async def _step_aside(self, opened: float, mark: TrafficMark) -> None:
        # While the daemon's other events crowd the loop, keep the window
        # open a debounce more, up to ``stretch_seconds`` in all (_traffic).
        traffic = self._log.traffic
        while traffic.busy_since(mark) and trio.current_time() - opened < self._stretch:
            mark = traffic.mark()
            traffic.stretches += 1
            await trio.sleep(self._debounce)

    async def create(self, message: Message) -> Message:
        """Insert a message, then publish ``message``/``created``.

        Non-assistant messages get upstream's ``finish{stop}`` part when they
        have none (``with_stop_finish``).

        Returns:
            The message as stored.

        Raises:
            SessionNotFound: the message's session does not exist (404).
            InternalError: the database failed, e.g. a duplicate id (500).
        """
        message = with_stop_finish(message)
        async with self._lock:
            created = await self._store.create(message)
            self._count_changed(created.session_id, 1)
            self._log.publish(MESSAGE_EVENT, CREATED, created)
        return created

    def update_soon(self, message: Message) -> None:
        """Mark ``message`` dirty; the flusher writes and publishes it shortly.

        Synchronous and cheap: a later snapshot of the same message replaces
        this one before it is written (the deltas coalesce).
        """
        self._dirty[message.id] = message
        self._wake.set()

    async def update_now(self, message: Message) -> None:
        """Write ``message`` through, then publish ``message``/``updated``.

        For structural and final changes (a tool call added or finished,
        reasoning ended, the finish part). A debounced snapshot of the same
        message still waiting is superseded; one already being written lands
        first. A message deleted meanwhile is neither written nor published.

        Raises:
            InternalError: the database failed (500).
        """
        async with self._lock:
            self._dirty.pop(message.id, None)
            await self._write([message])

    async def flush_session(self, session_id: str) -> None:
        """Write and publish the session's debounced updates now.

        Returns after every write already in flight has landed too.

        Raises:
            InternalError: the database failed (500); the updates stay dirty.
        """
        await self._flush(session_id)

    async def flush_all(self) -> None:
        """Write and publish every debounced update now (teardown, tests).

        Raises:
            InternalError: the database failed (500); the updates stay dirty.
        """
        await self._flush(None)

    async def list(self, session_id: str) -> Messages:
        """Return a session's messages oldest first, its pending updates flushed.

        Returns:
            ``[]`` for an unknown session (as upstream).
        """
        await self.flush_session(session_id)
        return await self._store.list_for_session(session_id)

    async def get(self, message_id: str) -> Message:
        """Return one message: its pending snapshot, else the stored row.

        Raises:
            NotFound: no message has that id (404 ``message not found``).
        """
        pending = self._dirty.get(message_id)
        return pending if pending is not None else await self._store.get(message_id)

    async def delete(self, message_id: str) -> None:
        """Delete a message, drop its pending update, publish ``message``/``deleted``.

        Raises:
            NotFound: no message has that id (404 ``message not found``).
        """
        async with self._lock:
            self._dirty.pop(message_id, None)
            deleted = await self._store.delete(message_id)
            self._count_changed(deleted.session_id, -1)
            self._log.publish(MESSAGE_EVENT, DELETED, deleted)

    async def list_user_for_session(self, session_id: str) -> Messages:
        """Return a session's ``user`` messages, newest first."""
        return await self._store.list_user_for_session(session_id)

    async def list_user_all(self) -> Messages:
        """Return the ``user`` messages of every session, newest first."""
        return await self._store.list_user_all()

    async def _flush(self, session_id: str | None) -> None:
        async with self._lock:
            batch = self._take(session_id)
            if not batch:
                return
            try:
                await self._write(batch)
            except BaseException:
                self._restore(batch)
                raise

    async def _write(self, batch: Messages) -> None:
        # Database.run never abandons a started write and there is no
        # checkpoint between its return and the publishes: write, then publish.
        for written in await self._store.update_many(batch):
            self._log.publish(MESSAGE_EVENT, UPDATED, written)

    def _take(self, session_id: str | None) -> Messages:
        if session_id is None:
            batch, self._dirty = list(self._dirty.values()), {}
            return batch
        batch = [m for m in self._dirty.values() if m.session_id == session_id]
        for message in batch:
            del self._dirty[message.id]
        return batch

    def _restore(self, batch: Messages) -> None:
        # A newer snapshot taken meanwhile wins over the one that failed.
        for message in batch:
            self._dirty.setdefault(message.id, message)
