"""Permission and question routes: every client may answer any prompt.

The decisions are the workspace's services' (``crushd.workspace``
``PermissionService`` and ``QuestionService``): each resolution is one
synchronous call, so the first client to answer wins and every later or
unknown answer gets ``{"resolved": false}``, never an error (docs/protocol.md
2.6, 2.7, 6.5, 6.6; docs/agent.md 3.4). crushd adds an optional
``?client_id=`` on the answering routes (the notification names who decided),
``session_id`` on ``permissions/skip`` (auto-approve one session), and the
pending list ``GET .../permissions`` (part C).
"""

from __future__ import annotations

from quart import Response, request

from crushd.proto import (
    PermissionGrant,
    PermissionSkip,
    QuestionAnswer,
    QuestionCancel,
    Resolved,
)

from ..http import (
    ServerContext,
    decode_body,
    decode_json,
    empty_response,
    json_response,
)
from ..http import parse_query_client_id as _parse_client_id
from ._live import workspace_of


def _client_id() -> str:
    """The optional ``client_id`` query parameter, validated when present.

    Raises:
        ClientIDNotUUID: present but not a UUID (400).
    """
    if "client_id" not in request.args:
        return ""
    return _parse_client_id(request.args)


async def pending_permissions(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../permissions``: the requests waiting for a decision, oldest first."""
    return json_response(workspace_of(ctx, workspace_id).permissions.pending())


async def get_skip(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../permissions/skip[?session_id=]``: ``{"skip": bool}``.

    Without ``session_id``: the workspace toggle (yolo or a runtime POST);
    with one: whether that session's prompts are skipped.
    """
    workspace = workspace_of(ctx, workspace_id)
    session_id = request.args.get("session_id", "")
    return json_response(PermissionSkip(workspace.permissions.skip(session_id or None)))


async def set_skip(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../permissions/skip`` ``{"skip": bool, "session_id"?}``: 200, empty.

    Raises:
        DecodeError: a body that is not ``{"skip": bool, ...}`` (400).
    """
    workspace = workspace_of(ctx, workspace_id)
    body = await decode_body(PermissionSkip)
    workspace.permissions.set_skip(body.skip, body.session_id or None)
    return empty_response()


async def grant(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../permissions/grant[?client_id=]``: ``{"resolved": bool}``.

    Raises:
        DecodeError: the body is not a grant (400).
        InvalidPermissionAction: ``action`` is not allow, allow_session or
            deny (400 ``invalid permission action``).
    """
    workspace = workspace_of(ctx, workspace_id)
    client_id = _client_id()
    body = await decode_body(PermissionGrant)
    return json_response(Resolved(workspace.permissions.grant(body, client_id)))


async def answer_questions(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../questions/answer[?client_id=]``: ``{"resolved": bool}``.

    ``resolved`` is false when no batch is pending or ``batch_request_id``
    names another one (a stale form).
    """
    workspace = workspace_of(ctx, workspace_id)
    client_id = _client_id()
    body = await decode_body(QuestionAnswer)
    resolved = workspace.questions.answer(
        body.batch_request_id, body.responses, client_id
    )
    return json_response(Resolved(resolved))


async def cancel_questions(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../questions/cancel[?client_id=]``: ``{"resolved": bool}``.

    The body is optional (upstream sends none); ``{"batch_request_id"}``
    cancels only that batch.
    """
    workspace = workspace_of(ctx, workspace_id)
    client_id = _client_id()
    data = await request.get_data(cache=False, as_text=False)
    body = decode_json(data, QuestionCancel) if data.strip() else QuestionCancel()
    resolved = workspace.questions.cancel(body.batch_request_id, client_id)
    return json_response(Resolved(resolved))
