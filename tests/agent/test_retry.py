"""Tests for crushd/agent/_retry.py: the retry policy and loop."""

from __future__ import annotations

import itertools

import pytest
import trio

from crushd.agent._retry import RetryNotice, RetryPolicy, call_with_retries
from crushd.agent.providers import ProviderError


def err(retryable: bool = True, after: float | None = None) -> ProviderError:
    return ProviderError("boom", status=500, retryable=retryable, retry_after=after)


def test_delays_are_5_10_20_then_give_up() -> None:
    """Three retries after 5, 10 and 20 seconds."""
    policy = RetryPolicy()
    assert [policy.delay(err(), n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, None]


def test_retry_after_under_60_seconds_is_honoured() -> None:
    """A server's Retry-After below 60 s replaces the backoff; above it is ignored."""
    policy = RetryPolicy()
    assert policy.delay(err(after=2.5), 1) == 2.5
    assert policy.delay(err(after=0), 2) == 0
    assert policy.delay(err(after=60), 1) == 5.0


def test_not_retryable_is_never_retried() -> None:
    """x-should-retry: false (retryable False) gives up at once."""
    assert RetryPolicy().delay(err(retryable=False), 1) is None


async def test_call_with_retries_waits_and_resets(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Two failures, then success: on_retry runs before each wait, numbered
    and counted, and the waits are 5 s and 10 s of virtual time."""
    attempts: list[float] = []
    retries: list[tuple[str, float, int, int]] = []

    async def attempt() -> str:
        attempts.append(trio.current_time())
        if len(attempts) < 3:
            raise err()
        return "ok"

    async def on_retry(notice: RetryNotice) -> None:
        retries.append(
            (notice.error.message, notice.delay_seconds, notice.retry, notice.retries)
        )

    assert await call_with_retries(attempt, on_retry) == "ok"
    assert retries == [("boom", 5.0, 1, 3), ("boom", 10.0, 2, 3)]
    assert [b - a for a, b in itertools.pairwise(attempts)] == [5.0, 10.0]


async def test_call_with_retries_raises_final_error(
    autojump_clock: trio.abc.Clock,
) -> None:
    """After the third retry the error is raised; 4 attempts in all."""
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise err()

    async def on_retry(notice: RetryNotice) -> None:
        pass

    with pytest.raises(ProviderError):
        await call_with_retries(attempt, on_retry)
    assert calls == 4
