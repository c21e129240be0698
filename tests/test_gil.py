"""Tests for crushd/_gil.py: worker threads hand the GIL back to the loop sooner."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from crushd import daemon
from crushd._gil import SWITCH_INTERVAL_SECONDS, favour_event_loop


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_interval")
def test_the_switch_interval_drops_below_the_default() -> None:
    """0.5 ms instead of CPython's 5 ms."""
    favour_event_loop()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
    assert SWITCH_INTERVAL_SECONDS < 0.005


class _StopError(Exception):
    pass


@pytest.mark.usefixtures("switch_interval")
async def test_the_daemon_sets_it_before_it_opens_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``daemon.run`` shortens the interval before the store pool exists."""

    def stop(*_: object) -> None:
        raise _StopError

    monkeypatch.setattr(daemon, "install_peer_check", lambda: True)
    monkeypatch.setattr(daemon, "remember_environ", lambda: None)
    monkeypatch.setattr(daemon, "StorePool", stop)
    listeners = SimpleNamespace(sockets=[])
    with pytest.raises(_StopError):
        await daemon.run(None, listeners)  # type: ignore[arg-type]
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
