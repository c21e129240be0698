"""Tests for crushd/workspace/_skills.py: the per-workspace skills service."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from crushd.errors import InternalError
from crushd.proto import SkillState
from crushd.skills import STATE_ERROR, SkillCatalog, SkillsEnvironment
from crushd.skills import _catalog as catalog_module
from crushd.store import StorePool
from crushd.workspace import (
    EventLog,
    SkillsService,
    WorkspaceOpener,
    WorkspaceSpec,
    open_skills,
)
from crushd.workspace import _skills as skills_module
from crushd.workspace._skills import SKILL_IO_TIMEOUT_SECONDS
from tests.skills._fifo import fifo_skill
from tests.skills._support import write_skill


@pytest.fixture
def env(tmp_path: Path) -> SkillsEnvironment:
    home = tmp_path / "home"
    home.mkdir()
    return SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(tmp_path / "global")})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def published(log: EventLog) -> list[dict[str, Any]]:
    return [json.loads(frame) for frame in log.read_ws(0).frames]


async def test_open_skills_scans_without_publishing(
    project: Path, env: SkillsEnvironment
) -> None:
    """The first scan is the snapshot: states are there, no event is published."""
    write_skill(project / ".agents/skills", "a")
    log = EventLog("ws", 4096)
    service = await open_skills(project, log, env=env)
    assert [s.name for s in service.states()] == ["a"]
    assert [i.name for i in service.list()] == ["a"]
    assert published(log) == []


async def test_rescan_with_extra_paths_keeps_them(
    tmp_path: Path, project: Path, env: SkillsEnvironment
) -> None:
    """rescan(extra_paths) uses and keeps new skills_paths; rescan() reuses them."""
    write_skill(tmp_path / "extra", "from-extra")
    log = EventLog("ws", 4096)
    service = await open_skills(project, log, env=env)
    assert await service.rescan([str(tmp_path / "extra")])
    assert service.extra_paths == (str(tmp_path / "extra"),)
    assert [s.name for s in service.states()] == ["from-extra"]
    assert not await service.rescan()
    assert await service.rescan([])
    assert service.states() == []
    kinds = [(e["type"], e["payload"]["type"]) for e in published(log)]
    assert kinds == [("skills_event", "updated")] * 2


async def test_rescans_run_one_at_a_time(
    project: Path, env: SkillsEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow older scan can never overwrite the result of a newer rescan."""
    release = trio.Event()
    started: list[tuple[str, ...]] = []

    async def fake_scan(
        path: Path, *, extra_paths: tuple[str, ...], env: SkillsEnvironment
    ) -> SkillCatalog:
        started.append(tuple(extra_paths))
        if extra_paths == ("old",):
            await release.wait()
        state = SkillState(name=extra_paths[0], path=f"/{extra_paths[0]}")
        return SkillCatalog(states=(state,))

    log = EventLog("ws", 4096)
    service = await open_skills(project, log, env=env)
    monkeypatch.setattr(skills_module, "scan_skills", fake_scan)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(service.rescan, ["old"])
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(service.rescan, ["new"])
        await trio.testing.wait_all_tasks_blocked()
        assert started == [("old",)]  # the newer one waits its turn
        release.set()
    assert started == [("old",), ("new",)]
    assert service.extra_paths == ("new",)
    assert [s.name for s in service.states()] == ["new"]
    assert len(published(log)) == 2


async def test_cancelled_rescan_changes_nothing(
    project: Path, env: SkillsEnvironment
) -> None:
    """A rescan cancelled before it finishes leaves catalog and paths as they were."""
    log = EventLog("ws", 4096)
    service = await open_skills(project, log, env=env)
    write_skill(project / ".agents/skills", "a")
    with trio.CancelScope() as scope:
        scope.cancel()
        await service.rescan(["/elsewhere"])
    assert scope.cancelled_caught
    assert (service.states(), service.extra_paths) == ([], ())
    assert published(log) == []


