"""The event stream as WebSocket text frames (C.9); the route is ``events_ws``.

Same log, same claim logic as SSE. Each text frame is one envelope with
``"id"`` added. A client resumes with ``?last_event_id=`` or by sending
``{"last_event_id": N}`` as its first frame; ids only grow, so a client drops
any frame whose id it has already seen.
"""

from __future__ import annotations

import trio
from quart import websocket

from crushd.proto import MAX_EVENT_ID, load_json
from crushd.registry import StreamTicket
from crushd.workspace import EventLog

__all__ = ["NORMAL_CLOSURE", "ws_frames"]

#: Close code for a normal end (teardown, shutdown, retire).
NORMAL_CLOSURE = 1000


class _Cursor:
    """The stream's position; the reader task may rewind it once (first frame)."""

    def __init__(self, position: int) -> None:
        self.position = position
        self.rewound = False


async def ws_frames(log: EventLog, ticket: StreamTicket, cursor: int) -> None:
    """Send the log's frames from ``cursor`` on the accepted ``quart.websocket``.

    Reads the client's first frame as a resume point meanwhile; returns when
    the log is closed and drained or the claim is no longer live.

    Args:
        log: the workspace's event log.
        ticket: the stream's claim (``alive`` turns false on retire/teardown).
        cursor: the last event id the client has.
    """
    position = _Cursor(cursor)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_resume, log, position)
        await _send_frames(log, ticket, position)
        nursery.cancel_scope.cancel()


async def _send_frames(log: EventLog, ticket: StreamTicket, cursor: _Cursor) -> None:
    while True:
        batch = log.read_ws(cursor.position)
        cursor.position = batch.cursor
        log.traffic.delivered += len(batch.frames)
        for frame in batch.frames:
            await websocket.send(frame)
        if (log.closed and log.is_drained(cursor.position)) or not ticket.alive:
            return
        await log.wait_after(cursor.position)


async def _read_resume(log: EventLog, cursor: _Cursor) -> None:
    # Only the first client frame may carry a resume point; later frames are
    # read and ignored so the connection's close is noticed.
    first = True
    while True:
        message = await websocket.receive()
        if first:
            first = False
            resume = _resume_point(message)
            if resume is not None and resume < cursor.position:
                cursor.position = resume
                log.wake()


def _resume_point(message: str | bytes) -> int | None:
    # A frame that is not {"last_event_id": <id>} is ignored, as is any id
    # outside 0..MAX_EVENT_ID (bool is an int in Python, never an id here).
    try:
        value = load_json(message)
    except ValueError:
        return None
    resume = value.get("last_event_id") if isinstance(value, dict) else None
    if type(resume) is int and 0 <= resume <= MAX_EVENT_ID:
        return resume
    return None
