"""The ``/v1`` route table: every route crushd answers, in one place.

One line per route: ``Route(method, path, handler)``, plus ``hot=True`` for
the four plain-ASGI routes and ``access=Access.DEBUG`` for the debug one.
The keyword arguments after the handler document the route (``request`` and
``response`` bodies, ``status``, query parameters, ``addition``): the OpenAPI
document of ``GET /v1/openapi.json`` is generated from them, so a new route
must state its bodies here (tests/server/test_openapi.py checks each one).
``create_app`` builds the quart-trio app and the hot dispatch from it
(``crushd.server.http.add_routes``, ``HotDispatch``); the handler shapes are
in ``crushd.server.http._table``'s docstring. Paths are upstream's
(docs/protocol.md part 2) unless marked as a crushd addition there.
"""

from __future__ import annotations

from crushd.proto import (
    AgentInfo,
    AgentInitRequest,
    AgentMessage,
    AgentSession,
    ClientInfo,
    ConfigCompactRequest,
    ConfigModelRequest,
    ConfigProviderKeyRequest,
    ConfigRemoveRequest,
    ConfigSetRequest,
    ControlRequest,
    CurrentSessionRequest,
    FileTrackerReadRequest,
    HistoryFile,
    InitPrompt,
    Message,
    NeedsInit,
    PermissionGrant,
    PermissionRequest,
    PermissionSkip,
    QuestionAnswer,
    QuestionCancel,
    ReadSkillRequest,
    ReadSkillResponse,
    Resolved,
    SelectedModel,
    Session,
    SessionCreate,
    SessionUpdate,
    ShellCommandRequest,
    ShellCommandResponse,
    SkillInfo,
    VersionInfo,
    Workspace,
)

from ..http import EVENT_STREAM, WEBSOCKET, Access, Route, TextBody
from . import _agent as agent
from . import _config as config
from . import _debug as debug
from . import _docs as docs
from . import _filetracker as filetracker
from . import _permissions as permissions
from . import _sessions as sessions
from . import _shell as shell
from . import _skills as skills
from . import _streams as streams
from . import _system as system
from . import _workspaces as workspaces
from ._metrics import metrics
from ._unsupported import not_supported

__all__ = ["ROUTES", "UNSUPPORTED_ROUTES"]

_WS = "/v1/workspaces/<workspace_id>"
_SESSION = f"{_WS}/sessions/<session_id>"
_SID = f"{_WS}/agent/sessions/<session_id>"
#: The ``/v1/docs/`` answer.
_PAGE = TextBody("text/html", "A page rendering /v1/openapi.json (no remote assets).")
#: The ``/v1/metrics`` answer (C.7).
_METRICS = TextBody("text/plain", "Prometheus text exposition format 0.0.4.")
#: Any JSON object (config documents, catalog entries).
_DOCUMENT = dict[str, object]
#: ``POST /v1/debug/.../publish``: the body and the answer (C.10).
_PUBLISH = {
    "type": "object",
    "properties": {"count": {"type": "integer"}, "payload_bytes": {"type": "integer"}},
    "required": ["count"],
}
_PUBLISHED = {
    "type": "object",
    "properties": {"first_id": {"type": "integer"}, "last_id": {"type": "integer"}},
    "required": ["first_id", "last_id"],
}

