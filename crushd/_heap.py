"""Keep the cyclic garbage collector off the objects that live for the whole process.

A daemon with the web stack, the agent package and the ``openai`` SDK loaded
holds about 130,000 objects that never die (modules, classes, functions,
type hints). CPython's full (generation 2) collection walks all of them: it
was measured at 70-120 ms in the agent benchmark, and a generation 1 pass at
up to 40 ms, each a freeze of every stream and request on the event loop.
``gc.freeze()`` moves everything alive into a permanent generation the
collector skips, so its passes only walk what was allocated since.

It is called right after each big import (the daemon's start, the agent
package, the SDK), never per request. The cost: an object frozen is never
reclaimed by the cycle collector, so cyclic garbage alive at that instant
(a few objects at start-up or at the first ``agent/init``) stays; objects
freed by reference counting are freed as usual. Source: the CPython ``gc``
documentation of ``gc.freeze``; stress/RESULTS.md (agent benchmark).
"""

from __future__ import annotations

import gc
import logging

__all__ = ["freeze_long_lived"]

log = logging.getLogger(__name__)


def freeze_long_lived(reason: str) -> None:
    """Move every object alive now out of the collector's reach.

    Args:
        reason: what was just loaded, for the debug log line.
    """
    gc.freeze()
    if log.isEnabledFor(logging.DEBUG):
        # Counting walks every frozen object: about 12 ms for 110,000 of
        # them, a stall of the loop paid only when someone reads the count.
        log.debug("gc: %d objects frozen after %s", gc.get_freeze_count(), reason)
