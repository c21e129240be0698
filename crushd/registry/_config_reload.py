"""After a config file is written, every live workspace that read it reloads.

A scope-0 (global) write reaches every workspace; a scope-1 (project) write
only those whose effective config read that file. Each reloaded workspace
publishes exactly one ``config_changed`` (``Workspace.reload_config``). This
is a registry service, not route code: the registry knows every live
workspace, the route only knows which file it wrote.

Source: Crush backend ``publishConfigChanged``; issue 3 widens it from the
writer's workspace to every affected one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ._hosted import HostedWorkspace

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = ["ConfigDependent", "ReloadsConfig", "reload_config_dependents"]


class ConfigDependent(Protocol):
    """A workspace's configuration, as far as the reload needs it."""

    def depends_on(self, path: Path) -> bool:
        """True when a change to ``path`` changes this configuration."""


class ReloadsConfig(HostedWorkspace, Protocol):
    """A hosted workspace that can reload its configuration."""

    @property
    def configuration(self) -> ConfigDependent:
        """Its layered configuration."""

    async def reload_config(self) -> None:
        """Reload, publish one ``config_changed``; a failure keeps the last good."""


async def reload_config_dependents(
    registry: Registry[ReloadsConfig], changed: Path
) -> int:
    """Reload every live workspace of ``registry`` that depends on ``changed``.

    Args:
        registry: the registry of the workspaces.
        changed: the config file just written.

    Returns:
        How many workspaces were reloaded, one after another in creation
        order (each ``reload_config`` awaits its own file reads).
    """
    reloaded = 0
    for hosted in registry.workspaces():
        workspace = hosted.workspace
        if workspace.configuration.depends_on(changed):
            await workspace.reload_config()
            reloaded += 1
    return reloaded
