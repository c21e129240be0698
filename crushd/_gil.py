"""Hand the GIL back to the event loop sooner.

The daemon's event loop shares the interpreter with its worker threads: the
database thread (``Database.run``: each streamed message is encoded to JSON
there before SQLite writes it), config and skill loading, the provider SDK
import. When a worker thread runs Python code and the loop's thread wants
the GIL, CPython makes the loop wait for the switch interval, 5 ms by
default, and it may wait several times in one task step. A Trio instrument
in the agent benchmark (three streaming runs, 50 watchers) found task steps
of 5-15 ms wall time holding 0.2-1.2 ms of CPU; with an interval of 0.5 ms
the longest steps dropped to about 6 ms and the delta-to-client p99 by
about 10 % (stress/RESULTS.md, "Per-token cost and request hops").

The cost is more GIL hand-offs while two threads are busy at once, which is
rare in this daemon; a process that is single-threaded pays nothing.
Source: the ``sys.setswitchinterval`` documentation.
"""

from __future__ import annotations

import sys

__all__ = ["SWITCH_INTERVAL_SECONDS", "favour_event_loop"]

#: Seconds a thread waiting for the GIL waits before asking the holder to drop it.
SWITCH_INTERVAL_SECONDS = 0.0005


def favour_event_loop() -> None:
    """Shorten the interpreter's GIL switch interval (process-wide, once at start)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
