"""The ``/v1`` route table: every route crushd answers, in one place.

One line per route: ``Route(method, path, handler)``, plus ``hot=True`` for
the three plain-ASGI routes and ``access=Access.DEBUG`` for the debug one.
``create_app`` builds the quart-trio app and the hot dispatch from it
(``crushd.server.http.add_routes``, ``HotDispatch``); the handler shapes are
in ``crushd.server.http._table``'s docstring. Paths are upstream's
(docs/protocol.md part 2) unless marked as a crushd addition there.
"""

from __future__ import annotations

from ..http import WEBSOCKET, Access, Route
from . import _agent as agent
from . import _config as config
from . import _debug as debug
from . import _filetracker as filetracker
from . import _permissions as permissions
from . import _sessions as sessions
from . import _shell as shell
from . import _skills as skills
from . import _streams as streams
from . import _system as system
from . import _workspaces as workspaces
from ._unsupported import not_supported

__all__ = ["ROUTES", "UNSUPPORTED_ROUTES"]

_WS = "/v1/workspaces/<workspace_id>"
_SESSION = f"{_WS}/sessions/<session_id>"
_SID = f"{_WS}/agent/sessions/<session_id>"

ROUTES: tuple[Route, ...] = (
    # System (2.1)
    Route("GET", "/v1/health", system.health),
    Route("GET", "/v1/version", system.version),
    Route("GET", "/v1/config", system.config),
    Route("POST", "/v1/control", system.control),
    Route("DELETE", "/v1/clients/<client_id>", system.retire_client),
    # Workspaces (2.2); create, release and the SSE stream are hot
    Route("GET", "/v1/workspaces", workspaces.list_workspaces),
    Route("POST", "/v1/workspaces", workspaces.create_workspace, hot=True),
    Route("GET", _WS, workspaces.get_workspace),
    Route("DELETE", _WS, workspaces.release_workspace, hot=True),
    Route("POST", f"{_WS}/current-session", workspaces.current_session),
    Route("GET", f"{_WS}/config", workspaces.workspace_config),
    Route("GET", f"{_WS}/clients", workspaces.roster),
    # Event streams (3.1, C.9)
    Route("GET", f"{_WS}/events", streams.events, hot=True),
    Route(WEBSOCKET, f"{_WS}/ws", streams.events_ws),
    # Sessions, messages, history (2.3)
    Route("GET", f"{_WS}/sessions", sessions.list_sessions),
    Route("POST", f"{_WS}/sessions", sessions.create_session),
    Route("GET", _SESSION, sessions.get_session),
    Route("PUT", _SESSION, sessions.update_session),
    Route("DELETE", _SESSION, sessions.delete_session),
    Route("GET", f"{_SESSION}/messages", sessions.messages),
    Route("GET", f"{_SESSION}/messages/user", sessions.session_user_messages),
    Route("GET", f"{_WS}/messages/user", sessions.workspace_user_messages),
    Route("GET", f"{_SESSION}/history", sessions.history),
    # File tracker (2.4)
    Route("GET", f"{_SESSION}/filetracker/files", filetracker.filetracker_files),
    Route("POST", f"{_WS}/filetracker/read", filetracker.filetracker_read),
    Route("GET", f"{_WS}/filetracker/lastread", filetracker.filetracker_lastread),
    # Config and project (2.9, 2.10)
    Route("GET", f"{_WS}/providers", config.providers),
    Route("POST", f"{_WS}/config/set", config.config_set),
    Route("POST", f"{_WS}/config/remove", config.config_remove),
    Route("POST", f"{_WS}/config/model", config.config_model),
    Route("POST", f"{_WS}/config/compact", config.config_compact),
    Route("POST", f"{_WS}/config/provider-key", config.config_provider_key),
    Route("GET", f"{_WS}/project/needs-init", config.needs_init),
    Route("POST", f"{_WS}/project/init", config.init_project),
    Route("GET", f"{_WS}/project/init-prompt", config.init_prompt),
    # Skills (2.11)
    Route("GET", f"{_WS}/skills", skills.list_skills),
    Route("POST", f"{_WS}/skills/read", skills.read_skill),
    # Agent (2.8)
    Route("GET", f"{_WS}/agent", agent.agent_info),
    Route("POST", f"{_WS}/agent", agent.send_prompt),
    Route("POST", f"{_WS}/agent/init", agent.init_agent),
    Route("POST", f"{_WS}/agent/update", agent.update_agent),
    Route("GET", _SID, agent.get_agent_session),
    Route("POST", f"{_SID}/cancel", agent.cancel),
    Route("GET", f"{_SID}/prompts/queued", agent.queued_count),
    Route("GET", f"{_SID}/prompts/list", agent.queued_list),
    Route("POST", f"{_SID}/prompts/clear", agent.clear_queue),
    Route("GET", f"{_WS}/agent/default-small-model", agent.default_small_model),
    Route("POST", f"{_SID}/shell", shell.shell),
    # Permissions and questions (2.6, 2.7; the pending list is crushd's, C.4)
    Route("GET", f"{_WS}/permissions", permissions.pending_permissions),
    Route("GET", f"{_WS}/permissions/skip", permissions.get_skip),
    Route("POST", f"{_WS}/permissions/skip", permissions.set_skip),
    Route("POST", f"{_WS}/permissions/grant", permissions.grant),
    Route("POST", f"{_WS}/questions/answer", permissions.answer_questions),
    Route("POST", f"{_WS}/questions/cancel", permissions.cancel_questions),
    # In the protocol, not served yet: 501 (summarize: a later issue)
    Route("POST", f"{_SID}/summarize", not_supported),
    # Out of scope for good (docs/protocol.md part A): 501
    Route("GET", f"{_WS}/lsps", not_supported),
    Route("GET", f"{_WS}/lsps/<lsp>/diagnostics", not_supported),
    Route("POST", f"{_WS}/lsps/start", not_supported),
    Route("POST", f"{_WS}/lsps/stop", not_supported),
    Route("POST", f"{_WS}/config/import-copilot", not_supported),
    Route("POST", f"{_WS}/config/refresh-oauth", not_supported),
    Route("POST", f"{_WS}/mcp/refresh-tools", not_supported),
    Route("POST", f"{_WS}/mcp/read-resource", not_supported),
    Route("GET", f"{_WS}/mcp/prompts", not_supported),
    Route("POST", f"{_WS}/mcp/get-prompt", not_supported),
    Route("GET", f"{_WS}/mcp/states", not_supported),
    Route("GET", f"{_WS}/mcp/pending-auth", not_supported),
    Route("GET", f"{_WS}/mcp/auth-url", not_supported),
    Route("POST", f"{_WS}/mcp/auth", not_supported),
    Route("POST", f"{_WS}/mcp/refresh-prompts", not_supported),
    Route("POST", f"{_WS}/mcp/refresh-resources", not_supported),
    Route("POST", f"{_WS}/mcp/docker/enable", not_supported),
    Route("POST", f"{_WS}/mcp/docker/disable", not_supported),
    # Benchmarks only: --debug-endpoints, unix sockets only
    Route(
        "POST",
        "/v1/debug/workspaces/<workspace_id>/publish",
        debug.debug_publish,
        access=Access.DEBUG,
    ),
)

#: (method, path) of every protocol route answered 501 for now.
UNSUPPORTED_ROUTES: tuple[tuple[str, str], ...] = tuple(
    (route.method, route.path) for route in ROUTES if route.handler is not_supported
)
