"""Session routes: CRUD, messages, user messages, history.

Source: docs/protocol.md 2.3, 5.6, B.2-B.4.
"""

from __future__ import annotations

import attrs
from quart import Response

from crushd.proto import Session, SessionCreate, SessionUpdate
from crushd.workspace import Workspace

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import workspace_of


def _presence(ctx: ServerContext, workspace: Workspace, session: Session) -> Session:
    # Both computed per answer (docs/protocol.md 5.6): busy while the
    # agent runs the session, attached = live viewers of it.
    attached = ctx.registry.attached_clients(workspace.id, session.id)
    busy = workspace.is_busy(session.id)
    return attrs.evolve(session, is_busy=busy, attached_clients=attached)


async def list_sessions(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../sessions``: every session, with presence."""
    workspace = workspace_of(ctx, workspace_id)
    sessions = await workspace.sessions.list()
    return json_response([_presence(ctx, workspace, s) for s in sessions])


async def create_session(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../sessions``: a new session from a ``SessionCreate`` body."""
    workspace = workspace_of(ctx, workspace_id)
    session = await workspace.sessions.create(await decode_body(SessionCreate))
    return json_response(_presence(ctx, workspace, session))


async def get_session(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../sessions/{sid}``: one session; 404 if unknown."""
    workspace = workspace_of(ctx, workspace_id)
    session = await workspace.sessions.get(session_id)
    return json_response(_presence(ctx, workspace, session))


async def update_session(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``PUT .../sessions/{sid}``: apply a ``SessionUpdate`` body."""
    workspace = workspace_of(ctx, workspace_id)
    body = await decode_body(SessionUpdate)
    session = await workspace.sessions.update(session_id, body)
    return json_response(_presence(ctx, workspace, session))


async def delete_session(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``DELETE .../sessions/{sid}``: empty 200."""
    await workspace_of(ctx, workspace_id).sessions.delete(session_id)
    return empty_response()


async def messages(ctx: ServerContext, workspace_id: str, session_id: str) -> Response:
    """``GET .../sessions/{sid}/messages``; flushes streaming updates first."""
    service = workspace_of(ctx, workspace_id).messages
    return json_response(await service.list(session_id))


async def session_user_messages(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../sessions/{sid}/messages/user``."""
    service = workspace_of(ctx, workspace_id).messages
    return json_response(await service.list_user_for_session(session_id))


async def workspace_user_messages(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../messages/user``: the user messages of every session."""
    service = workspace_of(ctx, workspace_id).messages
    return json_response(await service.list_user_all())


async def history(ctx: ServerContext, workspace_id: str, session_id: str) -> Response:
    """``GET .../sessions/{sid}/history``: the file versions; 404 unknown session."""
    workspace = workspace_of(ctx, workspace_id)
    await workspace.sessions.get(session_id)
    return json_response(await workspace.files.history(session_id))
