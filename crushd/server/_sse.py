"""``GET /v1/workspaces/{id}/events``: the SSE stream over a workspace's event log.

Handshake order as upstream (PROTOCOL.md 3.1): validate the client id, find
the workspace, attach the claim and fix the cursor, then answer 200 with the
headers flushed at once, so a client that saw the 200 is counted as attached
and sees every later event. Each wake-up writes everything between the cursor
and the head as one chunk (DESIGN.md 4); idle streams get ``: ping``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import trio
from quart import Response, request
from quart_trio import QuartTrio

from crushd.registry import StreamTicket
from crushd.workspace import PING_FRAME, EventLog

from ._cleanup import on_request_end
from ._context import ServerContext
from ._http import last_event_id, query_client_id
from ._live import live_workspace

SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}


async def sse_frames(
    log: EventLog, ticket: StreamTicket, cursor: int, heartbeat_seconds: float
) -> AsyncGenerator[bytes, None]:
    """Yield coalesced SSE chunks from ``cursor`` until the stream must end.

    Ends when the log is closed and drained (teardown, shutdown) or the claim
    is no longer live (client retired). No yield happens inside a cancel scope.

    Args:
        log: the workspace's event log.
        ticket: the stream's claim (``alive`` turns false on retire/teardown).
        cursor: the last event id the client has (resume point).
        heartbeat_seconds: idle time before a ``: ping`` comment frame.

    Cancellation: the caller's request cleanup detaches the claim; nothing
    here needs to run on cancel.
    """
    while True:
        batch = log.read_sse(cursor)
        cursor = batch.cursor
        if batch.data:
            yield batch.data
        if (log.closed and log.is_drained(cursor)) or not ticket.alive:
            return
        with trio.move_on_after(heartbeat_seconds) as idle:
            await log.wait_after(cursor)
        if idle.cancelled_caught:
            yield PING_FRAME


def register_sse_route(app: QuartTrio, ctx: ServerContext) -> None:
    """Add ``GET /v1/workspaces/<id>/events``."""
    registry = ctx.registry

    async def events(workspace_id: str) -> Response:
        client_id = query_client_id()
        resume_from = last_event_id()
        hosted, workspace = live_workspace(registry, workspace_id)
        user_agent = request.headers.get("User-Agent", "")
        ticket = registry.attach(hosted.id, client_id, user_agent)
        on_request_end(lambda: registry.detach(ticket))
        log = workspace.log
        cursor = log.head if resume_from is None else resume_from
        body = sse_frames(log, ticket, cursor, ctx.heartbeat_seconds)
        response = Response(body, status=200, headers=SSE_HEADERS)
        response.timeout = None  # quart's 60 s RESPONSE_TIMEOUT would cut the stream
        return response

    app.add_url_rule(
        "/v1/workspaces/<workspace_id>/events", "events", events, methods=["GET"]
    )
