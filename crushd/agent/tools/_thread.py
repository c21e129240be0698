"""Blocking tool work in a worker thread that stops when the caller gives up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import trio

T = TypeVar("T")


async def run_stoppable(work: Callable[[Callable[[], bool]], T]) -> T:
    """Run ``work(should_stop)`` in a worker thread and return its result.

    ``work`` polls ``should_stop()`` between steps (entries of a walk, files
    of a search) and returns early when it is True.

    Cancellation:
        Returns to the caller at once (the thread is abandoned) and sets the
        stop flag, so the thread ends at its next poll instead of walking on.
    """
    stop = threading.Event()
    try:
        return await trio.to_thread.run_sync(work, stop.is_set, abandon_on_cancel=True)
    finally:
        stop.set()
