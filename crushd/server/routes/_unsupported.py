"""Routes in the protocol that crushd does not serve yet: 501, never a bare 404.

docs/protocol.md part A keeps LSP, MCP, ``config/import-copilot`` and
``config/refresh-oauth`` out of scope for good; the rest (agent, permissions,
questions) are later issues. Every one answers
``501 {"message": "not supported by crushd"}`` (with the reason in the
message) after checking the workspace exists.
"""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from crushd.errors import NotSupported

from ..http import ServerContext
from ._live import live_workspace

_WS = "/v1/workspaces/<workspace_id>"
_SID = f"{_WS}/agent/sessions/<session_id>"

#: (method, path) of every protocol route without an implementation yet.
UNSUPPORTED_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", f"{_WS}/lsps"),
    ("GET", f"{_WS}/lsps/<lsp>/diagnostics"),
    ("POST", f"{_WS}/lsps/start"),
    ("POST", f"{_WS}/lsps/stop"),
    ("GET", f"{_WS}/permissions/skip"),
    ("POST", f"{_WS}/permissions/skip"),
    ("POST", f"{_WS}/permissions/grant"),
    ("POST", f"{_WS}/questions/answer"),
    ("POST", f"{_WS}/questions/cancel"),
    ("POST", f"{_SID}/summarize"),
    ("POST", f"{_SID}/shell"),
    ("POST", f"{_WS}/config/import-copilot"),
    ("POST", f"{_WS}/config/refresh-oauth"),
    ("POST", f"{_WS}/mcp/refresh-tools"),
    ("POST", f"{_WS}/mcp/read-resource"),
    ("GET", f"{_WS}/mcp/prompts"),
    ("POST", f"{_WS}/mcp/get-prompt"),
    ("GET", f"{_WS}/mcp/states"),
    ("GET", f"{_WS}/mcp/pending-auth"),
    ("GET", f"{_WS}/mcp/auth-url"),
    ("POST", f"{_WS}/mcp/auth"),
    ("POST", f"{_WS}/mcp/refresh-prompts"),
    ("POST", f"{_WS}/mcp/refresh-resources"),
    ("POST", f"{_WS}/mcp/docker/enable"),
    ("POST", f"{_WS}/mcp/docker/disable"),
)


def register_unsupported_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Answer each of ``UNSUPPORTED_ROUTES`` with 501 (404: unknown workspace)."""

    async def unsupported(workspace_id: str, **_segments: str) -> Response:
        live_workspace(ctx.registry, workspace_id)
        raise NotSupported

    for index, (method, path) in enumerate(UNSUPPORTED_ROUTES):
        app.add_url_rule(path, f"unsupported_{index}", unsupported, methods=[method])
