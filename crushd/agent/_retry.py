"""The retry policy crushd owns (the SDK's own retries are off).

A failed model call is tried again up to three times, after 5, 10 and 20
seconds, or after the server's ``Retry-After`` when that is under 60
seconds; never when the error is not retryable (``x-should-retry: false``,
4xx other than 408/409/429). Before each retry the caller resets the
half-written message, so the answer never holds two attempts' text
(docs/agent.md 1.8).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
import trio

from ._stats import AGENT_STATS
from .providers import ProviderError

_T = TypeVar("_T")


@attrs.frozen
class RetryPolicy:
    """When to try a failed model call again.

    Attributes:
        delays_seconds: the wait before retry 1, 2, 3...; its length is the
            number of retries.
        max_server_delay_seconds: a server's ``Retry-After`` is honoured only
            below this; longer asks fall back to ``delays_seconds``.

    Source: fantasy ``retry.go`` ``DefaultRetryOptions``, ``getRetryDelayInMs``.
    """

    delays_seconds: tuple[float, ...] = (5.0, 10.0, 20.0)
    max_server_delay_seconds: float = 60.0

    def delay(self, error: ProviderError, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` (1-based), or None.

        ``None`` means give up: the error is not retryable or the retries
        are used up.
        """
        if not error.retryable or retry > len(self.delays_seconds):
            return None
        asked = error.retry_after
        if asked is not None and 0 <= asked < self.max_server_delay_seconds:
            return asked
        return self.delays_seconds[retry - 1]


@attrs.frozen
class RetryNotice:
    """A retry about to happen: why, after how long, which one of how many.

    Attributes:
        error: the failure that is retried.
        delay_seconds: the wait before the next attempt.
        retry: this retry's number, from 1.
        retries: how many retries the policy allows in all.
    """

    error: ProviderError
    delay_seconds: float
    retry: int
    retries: int


async def call_with_retries(
    attempt: Callable[[], Awaitable[_T]],
    on_retry: Callable[[RetryNotice], Awaitable[None]],
    policy: RetryPolicy | None = None,
) -> _T:
    """Run ``attempt`` until it succeeds or the policy gives up.

    Args:
        attempt: one model call (a whole streamed step).
        on_retry: awaited before each wait (``RetryNotice``); resets the live
            message, publishes the reset and tells the clients.
        policy: the policy; ``None`` uses ``RetryPolicy()``.

    Returns:
        What ``attempt`` returned.

    Raises:
        ProviderError: the last failure, when it is final.

    Cancellation:
        Cancelling during a wait or an attempt stops at once; nothing is
        retried.
    """
    policy = policy or RetryPolicy()
    retry = 0
    while True:
        try:
            return await attempt()
        except ProviderError as exc:
            AGENT_STATS.provider_error(exc)
            retry += 1
            delay = policy.delay(exc, retry)
            if delay is None:
                raise
            retries = len(policy.delays_seconds)
            await on_retry(RetryNotice(exc, delay, retry, retries))
            await trio.sleep(delay)
