"""Session routes: CRUD, messages, user messages, history.

Source: docs/protocol.md 2.3, 5.6, B.2-B.4.
"""

from __future__ import annotations

import attrs
from quart import Response
from quart_trio import QuartTrio

from crushd.proto import Session, SessionCreate, SessionUpdate
from crushd.registry import Registry
from crushd.workspace import Workspace

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import live_workspace
from ._rules import View, add_rules

_WS = "/v1/workspaces/<workspace_id>"
_SESSION = f"{_WS}/sessions/<session_id>"


def register_session_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add the session, message and history routes."""
    registry = ctx.registry

    def presence(workspace: Workspace, session: Session) -> Session:
        # Both computed per answer (docs/protocol.md 5.6): busy while the
        # agent runs the session, attached = live viewers of it.
        attached = registry.attached_clients(workspace.id, session.id)
        busy = workspace.is_busy(session.id)
        return attrs.evolve(session, is_busy=busy, attached_clients=attached)

    async def list_sessions(workspace_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        sessions = await workspace.sessions.list()
        return json_response([presence(workspace, s) for s in sessions])

    async def create_session(workspace_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        session = await workspace.sessions.create(await decode_body(SessionCreate))
        return json_response(presence(workspace, session))

    async def get_session(workspace_id: str, session_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        session = await workspace.sessions.get(session_id)
        return json_response(presence(workspace, session))

    async def update_session(workspace_id: str, session_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        body = await decode_body(SessionUpdate)
        session = await workspace.sessions.update(session_id, body)
        return json_response(presence(workspace, session))

    async def delete_session(workspace_id: str, session_id: str) -> Response:
        await live_workspace(registry, workspace_id)[1].sessions.delete(session_id)
        return empty_response()

    rules: list[tuple[str, View, str]] = [
        (f"{_WS}/sessions", list_sessions, "GET"),
        (f"{_WS}/sessions", create_session, "POST"),
        (_SESSION, get_session, "GET"),
        (_SESSION, update_session, "PUT"),
        (_SESSION, delete_session, "DELETE"),
    ]
    add_rules(app, rules)
    _register_read_routes(app, registry)


def _register_read_routes(app: QuartTrio, registry: Registry) -> None:
    async def messages(workspace_id: str, session_id: str) -> Response:
        # Flushes the session's streaming updates first (upstream flushes all).
        service = live_workspace(registry, workspace_id)[1].messages
        return json_response(await service.list(session_id))

    async def session_user_messages(workspace_id: str, session_id: str) -> Response:
        service = live_workspace(registry, workspace_id)[1].messages
        return json_response(await service.list_user_for_session(session_id))

    async def workspace_user_messages(workspace_id: str) -> Response:
        service = live_workspace(registry, workspace_id)[1].messages
        return json_response(await service.list_user_all())

    async def history(workspace_id: str, session_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        await workspace.sessions.get(session_id)
        return json_response(await workspace.files.history(session_id))

    rules: list[tuple[str, View, str]] = [
        (f"{_SESSION}/messages", messages, "GET"),
        (f"{_SESSION}/messages/user", session_user_messages, "GET"),
        (f"{_WS}/messages/user", workspace_user_messages, "GET"),
        (f"{_SESSION}/history", history, "GET"),
    ]
    add_rules(app, rules)
