"""The workspace side of the agent: session sink, todo sink, file tracker, serve.

A real workspace (``WorkspaceOpener`` over a temp project and data directory)
with a stand-in agent; time is virtual where the flusher runs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from crushd.config import ConfigSources
from crushd.errors import BadRequest, SessionNotFound
from crushd.proto import Message, Part, SessionCreate, Todo
from crushd.store import StorePool
from crushd.workspace import (
    NEVER_READ,
    Workspace,
    WorkspaceOpener,
    WorkspaceSpec,
    rfc3339,
)


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness.

    These tests write through real worker threads. With the default
    threshold of 0 the clock jumps while a thread writes, and the run loop
    spins (about 100,000 turns a test, seconds of CPU under coverage); a
    short real threshold lets the thread finish first.
    """
    return trio.testing.MockClock(autojump_threshold=0.02)


class FakeAgent:
    """An agent that is busy for the sessions in ``busy`` and records serving."""

    def __init__(self) -> None:
        self.busy: set[str] = set()
        self.served = trio.Event()

    def is_busy(self, session_id: str) -> bool:
        return session_id in self.busy

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        self.served.set()
        task_status.started()
        await trio.sleep_forever()


@pytest.fixture
async def workspace(tmp_path: Path) -> AsyncIterator[Workspace]:
    project = tmp_path / "project"
    project.mkdir()
    sources = ConfigSources.from_environ(
        {"HOME": str(tmp_path / "home")}, system_file=tmp_path / "etc.json"
    )
    pool = StorePool("test")
    opener = WorkspaceOpener(pool, 4096, config_sources=sources, environ={})
    spec = WorkspaceSpec(id=str(uuid.uuid4()), path=str(project), key=str(project))
    opened = await opener(spec)
    yield opened
    await opened.aclose()
    await pool.aclose()


def session_events(workspace: Workspace) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for frame in workspace.log.read_ws(0).frames:
        envelope = json.loads(frame)
        if envelope["type"] == "session":
            inner = envelope["payload"]
            found.append((inner["type"], inner["payload"]))
    return found


async def test_session_events_carry_the_real_is_busy(workspace: Workspace) -> None:
    """Usage/title/todos events say is_busy=true while the agent runs the session."""
    agent = FakeAgent()
    await workspace.install_agent(agent)
    session = await workspace.sessions.create(SessionCreate(title="s"))
    agent.busy.add(session.id)
    await workspace.sessions.set_usage(session.id, 10, 4, 0.5)
    await workspace.sessions.set_title(session.id, "Fixing", 0.25)
    await workspace.todos.set_todos(session.id, [Todo("c", "pending", "doing c")])
    kinds = [(kind, p["is_busy"]) for kind, p in session_events(workspace)]
    assert kinds == [
        ("created", False),
        ("updated", True),
        ("updated", True),
        ("updated", True),
    ]
    last = session_events(workspace)[-1][1]
    assert (last["title"], last["prompt_tokens"], last["completion_tokens"]) == (
        "Fixing",
        10,
        4,
    )
    assert last["cost"] == pytest.approx(0.75)
    assert last["todos"] == [
        {"content": "c", "status": "pending", "active_form": "doing c"}
    ]
    assert (await workspace.sessions.get(session.id)).is_busy is True
    assert workspace.is_busy(session.id)


async def test_busy_changed_publishes_the_edge_synchronously(
    workspace: Workspace,
) -> None:
    """A busy edge of a known session is one session/updated, with the current count."""
    session = await workspace.sessions.create(SessionCreate(title="s"))
    user = Message(id="u", role="user", session_id=session.id)
    await workspace.messages.create(user)
    workspace.sessions.busy_changed(session.id, True)
    workspace.sessions.busy_changed(session.id, False)
    edges = [
        (p["is_busy"], p["message_count"])
        for kind, p in session_events(workspace)
        if kind == "updated"
    ]
    assert edges == [(True, 1), (False, 1)]


async def test_busy_edge_of_an_unread_session_is_published_by_the_next_get(
    workspace: Workspace,
) -> None:
    """Submit happens before any database access: get() publishes the edge later."""
    created = await workspace.sessions.create(SessionCreate(title="s"))
    fresh = type(workspace.sessions)(
        workspace.sessions._store,  # a service that has not seen the session
        workspace.log,
        lambda sid: sid == created.id,
    )
    before = len(session_events(workspace))
    fresh.busy_changed(created.id, True)
    assert len(session_events(workspace)) == before
    session = await fresh.get(created.id)
    assert session.is_busy is True
    kind, payload = session_events(workspace)[-1]
    assert (kind, payload["id"], payload["is_busy"]) == ("updated", created.id, True)
    await fresh.get(created.id)  # published once only
    assert len(session_events(workspace)) == before + 1


async def test_opposite_edges_before_a_read_publish_nothing(
    workspace: Workspace,
) -> None:
    """Busy then idle for a session never read: nothing stale is published."""
    created = await workspace.sessions.create(SessionCreate(title="s"))
    fresh = type(workspace.sessions)(workspace.sessions._store, workspace.log)
    before = len(session_events(workspace))
    fresh.busy_changed(created.id, True)
    fresh.busy_changed(created.id, False)
    await fresh.get(created.id)
    assert len(session_events(workspace)) == before


