"""The daemon's event traffic: how busy every workspace's fan-out keeps the loop.

All workspaces of one daemon share one event loop. When one of them fans a
large burst out (thousands of events to dozens of streams), the message
flusher of another, whose window closes every 33 ms, makes that burst wait
for its own work: the provider reads it wakes, the write, one update per
streamed message and their fan-out to every watcher. Those costs are per
window, not per token, so a flusher that sees heavy traffic keeps its window
open longer (``MessageService``) and does the same work once for several
windows; no token is lost, each update just holds more of them.

The signal is two counters every event log and stream of the daemon bump:
events published, and events delivered to a stream. Both are plain integer
increments on paths that already do far more per event. ``GET /v1/metrics``
reads them (and the resyncs and stretches counted beside them) as the
daemon's totals, past workspaces included.

Measured with the agent benchmark's bursts beside three answers streaming to
50 watchers (stress/RESULTS.md, "The flusher steps aside"): the burst rate
beside the answers rose from about 0.6 to about 0.8-0.9 of the bursts alone.

Source: docs/agent.md 1.5 (crushd's departure from upstream's fixed
debounce under load).
"""

from __future__ import annotations

import attrs
import trio

__all__ = [
    "BUSY_DELIVERIES_PER_SECOND",
    "BUSY_PUBLISHES_PER_SECOND",
    "EventTraffic",
    "TrafficMark",
]

#: Publishes per second, over all workspaces, above which the loop counts as
#: busy. Three answers at 200 tokens/s publish about 90/s.
BUSY_PUBLISHES_PER_SECOND = 3_000

#: Deliveries (one event written to one stream) per second above which the
#: loop counts as busy. Three answers to 50 watchers deliver about 4,500/s.
BUSY_DELIVERIES_PER_SECOND = 60_000


@attrs.frozen
class TrafficMark:
    """The counters at one moment (``EventTraffic.mark``).

    Attributes:
        time: ``trio.current_time()`` then, seconds.
        published: events published so far.
        delivered: event deliveries to streams so far.
    """

    time: float
    published: int
    delivered: int


class EventTraffic:
    """Events published and delivered by every workspace of one daemon.

    One instance per ``WorkspaceOpener`` (so per daemon), shared by its event
    logs (``EventLog.traffic``); the SSE and WebSocket streams count what they
    write. Tests make their own.
    """

    def __init__(self) -> None:
        self.published = 0
        self.delivered = 0
        #: Stream reads that led with a resync (cursor outside the ring).
        self.resyncs = 0
        #: Debounces a flush window was kept open past its own
        #: (``MessageService``; ``GET /v1/metrics``).
        self.stretches = 0

    def mark(self) -> TrafficMark:
        """The counters now, to compare with later (needs a Trio run)."""
        return TrafficMark(trio.current_time(), self.published, self.delivered)

    def busy_since(self, mark: TrafficMark) -> bool:
        """Whether the traffic since ``mark`` ran above either busy rate."""
        seconds = trio.current_time() - mark.time
        return (
            self.published - mark.published > BUSY_PUBLISHES_PER_SECOND * seconds
            or self.delivered - mark.delivered > BUSY_DELIVERIES_PER_SECOND * seconds
        )
