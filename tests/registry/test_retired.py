"""Tests for crushd/registry/_retired.py: the bounded, expiring retired set."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from crushd.registry import RETIRED_TTL_SECONDS
from crushd.registry._retired import RetiredClients


async def test_retired_clients_forget_after_ttl(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An id stays retired for RETIRED_TTL_SECONDS after its retire, then is gone."""
    retired = RetiredClients()
    retired.add("a")
    await trio.sleep(RETIRED_TTL_SECONDS - 0.5)
    assert "a" in retired
    assert len(retired) == 1
    await trio.sleep(0.5)
    assert "a" not in retired
    assert len(retired) == 0


async def test_retired_clients_readd_refreshes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Retiring an id again restarts its TTL and moves it to the young end."""
    retired = RetiredClients()
    retired.add("a")
    retired.add("b")
    await trio.sleep(RETIRED_TTL_SECONDS / 2)
    retired.add("a")
    await trio.sleep(RETIRED_TTL_SECONDS / 2)
    assert "b" not in retired
    assert "a" in retired


async def test_retired_clients_bounded_oldest_first(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """Past RETIRED_MAX ids the oldest ones are dropped first."""
    monkeypatch.setattr("crushd.registry._retired.RETIRED_MAX", 2)
    retired = RetiredClients()
    for client_id in "abc":
        retired.add(client_id)
        await trio.sleep(1)
    assert len(retired) == 2
    assert [c in retired for c in "abc"] == [False, True, True]