async def test_session_sink_errors(workspace: Workspace) -> None:
    """Unknown sessions are SessionNotFound; a bad todo status is a 400."""
    with pytest.raises(SessionNotFound):
        await workspace.sessions.set_usage("nope", 1, 1, 0.0)
    with pytest.raises(SessionNotFound):
        await workspace.sessions.set_title("nope", "t", 0.0)
    session = await workspace.sessions.create(SessionCreate(title="s"))
    with pytest.raises(BadRequest, match="invalid todo status: done"):
        await workspace.todos.set_todos(session.id, [Todo("c", "done")])


async def test_file_tracker_stores_inside_paths_relative(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Inside the folder: relative to it; outside: absolute; both read back absolute."""
    tracker = workspace.reads
    root = workspace.root
    assert tracker.stored_path(root / "src" / "a.py") == "src/a.py"
    assert tracker.stored_path("src/../b.py") == "b.py"
    assert tracker.stored_path(root) == "."
    assert tracker.stored_path(tmp_path / "elsewhere.txt") == str(
        tmp_path / "elsewhere.txt"
    )
    assert tracker.stored_path(str(root) + "-sibling/x") == str(root) + "-sibling/x"
    session = await workspace.sessions.create(SessionCreate(title="s"))
    await tracker.record_read(session.id, root / "src" / "a.py")
    await tracker.record_read(session.id, tmp_path / "elsewhere.txt")
    assert set(await tracker.read_files(session.id)) == {
        str(root / "src" / "a.py"),
        str(tmp_path / "elsewhere.txt"),
    }
    assert await tracker.last_read(session.id, "src/a.py") > 0
    assert await tracker.last_read(session.id, root / "never.py") == 0.0


async def test_file_tracker_record_for_unknown_session_never_raises(
    workspace: Workspace,
) -> None:
    """Recording a read of a missing session is ignored, as upstream (logged)."""
    await workspace.reads.record_read("no-such-session", workspace.root / "a")
    assert await workspace.reads.read_files("no-such-session") == []


def test_rfc3339_formats_utc_seconds_and_never() -> None:
    """lastread's string: RFC 3339 in UTC; Go's zero time for never."""
    assert rfc3339(0) == NEVER_READ == "0001-01-01T00:00:00Z"
    assert rfc3339(1767225600) == "2026-01-01T00:00:00Z"


async def test_serve_runs_the_flusher_and_the_installed_agent(
    workspace: Workspace, autojump_clock: trio.testing.MockClock
) -> None:
    """serve starts the flusher (debounced updates land) and serves the agent."""
    session = await workspace.sessions.create(SessionCreate(title="s"))
    message = await workspace.messages.create(
        Message(id="a", role="assistant", session_id=session.id)
    )
    agent = FakeAgent()
    async with trio.open_nursery() as nursery:
        await nursery.start(workspace.serve)
        await workspace.install_agent(agent)
        await agent.served.wait()
        head = workspace.log.head
        workspace.messages.update_soon(
            Message(
                id=message.id,
                role="assistant",
                session_id=session.id,
                parts=[Part("text", {"text": "streamed"})],
            )
        )
        while workspace.log.head == head:
            await workspace.log.wait_after(workspace.log.head)
        nursery.cancel_scope.cancel()
    with pytest.raises(RuntimeError, match="has an agent already"):
        await workspace.install_agent(FakeAgent())


async def test_aclose_writes_pending_updates(tmp_path: Path) -> None:
    """Teardown writes what the flusher had not; the row survives a reopen."""
    project = tmp_path / "project"
    project.mkdir()
    sources = ConfigSources.from_environ(
        {"HOME": str(tmp_path / "home")}, system_file=tmp_path / "etc.json"
    )
    pool = StorePool("test")
    opener = WorkspaceOpener(pool, 4096, config_sources=sources, environ={})
    spec = WorkspaceSpec(id="w1", path=str(project), key=str(project))
    first = await opener(spec)
    session = await first.sessions.create(SessionCreate(title="s"))
    base = Message(id="a", role="assistant", session_id=session.id)
    await first.messages.create(base)
    text = [Part("text", {"text": "unflushed"})]
    first.messages.update_soon(attrs.evolve(base, parts=text))
    await first.aclose()
    second = await opener(WorkspaceSpec(id="w2", path=str(project), key=str(project)))
    (stored,) = await second.messages.list(session.id)
    assert stored.parts == text
    await second.aclose()
    await pool.aclose()


def test_agent_environ_puts_the_creators_entries_on_top() -> None:
    """``K=V`` entries override the daemon's; malformed or NUL entries are dropped."""
    from crushd.workspace._agent import agent_environ

    merged = agent_environ(
        {"A": "daemon", "B": "kept"}, ["A=client", "NOEQUALS", "=x", "C=a\0b", "D="]
    )
    assert merged == {"A": "client", "B": "kept", "D": ""}


async def test_ensure_agent_builds_one_coordinator_served_in_the_workspace(
    workspace: Workspace, nursery: trio.Nursery
) -> None:
    """Concurrent ensure_agent calls share one coordinator, served by serve()."""
    await nursery.start(workspace.serve)
    agents: list[object] = []

    async def ensure() -> None:
        agents.append(await workspace.ensure_agent())

    async with trio.open_nursery() as callers:
        callers.start_soon(ensure)
        callers.start_soon(ensure)
    assert agents[0] is agents[1] is workspace.agent
    from crushd.agent import AgentCoordinator

    assert isinstance(workspace.agent, AgentCoordinator)
    assert workspace.is_busy("any") is False
