"""Tests for crushd/_heap.py: long-lived objects leave the cycle collector's walks."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest

from crushd._heap import freeze_long_lived


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_freeze_moves_what_is_alive_out_of_every_generation() -> None:
    """After the call the objects alive are frozen and generation 2 is empty."""
    keep = [[index] for index in range(1000)]
    freeze_long_lived("a test")
    assert gc.get_freeze_count() >= len(keep)
    oldest = {id(thing) for thing in gc.get_objects(generation=2)}
    assert not oldest & {id(thing) for thing in keep}


@pytest.mark.usefixtures("unfrozen")
def test_a_cycle_made_after_the_freeze_is_still_collected() -> None:
    """Only what was alive at the call is frozen: later cycles are reclaimed."""
    freeze_long_lived("a test")
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


@pytest.mark.usefixtures("unfrozen")
def test_the_frozen_count_is_only_walked_for_a_debug_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Counting the frozen objects stalls the loop: skipped unless logged."""

    def walked() -> int:
        raise AssertionError("the frozen objects were counted")

    monkeypatch.setattr(gc, "get_freeze_count", walked)
    caplog.set_level(logging.INFO, logger="crushd._heap")
    freeze_long_lived("a test")
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 42)
    caplog.set_level(logging.DEBUG, logger="crushd._heap")
    freeze_long_lived("the debug test")
    assert "gc: 42 objects frozen after the debug test" in caplog.text