async def test_service_without_env_reads_the_process_environment(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env=None takes $CRUSH_SKILLS_DIR at each scan, not once."""
    monkeypatch.setenv("CRUSH_SKILLS_DIR", str(tmp_path / "g1"))
    write_skill(tmp_path / "g1", "one")
    write_skill(tmp_path / "g2", "two")
    service = SkillsService(project, EventLog("ws", 4096), SkillCatalog())
    await service.rescan()
    assert [s.name for s in service.states()] == ["one"]
    monkeypatch.setenv("CRUSH_SKILLS_DIR", str(tmp_path / "g2"))
    await service.rescan()
    assert [s.name for s in service.states()] == ["two"]


async def test_read_uses_the_current_catalog(
    project: Path, env: SkillsEnvironment
) -> None:
    """read() answers a catalogued skill's file from a worker thread."""
    path = write_skill(project / ".agents/skills", "a")
    service = await open_skills(project, EventLog("ws", 4096), env=env)
    assert (await service.read(str(path))).result.name == "a"
    assert service.catalog.skills[0].skill_file == path


async def test_opener_gives_each_workspace_its_own_skills(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """WorkspaceOpener scans the workspace's own path with the injected env."""
    pool = StorePool("test")
    opener = WorkspaceOpener(pool, 4096, skills_env=env)
    made = []
    for name in ("a", "b"):
        path = tmp_path / name
        write_skill(path / ".agents/skills", f"{name}-skill")
        made.append(await opener(WorkspaceSpec(id=name, path=str(path), key=str(path))))
    try:
        assert [[s.name for s in w.to_wire().skills] for w in made] == [
            ["a-skill"],
            ["b-skill"],
        ]
        assert made[0].skills is not made[1].skills
    finally:
        for workspace in made:
            await workspace.aclose()
        await pool.aclose()


async def test_each_new_skill_error_is_logged_once(
    project: Path, env: SkillsEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad skill warns when first found, not again on every unchanged rescan."""
    caplog.set_level(logging.WARNING, logger="crushd.workspace.skills")
    write_skill(project / ".agents/skills", "a", "---\nname: a\n---\n")
    service = await open_skills(project, EventLog("ws", 4096), env=env)
    await service.rescan()
    write_skill(project / ".agents/skills", "b", "---\nname: b\n---\n")
    await service.rescan()
    await service.rescan()
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2
    assert warned[0].endswith("a/SKILL.md is invalid: description is required")
    assert "b/SKILL.md is invalid" in warned[1]


async def test_rescan_with_disabled_names_keeps_them(
    project: Path, env: SkillsEnvironment
) -> None:
    """rescan(disabled=...) hides those skills until a rescan with other names."""
    write_skill(project / ".agents/skills", "a")
    write_skill(project / ".agents/skills", "b")
    log = EventLog("ws", 4096)
    service = await open_skills(project, log, env=env, disabled=["b"])
    assert [i.name for i in service.list()] == ["a"]
    assert not await service.rescan(disabled=["a"])
    assert service.disabled == ("a",)
    assert [i.name for i in service.list()] == ["b"]
    assert not await service.rescan()
    assert [i.name for i in service.list()] == ["b"]
    assert [s.name for s in service.states()] == ["a", "b"]
    assert published(log) == []


async def test_open_skills_with_a_fifo_returns_with_an_error_state(
    project: Path, env: SkillsEnvironment
) -> None:
    """A FIFO SKILL.md no longer wedges the workspace's first scan (create)."""
    write_skill(project / ".agents/skills", "good")
    with fifo_skill(project / ".agents/skills", "stuck") as fifo:
        service = await open_skills(project, EventLog("ws", 4096), env=env)
    assert [i.name for i in service.list()] == ["good"]
    errors = [(s.path, s.error) for s in service.states() if s.state == STATE_ERROR]
    assert errors == [(str(fifo), "SKILL.md is a FIFO, not a regular file")]


@pytest.fixture
def stalled_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Make every skills scan and read block its thread until the event is set.

    Stands for a file system that stopped answering; set at teardown so the
    abandoned threads finish.
    """
    release = threading.Event()

    def stall(*_: object, **__: object) -> SkillCatalog:
        release.wait(5.0)  # bounded: code that waits for the thread fails, not hangs
        return SkillCatalog()

    monkeypatch.setattr(catalog_module, "scan_workspace", stall)
    monkeypatch.setattr(SkillCatalog, "read", stall)
    yield release
    release.set()


async def test_stalled_scan_times_out_into_an_error_state(
    project: Path,
    env: SkillsEnvironment,
    stalled_io: threading.Event,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A scan stuck in its thread gives up after the timeout; the create goes on."""
    start = trio.current_time()
    service = await open_skills(project, EventLog("ws", 4096), env=env)
    assert trio.current_time() - start == SKILL_IO_TIMEOUT_SECONDS
    (state,) = service.states()
    assert (state.path, state.state) == (str(project), STATE_ERROR)
    assert state.error == "skills scan timed out after 10 s"
    with pytest.raises(InternalError, match=r"^failed to read skill x: timed out"):
        await service.read("x")


async def test_cancelling_a_stalled_scan_does_not_wait_for_its_thread(
    project: Path,
    env: SkillsEnvironment,
    stalled_io: threading.Event,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Shutdown cancels a create mid-scan: it returns at once, thread abandoned."""
    with trio.move_on_after(1) as scope:
        await open_skills(project, EventLog("ws", 4096), env=env)
    assert scope.cancelled_caught
    assert not stalled_io.is_set()
