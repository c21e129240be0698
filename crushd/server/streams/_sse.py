"""The SSE stream's frames over a workspace's event log (the route is in ``_hot``).

Each wake-up writes everything between the cursor
and the head as one chunk (docs/architecture.md 4); while the stream is parked, new
events are written at publish without waking it (``_direct``); idle streams
get ``: ping``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import trio

from crushd.registry import StreamTicket
from crushd.workspace import PING_FRAME, EventLog

from ._direct import DirectFollower, DirectWriter

SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}


async def sse_frames(
    log: EventLog,
    ticket: StreamTicket,
    cursor: int,
    heartbeat_seconds: float,
    writer: DirectWriter | None = None,
) -> AsyncGenerator[bytes, None]:
    """Yield coalesced SSE chunks from ``cursor`` until the stream must end.

    Ends when the log is closed and drained (teardown, shutdown) or the claim
    is no longer live (client retired). No yield happens inside a cancel scope.
    While this waits for the next event, a ``writer`` lets the log write each
    new event straight to the connection at publish (``_direct``); what it
    cannot take is yielded here as usual. ``: ping`` goes out after
    ``heartbeat_seconds`` with nothing written either way.

    Args:
        log: the workspace's event log.
        ticket: the stream's claim (``alive`` turns false on retire/teardown).
        cursor: the last event id the client has (resume point).
        heartbeat_seconds: idle time before a ``: ping`` comment frame.
        writer: the connection's direct chunk writer; ``None`` = none.

    Cancellation: the caller's request cleanup detaches the claim; the
    ``finally`` here only unregisters the follower (synchronous).
    """
    follower = DirectFollower(log, cursor, writer)
    try:
        while True:
            batch = log.read_sse(follower.cursor)
            log.traffic.delivered += batch.cursor - follower.cursor
            follower.cursor = batch.cursor
            if batch.data or follower.flush_needed:
                # A ping also pushes out the rest of a partial direct write.
                follower.flush_needed = False
                yield batch.data or PING_FRAME
            if (log.closed and log.is_drained(follower.cursor)) or not ticket.alive:
                return
            with trio.move_on_after(heartbeat_seconds) as idle:
                await follower.wait()
            if idle.cancelled_caught and _idle(follower, heartbeat_seconds):
                yield PING_FRAME
    finally:
        follower.close()


def _idle(follower: DirectFollower, heartbeat_seconds: float) -> bool:
    """Whether nothing was written directly within the last heartbeat."""
    return trio.current_time() - follower.last_direct_write >= heartbeat_seconds
