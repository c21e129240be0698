"""Workspace routes: list, get, presence, roster (2.2); create/release: ``_hot``."""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from crushd.proto import CurrentSessionRequest

from ..http import (
    ServerContext,
    decode_body,
    empty_response,
    json_response,
    query_client_id,
)
from ._live import live_workspace
from ._rules import View, add_rules

_WS = "/v1/workspaces/<workspace_id>"


def register_workspace_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add the ``/v1/workspaces`` routes handled in this issue."""
    registry = ctx.registry

    async def list_workspaces() -> Response:
        hosted = registry.workspaces()
        return json_response(
            [live_workspace(registry, h.id)[1].to_wire() for h in hosted]
        )

    async def get_workspace(workspace_id: str) -> Response:
        return json_response(live_workspace(registry, workspace_id)[1].to_wire())

    async def current_session(workspace_id: str) -> Response:
        client_id = query_client_id()
        body = await decode_body(CurrentSessionRequest)
        registry.set_current_session(workspace_id, client_id, body.session_id)
        return empty_response()

    async def workspace_config(workspace_id: str) -> Response:
        return json_response(live_workspace(registry, workspace_id)[1].config())

    async def roster(workspace_id: str) -> Response:
        return json_response(registry.roster(workspace_id))

    async def pending_permissions(workspace_id: str) -> Response:
        live_workspace(registry, workspace_id)
        return json_response([])

    rules: list[tuple[str, View, str]] = [
        ("/v1/workspaces", list_workspaces, "GET"),
        (_WS, get_workspace, "GET"),
        (f"{_WS}/current-session", current_session, "POST"),
        (f"{_WS}/config", workspace_config, "GET"),
        (f"{_WS}/clients", roster, "GET"),
        (f"{_WS}/permissions", pending_permissions, "GET"),
    ]
    add_rules(app, rules)
