"""Look up a live workspace for a route."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crushd.registry import HostedView, Registry

from ..http import ServerContext

if TYPE_CHECKING:
    from crushd.workspace import Workspace


def live_workspace(
    registry: Registry[Workspace], workspace_id: str
) -> tuple[HostedView[Workspace], Workspace]:
    """Return the registry's read-only view and the workspace for ``workspace_id``.

    Raises:
        WorkspaceNotFound: unknown or torn down (404).
    """
    hosted = registry.get(workspace_id)
    return hosted, hosted.workspace


def workspace_of(ctx: ServerContext, workspace_id: str) -> Workspace:
    """Return the live workspace ``workspace_id``; 404 ``WorkspaceNotFound`` if none."""
    return live_workspace(ctx.registry, workspace_id)[1]
