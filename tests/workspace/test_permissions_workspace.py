"""The workspace's permission and question services, as a real workspace builds them.

A workspace from ``WorkspaceOpener`` over a temp project: ``yolo`` skips
prompts, prompts and batches go to the workspace's event log, and
``allowed_tools`` follows a config change without a rebuild.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio.testing

from crushd.agent.tools import PermissionAsk
from crushd.config import ConfigSources
from crushd.proto import SCOPE_WORKSPACE, QuestionItem
from crushd.store import StorePool
from crushd.workspace import Workspace, WorkspaceOpener, WorkspaceSpec

from ._permission_helpers import bounded

Opener = Callable[..., AbstractAsyncContextManager[Workspace]]


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (database threads)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


@pytest.fixture
def open_workspace(tmp_path: Path) -> Opener:
    @asynccontextmanager
    async def opened(*, yolo: bool = False) -> AsyncIterator[Workspace]:
        project = tmp_path / f"project-{uuid.uuid4()}"
        project.mkdir()
        sources = ConfigSources.from_environ(
            {"HOME": str(tmp_path / "home")}, system_file=tmp_path / "etc.json"
        )
        pool = StorePool("test")
        opener = WorkspaceOpener(pool, 4096, config_sources=sources, environ={})
        spec = WorkspaceSpec(
            id=str(uuid.uuid4()), path=str(project), key=str(project), yolo=yolo
        )
        workspace = await opener(spec)
        try:
            yield workspace
        finally:
            await workspace.aclose()
            await pool.aclose()

    return opened


def published(workspace: Workspace) -> list[tuple[str, Any]]:
    frames = [json.loads(f) for f in workspace.log.read_ws(0).frames]
    return [(f["type"], f["payload"]["payload"]) for f in frames]


async def test_workspace_yolo_skips_prompts(
    autojump_clock: trio.testing.MockClock, open_workspace: Opener
) -> None:
    """A workspace created with yolo allows every request and publishes nothing."""
    async with open_workspace(yolo=True) as workspace:
        assert workspace.permissions.skip()
        ask = PermissionAsk("bash", "execute", str(workspace.root), "ls", None)
        assert await workspace.permissions.request("s", "c", ask)
        assert published(workspace) == []


async def test_workspace_prompts_reach_the_event_log(
    autojump_clock: trio.testing.MockClock, open_workspace: Opener
) -> None:
    """Without yolo a prompt and a question batch are published on the workspace log."""
    async with open_workspace() as workspace, bounded() as nursery:
        assert not workspace.permissions.skip()
        (workspace.root / "x.txt").write_text("x")
        ask = PermissionAsk("edit", "write", str(workspace.root / "x.txt"), "d", {})
        nursery.start_soon(workspace.permissions.request, "s", "c1", ask)
        await trio.testing.wait_all_tasks_blocked()
        item = QuestionItem(type="yes_no", question="Go?", description="d")
        nursery.start_soon(workspace.questions.ask, "s", "c2", [item])
        await trio.testing.wait_all_tasks_blocked()
        kinds = [kind for kind, _ in published(workspace)]
        assert kinds == [
            "permission_notification",
            "permission_request",
            "question_batch_request",
        ]
        assert published(workspace)[1][1]["path"] == str(workspace.root)
        assert workspace.permissions.resolve(
            workspace.permissions.pending()[0].id, "allow"
        )
        assert workspace.questions.cancel()


async def test_workspace_allowed_tools_follow_config_changes(
    autojump_clock: trio.testing.MockClock, open_workspace: Opener
) -> None:
    """allowed_tools written to the workspace config applies after the reload."""
    async with open_workspace() as workspace:
        await workspace.configuration.set(
            SCOPE_WORKSPACE, "permissions.allowed_tools", ["bash:execute"]
        )
        await workspace.reload_config()
        ask = PermissionAsk("bash", "execute", str(workspace.root), "ls", None)
        assert await workspace.permissions.request("s", "c", ask)
        kinds = [kind for kind, _ in published(workspace)]
        assert "permission_request" not in kinds
