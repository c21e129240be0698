"""Reconnect delays: exponential backoff with jitter, reset by a live connection."""

from __future__ import annotations

import random

#: The first reconnect waits at most this long; each failed attempt doubles it.
INITIAL_BACKOFF_SECONDS = 0.25
#: The longest wait between reconnect attempts.
MAX_BACKOFF_SECONDS = 10.0
#: Each delay is the nominal one scaled by a random factor in ``[1 - this, 1]``.
JITTER_FRACTION = 0.5


class Backoff:
    """The delays between reconnect attempts: 250 ms doubling to 10 s, jittered.

    The nominal delay starts at ``INITIAL_BACKOFF_SECONDS`` and doubles after
    each ``next_delay()`` up to ``MAX_BACKOFF_SECONDS``; ``reset()`` (a stream
    was established) starts over. The delay returned is the nominal one times
    a random factor in ``[1 - JITTER_FRACTION, 1]``, so clients that lost the
    same daemon at the same instant do not all come back in lockstep, and no
    delay ever exceeds the nominal one.

    Args:
        rng: the random source; ``None`` means a fresh ``random.Random()``.
            Tests pass a seeded one (or one whose ``random()`` returns 1.0 to
            see the nominal delays).

    Source: docs/protocol.md 5.7 step 2 (250 ms doubling to 10 s); the jitter is
    crushd's (issue 4).
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - spreading retries, not crypto
        self._nominal = INITIAL_BACKOFF_SECONDS

    @property
    def nominal_seconds(self) -> float:
        """The upper bound of the next delay, in seconds."""
        return self._nominal

    def next_delay(self) -> float:
        """Return the next delay in seconds and double the nominal one (capped)."""
        nominal = self._nominal
        self._nominal = min(nominal * 2, MAX_BACKOFF_SECONDS)
        return nominal * (1 - JITTER_FRACTION * self._rng.random())

    def reset(self) -> None:
        """Start again at ``INITIAL_BACKOFF_SECONDS`` (a stream was established)."""
        self._nominal = INITIAL_BACKOFF_SECONDS
