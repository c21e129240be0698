"""RefusalLog: one line per second per reason, with the count of the rest."""

from __future__ import annotations

import logging

import pytest
import trio

from crushd.server._ratelimit import RefusalLog

log = logging.getLogger("crushd.test.ratelimit")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


async def test_refusals_are_logged_once_per_second_per_reason_with_a_count(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11 F: every refusal was a log line (1.6 MB/s from one client)."""
    limiter = RefusalLog(log)
    caplog.set_level(logging.WARNING, logger=log.name)
    for _ in range(1000):
        limiter.refused("unauthorized", "refused %s", "x")
    assert lines(caplog) == ["refused x"]
    await trio.sleep(0.999)
    limiter.refused("unauthorized", "refused %s", "y")
    assert len(caplog.records) == 1
    await trio.sleep(0.001)
    assert limiter.refused("unauthorized", "refused %s", "z")
    assert lines(caplog)[-1] == (
        "refused z (+1000 more refused for this reason since the last report)"
    )
    await trio.sleep(5)
    limiter.refused("unauthorized", "refused %s", "w")
    assert lines(caplog)[-1] == "refused w"


async def test_each_reason_has_its_own_budget(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A flood of one reason never hides the first line of another."""
    limiter = RefusalLog(log)
    caplog.set_level(logging.INFO, logger=log.name)
    limiter.refused("a", "first a")
    limiter.refused("a", "second a")
    limiter.refused("b", "first b", level=logging.INFO)
    assert lines(caplog) == ["first a", "first b"]
    assert caplog.records[1].levelno == logging.INFO


def test_a_clock_that_went_backwards_counts_as_elapsed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A new trio run (MockClock back at 0) does not silence a reason forever."""
    now = [100.0]
    limiter = RefusalLog(log, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger=log.name)
    limiter.refused("a", "one")
    now[0] = 0.0
    limiter.refused("a", "two")
    assert lines(caplog) == ["one", "two"]
