"""Agent routes: prompts, init, cancel, the queue, agent info (docs/protocol.md 2.8).

``POST /agent`` decides synchronously and answers 202 before any database
access: the run itself is started in the workspace's agent nursery, so the
prompting client may leave and the run goes on (docs/agent.md 1.2, 7.2). Only
``cancel`` or the workspace's teardown ends a run.

The agent package is imported on the first ``agent/init`` (by the workspace),
never at daemon start; this module only names its types for the checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import attrs
from quart import Response, request

from crushd.errors import AgentNotInitialized, BadRequest, DecodeError
from crushd.proto import (
    DELIVERIES,
    AgentInfo,
    AgentInitRequest,
    AgentMessage,
    SelectedModel,
    agent_session,
)

from ..http import (
    HotRequest,
    ServerContext,
    decode_json,
    empty_response,
    json_response,
)
from ._live import workspace_of

if TYPE_CHECKING:
    from crushd.agent import AgentCoordinator, PromptAttachment
    from crushd.workspace import Workspace


def _agent(workspace: Workspace) -> AgentCoordinator | None:
    return cast("AgentCoordinator | None", workspace.agent)


def _required_agent(workspace: Workspace) -> AgentCoordinator:
    agent = _agent(workspace)
    if agent is None:
        raise AgentNotInitialized
    return agent


def _checked(message: AgentMessage) -> AgentMessage:
    if message.delivery not in DELIVERIES:
        raise BadRequest(
            f'invalid delivery {message.delivery!r}: use "steer" or "queue"'
        )
    return message


def _attachments(message: AgentMessage) -> list[PromptAttachment]:
    from crushd.agent import PromptAttachment

    try:
        return [
            PromptAttachment(a.file_path, a.file_name, a.mime_type, a.data())
            for a in message.attachments
        ]
    except ValueError as exc:
        raise DecodeError(f"failed to decode request: {exc}") from None


async def send_prompt(
    ctx: ServerContext, request: HotRequest, workspace_id: str
) -> None:
    """``POST .../agent`` (hot): queue or steer a prompt; 202 before any run starts.

    Served over plain ASGI (``HotDispatch``): the prompt is the agent's most
    frequent request and quart's request machinery cost it a few task hops
    on a busy loop. Checks, in upstream's order: the workspace (404), the
    body (400, 413), ``delivery`` (400), ``agent/init`` done (400), then
    ``submit``'s own (docs/protocol.md 2.8, decision B.5).
    """
    workspace = workspace_of(ctx, workspace_id)
    message = _checked(decode_json(await request.body(), AgentMessage))
    _required_agent(workspace).submit(
        message.session_id,
        message.prompt,
        run_id=message.run_id,
        client_id=message.client_id,
        attachments=_attachments(message),
        delivery=message.delivery,
    )
    await request.reply(202, b"", content_type=None)


async def init_agent(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../agent/init``: start the workspace's agent (body optional)."""
    workspace = workspace_of(ctx, workspace_id)
    body = await request.get_data(cache=False, as_text=False)
    # The body is optional: upstream reads it only when one was sent.
    options = decode_json(body, AgentInitRequest) if body.strip() else None
    agent = cast("AgentCoordinator", await workspace.ensure_agent())
    await agent.init(options is not None and options.interactive)
    return empty_response()


async def update_agent(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../agent/update``: reload the agent's models and tools."""
    await _required_agent(workspace_of(ctx, workspace_id)).update()
    return empty_response()


async def agent_info(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../agent``: ``AgentInfo`` (empty before ``agent/init``)."""
    agent = _agent(workspace_of(ctx, workspace_id))
    return json_response(AgentInfo() if agent is None else agent.info())


async def get_agent_session(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../agent/sessions/{sid}``: the session with its busy flag."""
    workspace = workspace_of(ctx, workspace_id)
    session = await workspace.sessions.get(session_id)
    busy = workspace.is_busy(session_id)
    return json_response(agent_session(session.id, session.title, busy))


def _agent_of(ctx: ServerContext, workspace_id: str) -> AgentCoordinator | None:
    return _agent(workspace_of(ctx, workspace_id))


async def cancel(ctx: ServerContext, workspace_id: str, session_id: str) -> Response:
    """``POST .../agent/sessions/{sid}/cancel``: end the session's run."""
    if (agent := _agent_of(ctx, workspace_id)) is not None:
        agent.cancel(session_id)
    return empty_response()


async def queued_count(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../prompts/queued``: how many prompts wait (a bare number)."""
    agent = _agent_of(ctx, workspace_id)
    return json_response(0 if agent is None else len(agent.queued(session_id)))


async def queued_list(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../prompts/list``: the waiting prompts, ``null`` for none."""
    agent = _agent_of(ctx, workspace_id)
    prompts = [] if agent is None else agent.queued(session_id)
    return json_response(prompts or None)


async def clear_queue(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``POST .../prompts/clear``: drop the waiting prompts."""
    if (agent := _agent_of(ctx, workspace_id)) is not None:
        agent.clear(session_id)
    return empty_response()


async def default_small_model(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../agent/default-small-model?provider_id=``: a ``SelectedModel``."""
    from crushd.agent.providers import default_small_model as pick

    configuration = workspace_of(ctx, workspace_id).configuration
    provider_id = request.args.get("provider_id", "")
    chosen = pick(configuration.current.config, configuration.environ, provider_id)
    return json_response(SelectedModel(**attrs.asdict(chosen)))
