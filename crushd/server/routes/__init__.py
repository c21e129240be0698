"""Route groups of the ``/v1`` API, one module per area."""

from ._agent import register_agent_routes
from ._config import COMMIT_SECONDS, publish_config_change, register_config_routes
from ._debug import register_debug_routes
from ._filetracker import register_filetracker_routes
from ._hot import HotRoutes, declare_hot_rules
from ._sessions import register_session_routes
from ._skills import register_skill_routes
from ._system import SHUTDOWN_COMMANDS, register_system_routes
from ._unsupported import UNSUPPORTED_ROUTES, register_unsupported_routes
from ._websocket import register_websocket_route
from ._workspaces import register_workspace_routes

__all__ = [
    "COMMIT_SECONDS",
    "SHUTDOWN_COMMANDS",
    "UNSUPPORTED_ROUTES",
    "HotRoutes",
    "declare_hot_rules",
    "publish_config_change",
    "register_agent_routes",
    "register_config_routes",
    "register_debug_routes",
    "register_filetracker_routes",
    "register_session_routes",
    "register_skill_routes",
    "register_system_routes",
    "register_unsupported_routes",
    "register_websocket_route",
    "register_workspace_routes",
]
