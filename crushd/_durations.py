"""A fixed-bucket duration histogram: an int add per observation, no lock.

Shared by the agent's counters (``crushd.agent._stats``) and the server's
request counters (``crushd.server._metrics_requests``); ``GET /v1/metrics``
turns each into a Prometheus histogram at scrape time. A leaf: stdlib only,
so it costs nothing at daemon start and the agent may use it.

Source: issue 15 section 1 (cheap on the hot paths).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Sequence

__all__ = ["REQUEST_BUCKETS", "Durations"]

#: Upper bounds (seconds) for request latencies: prometheus-client's defaults.
REQUEST_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)


class Durations:
    """Counts of observed durations per bucket, their sum and their count.

    Args:
        bounds: the buckets' upper bounds in seconds, ascending; a value
            equal to a bound falls in that bucket (Prometheus ``le``).

    Raises:
        ValueError: ``bounds`` is empty or not strictly ascending.
    """

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        if not bounds or any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ValueError(f"bounds must be non-empty and ascending: {bounds!r}")
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.total = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        """Count one duration of ``seconds``."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations <= it)`` per bucket, ``inf`` last."""
        running = 0
        out: list[tuple[float, int]] = []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out
