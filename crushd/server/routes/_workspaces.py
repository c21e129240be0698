"""Workspace routes: create/join and release (hot), list, get, presence, roster.

Source: docs/protocol.md 2.2.
"""

from __future__ import annotations

import trio
from quart import Response

from crushd.proto import CurrentSessionRequest
from crushd.proto import Workspace as WireWorkspace
from crushd.registry import Hosted

from ..http import (
    HotRequest,
    ServerContext,
    decode_body,
    decode_json,
    empty_response,
    json_body,
    json_response,
    parse_query_client_id,
    query_client_id,
)
from ._live import live_workspace, workspace_of


async def create_workspace(ctx: ServerContext, request: HotRequest) -> None:
    """``POST /v1/workspaces`` (hot): create or join (``Registry.create``).

    A client that disconnects before the answer cancels the create (as
    quart cancelled its handler): a build nobody waits for is undone and
    no claim is left behind (``Registry.create``'s cancellation rules); it
    gets no answer. Errors are answered by ``HotDispatch``.
    """
    data = await request.body()
    hosted = await _create_unless_gone(ctx, request, data)
    if hosted is not None:
        body = json_body(workspace_of(ctx, hosted.id).to_wire())
        await request.reply(200, body)


async def _create_unless_gone(
    ctx: ServerContext, request: HotRequest, data: bytes
) -> Hosted | None:
    """Run the create; ``None`` if the client disconnected meanwhile."""
    wanted = decode_json(data, WireWorkspace)
    hosted, failure = None, None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(request.cancel_on_disconnect, nursery.cancel_scope)
        try:
            hosted = await ctx.registry.create(wanted)
        except Exception as error:  # noqa: BLE001 - raised bare, below
            failure = error  # not wrapped in the nursery's ExceptionGroup
        nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return hosted


async def release_workspace(
    ctx: ServerContext, request: HotRequest, workspace_id: str
) -> None:
    """``DELETE /v1/workspaces/{id}`` (hot): drop the caller's claim; empty 200."""
    client_id = parse_query_client_id(request.args)
    ctx.registry.release(workspace_id, client_id)
    await request.reply(200, b"", content_type=None)


async def list_workspaces(ctx: ServerContext) -> Response:
    """``GET /v1/workspaces``: every live workspace."""
    registry = ctx.registry
    hosted = registry.workspaces()
    return json_response([live_workspace(registry, h.id)[1].to_wire() for h in hosted])


async def get_workspace(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET /v1/workspaces/{id}``: one workspace; 404 if unknown."""
    return json_response(workspace_of(ctx, workspace_id).to_wire())


async def current_session(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../current-session?client_id=``: the session the client views."""
    client_id = query_client_id()
    body = await decode_body(CurrentSessionRequest)
    ctx.registry.set_current_session(workspace_id, client_id, body.session_id)
    return empty_response()


async def workspace_config(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../config``: the workspace's effective config, redacted."""
    return json_response(workspace_of(ctx, workspace_id).config())


async def roster(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../clients``: who is attached (crushd addition)."""
    return json_response(ctx.registry.roster(workspace_id))