ROUTES: tuple[Route, ...] = (
    # System (2.1)
    Route("GET", "/v1/health", system.health),
    Route("GET", "/v1/version", system.version, response=VersionInfo),
    Route("GET", "/v1/config", system.config, response=_DOCUMENT),
    Route("POST", "/v1/control", system.control, request=ControlRequest),
    Route("GET", "/v1/openapi.json", docs.openapi, response=_DOCUMENT),
    Route("GET", "/v1/docs/", docs.docs_page, response=_PAGE),
    Route("DELETE", "/v1/clients/<client_id>", system.retire_client),
    Route("GET", "/v1/metrics", metrics, response=_METRICS, addition="C.7"),
    # Workspaces (2.2); create, release and the SSE stream are hot
    Route(
        "GET", "/v1/workspaces", workspaces.list_workspaces, response=list[Workspace]
    ),
    Route(
        "POST",
        "/v1/workspaces",
        workspaces.create_workspace,
        hot=True,
        request=Workspace,
        response=Workspace,
    ),
    Route("GET", _WS, workspaces.get_workspace, response=Workspace),
    Route("DELETE", _WS, workspaces.release_workspace, hot=True, client_id=True),
    Route(
        "POST",
        f"{_WS}/current-session",
        workspaces.current_session,
        request=CurrentSessionRequest,
        client_id=True,
    ),
    Route("GET", f"{_WS}/config", workspaces.workspace_config, response=_DOCUMENT),
    Route(
        "GET",
        f"{_WS}/clients",
        workspaces.roster,
        response=list[ClientInfo],
        addition="C.5",
    ),
    # Event streams (3.1, C.9)
    Route(
        "GET",
        f"{_WS}/events",
        streams.events,
        hot=True,
        response=EVENT_STREAM,
        client_id=True,
        query=("last_event_id",),
    ),
    Route(
        WEBSOCKET,
        f"{_WS}/ws",
        streams.events_ws,
        client_id=True,
        query=("last_event_id",),
        addition="C.9",
    ),
    # Sessions, messages, history (2.3)
    Route("GET", f"{_WS}/sessions", sessions.list_sessions, response=list[Session]),
    Route(
        "POST",
        f"{_WS}/sessions",
        sessions.create_session,
        request=SessionCreate,
        response=Session,
    ),
    Route("GET", _SESSION, sessions.get_session, response=Session),
    Route(
        "PUT",
        _SESSION,
        sessions.update_session,
        request=SessionUpdate,
        response=Session,
    ),
    Route("DELETE", _SESSION, sessions.delete_session),
    Route("GET", f"{_SESSION}/messages", sessions.messages, response=list[Message]),
    Route(
        "GET",
        f"{_SESSION}/messages/user",
        sessions.session_user_messages,
        response=list[Message],
    ),
    Route(
        "GET",
        f"{_WS}/messages/user",
        sessions.workspace_user_messages,
        response=list[Message],
    ),
    Route("GET", f"{_SESSION}/history", sessions.history, response=list[HistoryFile]),
    # File tracker (2.4)
    Route(
        "GET",
        f"{_SESSION}/filetracker/files",
        filetracker.filetracker_files,
        response=list[str],
    ),
    Route(
        "POST",
        f"{_WS}/filetracker/read",
        filetracker.filetracker_read,
        request=FileTrackerReadRequest,
    ),
    Route(
        "GET",
        f"{_WS}/filetracker/lastread",
        filetracker.filetracker_lastread,
        response=str,
        query=("session_id", "path"),
    ),
    # Config and project (2.9, 2.10)
    Route("GET", f"{_WS}/providers", config.providers, response=list[_DOCUMENT]),
    Route("POST", f"{_WS}/config/set", config.config_set, request=ConfigSetRequest),
    Route(
        "POST",
        f"{_WS}/config/remove",
        config.config_remove,
        request=ConfigRemoveRequest,
    ),
    Route(
        "POST", f"{_WS}/config/model", config.config_model, request=ConfigModelRequest
    ),
    Route(
        "POST",
        f"{_WS}/config/compact",
        config.config_compact,
        request=ConfigCompactRequest,
    ),
    Route(
        "POST",
        f"{_WS}/config/provider-key",
        config.config_provider_key,
        request=ConfigProviderKeyRequest,
    ),
    Route("GET", f"{_WS}/project/needs-init", config.needs_init, response=NeedsInit),
    Route("POST", f"{_WS}/project/init", config.init_project),
    Route("GET", f"{_WS}/project/init-prompt", config.init_prompt, response=InitPrompt),
    # Skills (2.11)
    Route("GET", f"{_WS}/skills", skills.list_skills, response=list[SkillInfo]),
    Route(
        "POST",
        f"{_WS}/skills/read",
        skills.read_skill,
        request=ReadSkillRequest,
        response=ReadSkillResponse,
    ),
    # Agent (2.8)
    Route("GET", f"{_WS}/agent", agent.agent_info, response=AgentInfo),
    Route(
        "POST",
        f"{_WS}/agent",
        agent.send_prompt,
        hot=True,
        request=AgentMessage,
        status=202,
    ),
    Route(
        "POST",
        f"{_WS}/agent/init",
        agent.init_agent,
        request=AgentInitRequest,
        optional_body=True,
    ),
    Route("POST", f"{_WS}/agent/update", agent.update_agent),
    Route("GET", _SID, agent.get_agent_session, response=AgentSession),
    Route("POST", f"{_SID}/cancel", agent.cancel),
    Route("GET", f"{_SID}/prompts/queued", agent.queued_count, response=int),
    Route("GET", f"{_SID}/prompts/list", agent.queued_list, response=list[str] | None),
    Route("POST", f"{_SID}/prompts/clear", agent.clear_queue),
    Route(
        "GET",
        f"{_WS}/agent/default-small-model",
        agent.default_small_model,
        response=SelectedModel,
        query=("provider_id",),
    ),
    Route(
        "POST",
        f"{_SID}/shell",
        shell.shell,
        request=ShellCommandRequest,
        response=ShellCommandResponse,
    ),
    # Permissions and questions (2.6, 2.7; the pending list is crushd's, C.4)
    Route(
        "GET",
        f"{_WS}/permissions",
        permissions.pending_permissions,
        response=list[PermissionRequest],
        addition="C.5",
    ),
    Route(
        "GET",
        f"{_WS}/permissions/skip",
        permissions.get_skip,
        response=PermissionSkip,
        query=("session_id",),
    ),
    Route(
        "POST", f"{_WS}/permissions/skip", permissions.set_skip, request=PermissionSkip
    ),
    Route(
        "POST",
        f"{_WS}/permissions/grant",
        permissions.grant,
        request=PermissionGrant,
        response=Resolved,
        query=("client_id",),
    ),
    Route(
        "POST",
        f"{_WS}/questions/answer",
        permissions.answer_questions,
        request=QuestionAnswer,
        response=Resolved,
        query=("client_id",),
    ),
    Route(
        "POST",
        f"{_WS}/questions/cancel",
        permissions.cancel_questions,
        request=QuestionCancel,
        response=Resolved,
        optional_body=True,
        query=("client_id",),
    ),
    # In the protocol, not served yet: 501 (summarize: a later issue)
    Route("POST", f"{_SID}/summarize", not_supported, status=501),
    # Out of scope for good (docs/protocol.md part A): 501
    Route("GET", f"{_WS}/lsps", not_supported, status=501),
    Route("GET", f"{_WS}/lsps/<lsp>/diagnostics", not_supported, status=501),
    Route("POST", f"{_WS}/lsps/start", not_supported, status=501),
    Route("POST", f"{_WS}/lsps/stop", not_supported, status=501),
    Route("POST", f"{_WS}/config/import-copilot", not_supported, status=501),
    Route("POST", f"{_WS}/config/refresh-oauth", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/refresh-tools", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/read-resource", not_supported, status=501),
    Route("GET", f"{_WS}/mcp/prompts", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/get-prompt", not_supported, status=501),
    Route("GET", f"{_WS}/mcp/states", not_supported, status=501),
    Route("GET", f"{_WS}/mcp/pending-auth", not_supported, status=501),
    Route("GET", f"{_WS}/mcp/auth-url", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/auth", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/refresh-prompts", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/refresh-resources", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/docker/enable", not_supported, status=501),
    Route("POST", f"{_WS}/mcp/docker/disable", not_supported, status=501),
    # Benchmarks only: --debug-endpoints, unix sockets only
    Route(
        "POST",
        "/v1/debug/workspaces/<workspace_id>/publish",
        debug.debug_publish,
        access=Access.DEBUG,
        request=_PUBLISH,
        response=_PUBLISHED,
        addition="C.10",
    ),
)

#: (method, path) of every protocol route answered 501 for now.
UNSUPPORTED_ROUTES: tuple[tuple[str, str], ...] = tuple(
    (route.method, route.path) for route in ROUTES if route.handler is not_supported
)
