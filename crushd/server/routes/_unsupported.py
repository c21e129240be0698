"""The handler of protocol routes crushd does not serve (yet): 501, never a 404.

docs/protocol.md part A keeps LSP, MCP, ``config/import-copilot`` and
``config/refresh-oauth`` out of scope for good; the rest (permissions,
questions, summarize, shell) are later issues. Each is a ``ROUTES`` entry
whose handler is ``not_supported``; serving one means pointing its entry at a
real handler.
"""

from __future__ import annotations

from quart import Response

from crushd.errors import NotSupported

from ..http import ServerContext
from ._live import workspace_of


async def not_supported(
    ctx: ServerContext, workspace_id: str, **_segments: str
) -> Response:
    """Answer ``501 {"message": "not supported by crushd"}``; 404 unknown workspace."""
    workspace_of(ctx, workspace_id)
    raise NotSupported
