"""A FIFO ``SKILL.md`` that cannot hang a test run, even on code that blocks on it."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

#: How often the watchdog frees a reader stuck on the FIFO, in seconds.
WATCHDOG_SECONDS = 2.0


@contextlib.contextmanager
def fifo_skill(root: Path, folder: str) -> Iterator[Path]:
    """Make ``root/folder/SKILL.md`` a FIFO for the duration of the block.

    Code that opens it for reading blocks until a writer comes (the bug this
    guards against). A watchdog thread opens the FIFO for writing now and then
    and closes it at once, so such a reader sees an empty file and the test
    fails on its assertion instead of hanging the run. Code that never waits
    on the FIFO finishes long before the watchdog matters.
    """
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    stop = threading.Event()

    def free_stuck_readers() -> None:
        while not stop.wait(WATCHDOG_SECONDS):
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Thread(target=free_stuck_readers, daemon=True)
    watchdog.start()
    try:
        yield path
    finally:
        stop.set()
        watchdog.join()
