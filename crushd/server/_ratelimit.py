"""Refusal log lines, at most one per second per reason, with a count of the rest.

A client that is refused in a loop (no token, too many connections, another
uid) must not be able to fill the disk with log lines: one connection wrote
1.6 MB/s of "refused" warnings before this existed. Each reason gets its own
budget, so a flood of one kind never hides the first line of another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import trio

__all__ = ["REFUSAL_LOG_INTERVAL_SECONDS", "RefusalLog"]

#: At most one line per reason in this many seconds.
REFUSAL_LOG_INTERVAL_SECONDS = 1.0


class RefusalLog:
    """Log a refusal unless its reason was logged less than an interval ago.

    The refusals skipped in between are counted and reported at the end of the
    next line logged for that reason: ``... (+41 more refused for this reason
    since the last report)``. A count still pending when refusals stop is
    never logged on its own.

    Args:
        logger: where the lines go.
        interval_seconds: the minimum time between two lines of one reason.
        clock: seconds from a monotonic clock; ``None`` means
            ``trio.current_time`` inside a trio run (so tests drive it with
            ``MockClock``), ``time.monotonic`` outside one. A clock that went
            backwards (a new trio run) counts as elapsed.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_seconds: float = REFUSAL_LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._logger = logger
        self._interval = interval_seconds
        self._clock = clock or _now
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def refused(
        self, reason: str, message: str, *args: object, level: int = logging.WARNING
    ) -> bool:
        """Log ``message % args`` for ``reason`` now, or count it for later.

        Args:
            reason: the budget's key, e.g. ``"unauthorized"``; use a small
                fixed set (never a client address).
            message: a %-format string, as for ``logging``.
            args: its arguments.
            level: the logging level.

        Returns:
            ``True`` when a line was logged, ``False`` when it was counted.
        """
        now = self._clock()
        last = self._last.get(reason)
        if last is not None and 0 <= now - last < self._interval:
            self._skipped[reason] = self._skipped.get(reason, 0) + 1
            return False
        self._last[reason] = now
        skipped = self._skipped.pop(reason, 0)
        suffix = (
            f" (+{skipped} more refused for this reason since the last report)"
            if skipped
            else ""
        )
        self._logger.log(level, message + "%s", *args, suffix)
        return True


def _now() -> float:
    try:
        return trio.current_time()
    except RuntimeError:  # not inside a trio run
        return time.monotonic()
