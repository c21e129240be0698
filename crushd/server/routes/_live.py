"""Look up a live workspace for a route."""

from __future__ import annotations

from crushd.registry import Hosted, Registry
from crushd.workspace import Workspace

from ..http import ServerContext


def live_workspace(registry: Registry, workspace_id: str) -> tuple[Hosted, Workspace]:
    """Return the registry entry and the workspace for ``workspace_id``.

    Raises:
        WorkspaceNotFound: unknown or torn down (404).
    """
    hosted = registry.get(workspace_id)
    workspace = hosted.workspace
    assert isinstance(workspace, Workspace), "registry built a foreign workspace"
    return hosted, workspace


def workspace_of(ctx: ServerContext, workspace_id: str) -> Workspace:
    """Return the live workspace ``workspace_id``; 404 ``WorkspaceNotFound`` if none."""
    return live_workspace(ctx.registry, workspace_id)[1]
