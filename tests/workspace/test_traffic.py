"""Tests for crushd/workspace/_traffic.py: the event counters and busy rates."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.config import ConfigSources
from crushd.proto import WorkspaceSpec
from crushd.store import StorePool
from crushd.workspace import EventLog, EventTraffic, WorkspaceOpener
from crushd.workspace._traffic import (
    BUSY_DELIVERIES_PER_SECOND,
    BUSY_PUBLISHES_PER_SECOND,
)


@pytest.mark.parametrize(
    ("published", "delivered", "busy"),
    [
        (0, 0, False),
        (BUSY_PUBLISHES_PER_SECOND // 10, 0, False),  # exactly the rate
        (BUSY_PUBLISHES_PER_SECOND // 10 + 1, 0, True),
        (0, BUSY_DELIVERIES_PER_SECOND // 10, False),
        (0, BUSY_DELIVERIES_PER_SECOND // 10 + 1, True),
    ],
)
async def test_busy_means_either_count_above_its_rate_over_the_time_since_the_mark(
    autojump_clock: trio.testing.MockClock, published: int, delivered: int, busy: bool
) -> None:
    """Over 0.1 s: busy once publishes or deliveries pass a tenth of their rate."""
    traffic = EventTraffic()
    mark = traffic.mark()
    await trio.sleep(0.1)
    traffic.published += published
    traffic.delivered += delivered
    assert traffic.busy_since(mark) is busy


async def test_the_same_traffic_is_quiet_over_a_longer_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Counts are rates: what is busy over 0.1 s is not over 10 s."""
    traffic = EventTraffic()
    mark = traffic.mark()
    traffic.published += BUSY_PUBLISHES_PER_SECOND
    await trio.sleep(0.1)
    assert traffic.busy_since(mark)
    await trio.sleep(9.9)
    assert not traffic.busy_since(mark)


async def test_logs_sharing_traffic_count_every_publish_but_a_closed_logs() -> None:
    """Each publish counts once on the shared counters; a closed log does not."""
    traffic = EventTraffic()
    first, second = (
        EventLog("a", 16, traffic=traffic),
        EventLog("b", 16, traffic=traffic),
    )
    first.publish("session", "created", {})
    second.publish("session", "created", {})
    second.close()
    second.publish("session", "created", {})
    assert (traffic.published, traffic.delivered) == (2, 0)
    assert EventLog("c", 16).traffic is not traffic


async def test_workspaces_of_one_opener_share_its_traffic(tmp_path: Path) -> None:
    """The opener (one per daemon) hands its counters to every workspace's log."""
    sources = ConfigSources.from_environ(
        {"HOME": str(tmp_path / "home")}, system_file=tmp_path / "etc.json"
    )
    pool = StorePool("test")
    opener = WorkspaceOpener(pool, 4096, config_sources=sources, environ={})
    opened = []
    for name in ("one", "two"):
        project = tmp_path / name
        project.mkdir()
        key = str(project)
        opened.append(await opener(WorkspaceSpec(str(uuid.uuid4()), key, key)))
    try:
        assert [w.log.traffic for w in opened] == [opener.traffic] * 2
    finally:
        for workspace in opened:
            await workspace.aclose()
        await pool.aclose()
