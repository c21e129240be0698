"""open_watch after a deliberate shutdown: no spawn, quiet polling, then rejoin.

Source: docs/protocol.md C.11 (shutdown marker), 5.7 step 2.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio.testing

from crushctl import STOPPED_POLL_SECONDS, Connected, Retrying, Stopped
from crushd.proto import Event, Workspace

from .test_watch import (
    W1,
    Body,
    Daemon,
    Ensures,
    Step,
    client_for,
    connect_error,
    event,
    frame,
    take,
    watching,
)


@pytest.fixture
def ensures(monkeypatch: pytest.MonkeyPatch) -> Ensures:
    fake = Ensures()
    monkeypatch.setattr("crushctl._watch.ensure_server", fake)
    return fake


SHUTDOWN = frame(6, "workspace_closed", {"workspace_id": "w1", "reason": "shutdown"})


async def test_watch_after_shutdown_marker_polls_without_spawning(
    autojump_clock: trio.testing.MockClock, ensures: Ensures
) -> None:
    """The marker yields Stopped; refusals then are retried quietly, never spawned."""
    gone: list[Step] = [connect_error(), 503, connect_error(), connect_error()]
    daemon = Daemon([Body([frame(5), SHUTDOWN]), *gone, Body([frame(7)], hang=True)])
    async with client_for(daemon) as client, watching(client, spawn=True) as watcher:
        items = await take(watcher, 5)
    assert items == [
        Connected(W1, resumed_after=None, reconnected=False, recreated=False),
        event(5),
        Stopped("w1", "shutdown"),
        Connected(W1, resumed_after=6, reconnected=True, recreated=False),
        event(7),
    ]
    assert ensures.calls == []
    gaps = [b - a for a, b in zip(daemon.times, daemon.times[1:], strict=False)]
    assert gaps == pytest.approx([0.25, 0.5, 0.5, 0.5, 0.5])
    assert max(gaps) == STOPPED_POLL_SECONDS


async def test_watch_spawns_again_after_a_crash_that_follows_a_rejoin(
    autojump_clock: trio.testing.MockClock, ensures: Ensures
) -> None:
    """Once a stream is up again, a broken connection is a crash: spawn as usual."""
    steps: list[Step] = [Body([SHUTDOWN]), connect_error(), Body([frame(7)])]
    daemon = Daemon([*steps, connect_error(), Body([], hang=True)])
    async with client_for(daemon) as client, watching(client, spawn=True) as watcher:
        items = await take(watcher, 7)
    assert [type(item) for item in items] == [
        Connected,
        Stopped,
        Connected,
        Event,
        Retrying,
        Retrying,
        Connected,
    ]
    assert len(ensures.calls) == 1
    assert ensures.calls[0][1] > daemon.times[3]


async def test_watch_recreates_without_spawning_after_shutdown(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restarted daemon answers 404: the re-create may not spawn either."""
    spawns: list[bool] = []

    async def create(client: Any, path: str, *, spawn: bool, **_: Any) -> Workspace:
        spawns.append(spawn)
        return Workspace(id="w2", path=path)

    monkeypatch.setattr("crushctl._recovery.create_workspace_respawning", create)
    daemon = Daemon([Body([SHUTDOWN]), 404, Body([], hang=True)])
    async with client_for(daemon) as client, watching(client, spawn=True) as watcher:
        items = await take(watcher, 3)
    assert items[1:] == [
        Stopped("w1", "shutdown"),
        Connected(Workspace(id="w2", path="/proj"), None, True, True),
    ]
    assert spawns == [False]


async def test_watch_marker_with_another_reason_is_an_ordinary_event(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Only ``reason: shutdown`` stops spawning; other reasons pass through."""
    other = frame(3, "workspace_closed", {"reason": "failed"})
    daemon = Daemon([Body([other], hang=True)])
    async with client_for(daemon) as client, watching(client) as watcher:
        items = await take(watcher, 2)
    assert items[1].event_type == "updated"  # type: ignore[union-attr]
    assert not isinstance(items[1], Stopped)
