"""The event stream routes: SSE (hot, plain ASGI) and WebSocket (C.9).

Both validate the client id and the resume point, find the workspace and
attach the claim *before* the stream is accepted, so a client that saw the
200 (or the upgrade) sees every later event; the claim is detached however
the stream ends.

A stream attached without a resume point first receives the prompts still
waiting for a client (pending permission requests, the question batch on
screen) as ``created`` events without ids, read in the same synchronous step
as the attach and the cursor, so each pending prompt arrives exactly once:
replayed, or later from the log. A resuming client gets them from the log
(or, after ``resync``, from ``GET .../permissions``).

Source: docs/protocol.md 3.1 (SSE, handshake order), C.1 (resume), C.4, C.9.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING

import trio
from quart import websocket

from crushd.registry import StreamTicket
from crushd.workspace import EventLog, replay_frames

if TYPE_CHECKING:
    from crushd.workspace import Workspace

from ..http import (
    HotRequest,
    ServerContext,
    last_event_id_from,
    on_request_end,
    parse_query_client_id,
)
from ..patches import RAW_SEND_KEY
from ..streams import NORMAL_CLOSURE, SSE_HEADERS, chunk_writer, sse_frames, ws_frames
from ._live import live_workspace

_SSE_HEADERS = [(n.lower().encode(), v.encode()) for n, v in SSE_HEADERS.items()]


async def events(ctx: ServerContext, request: HotRequest, workspace_id: str) -> None:
    """``GET /v1/workspaces/{id}/events?client_id=`` (hot): the SSE stream.

    Errors before the stream (400 client id or resume point, 404 workspace,
    409 claim) are JSON answers (``HotDispatch``); hypercorn writes the 200
    head at once.
    """
    ticket, log, resume_from, workspace = _attach(ctx, request, workspace_id)
    try:
        cursor = log.head if resume_from is None else resume_from
        first = _replay(workspace, resume_from)[0]
        writer = chunk_writer(request.scope.get(RAW_SEND_KEY))
        frames = sse_frames(log, ticket, cursor, ctx.heartbeat_seconds, writer)
        await _stream(request, frames, first)
    finally:
        ctx.registry.detach(ticket)


def _attach(
    ctx: ServerContext, request: HotRequest, workspace_id: str
) -> tuple[StreamTicket, EventLog, int | None, Workspace]:
    """Validate the request and attach its claim.

    Returns:
        ``(ticket, log, resume point, workspace)``.
    """
    args, headers = request.args, request.headers
    client_id = parse_query_client_id(args)
    resume_from = last_event_id_from(headers, args)
    hosted, workspace = live_workspace(ctx.registry, workspace_id)
    user_agent = headers.get("user-agent") or ""
    ticket = ctx.registry.attach(hosted.id, client_id, user_agent)
    return ticket, workspace.log, resume_from, workspace


def _replay(workspace: Workspace, resume_from: int | None) -> tuple[bytes, list[str]]:
    """The pending prompts for a fresh attach (none for a resume)."""
    if resume_from is not None:
        return b"", []
    return replay_frames(workspace.pending_prompts())


async def _stream(
    request: HotRequest, frames: AsyncGenerator[bytes, None], first: bytes
) -> None:
    """Send the 200 head, ``first``, then every chunk of ``frames``.

    Ends when the frames end or the client goes.
    """
    send = request.send
    await request.start(200, _SSE_HEADERS)
    if first:
        await send({"type": "http.response.body", "body": first, "more_body": True})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(request.cancel_on_disconnect, nursery.cancel_scope)
        async with aclosing(frames):
            async for chunk in frames:
                message = {"body": chunk, "more_body": True}
                await send({"type": "http.response.body", **message})
        await send({"type": "http.response.body", "body": b""})
        nursery.cancel_scope.cancel()


async def events_ws(ctx: ServerContext, workspace_id: str) -> None:
    """``GET /v1/workspaces/{id}/ws?client_id=``: the stream as WebSocket frames.

    The claim is attached before the upgrade is accepted and detached when
    the connection ends (``on_request_end``).
    """
    registry = ctx.registry
    client_id = parse_query_client_id(websocket.args)
    resume_from = last_event_id_from(websocket.headers, websocket.args)
    hosted, workspace = live_workspace(registry, workspace_id)
    user_agent = websocket.headers.get("User-Agent", "")
    ticket = registry.attach(hosted.id, client_id, user_agent)
    on_request_end(lambda: registry.detach(ticket), ws=True)
    log = workspace.log
    cursor = log.head if resume_from is None else resume_from
    replayed = _replay(workspace, resume_from)[1]
    await websocket.accept()
    for frame in replayed:
        await websocket.send(frame)
    await ws_frames(log, ticket, cursor)
    await websocket.close(NORMAL_CLOSURE)
