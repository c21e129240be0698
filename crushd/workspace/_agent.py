"""A workspace's agent coordinator, built on the first ``agent/init``.

The agent package and the provider SDK are imported here, on first use, never
at daemon start (``tests/test_lazy_imports.py``). The coordinator's tasks run
in the workspace's own nursery (``Workspace.serve``), so a run belongs to the
workspace, never to the request that started it (docs/agent.md 7.2).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import trio

from crushd._heap import freeze_long_lived

if TYPE_CHECKING:
    from crushd.agent import AgentCoordinator

    from ._workspace import Workspace

__all__ = [
    "AGENT_MODULES",
    "AgentHandle",
    "agent_environ",
    "build_agent",
    "import_agent_modules",
]

#: Imported in a worker thread on the first ``agent/init``: their module code
#: (about 0.1-0.2 s) would otherwise freeze every stream on the loop.
AGENT_MODULES = ("crushd.agent", "crushd.agent.tools")


async def import_agent_modules() -> None:
    """Import ``AGENT_MODULES`` in a worker thread; at once when done before."""
    missing = [name for name in AGENT_MODULES if name not in sys.modules]
    for name in missing:
        await trio.to_thread.run_sync(importlib.import_module, name)
    if missing:
        freeze_long_lived("the agent package")


class AgentHandle(Protocol):
    """What the workspace needs of its agent (the agent coordinator)."""

    def is_busy(self, session_id: str) -> bool:
        """Whether the agent has a turn for ``session_id`` (docs/protocol.md 5.6)."""

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Own the agent's tasks until cancelled."""


def agent_environ(daemon: Mapping[str, str], extra: Iterable[str]) -> dict[str, str]:
    """Return the daemon's environment with the creator's ``K=V`` entries on top.

    Entries without ``=`` or with a NUL byte are ignored (they cannot be set
    in any process environment).
    """
    merged = dict(daemon)
    for entry in extra:
        name, sep, value = entry.partition("=")
        if sep and name and "\0" not in entry:
            merged[name] = value
    return merged


def build_agent(workspace: Workspace) -> AgentCoordinator:
    """Return a new coordinator wired to ``workspace``'s services (its ports).

    The coordinator reads the workspace's current config on every turn, so a
    config change reaches the next turn without a rebuild. Permission asks
    go through ``TimedPermissions`` (their wait time, for ``/v1/metrics``).
    """
    from crushd.agent import AgentCoordinator, AgentPorts, TimedPermissions
    from crushd.agent.tools import JobTable

    ports = AgentPorts(
        messages=workspace.messages,
        sessions=workspace.sessions,
        events=workspace.log,
        reads=workspace.reads,
        todos=workspace.todos,
        root=workspace.root,
        environ=agent_environ(workspace.configuration.environ, workspace.spec.env),
        permissions=TimedPermissions(workspace.permissions),
        questions=workspace.questions,
        history=workspace.history,
        jobs=JobTable(workspace.spec.env),
        read_window=workspace.messages.window,
    )
    return AgentCoordinator(ports, lambda: workspace.configuration.current.config)
