"""The world one example runs in: project folders, the in-process daemon, time.

``World`` owns a fresh temp folder (projects, symlink, socket), runs
``crushd.daemon.run`` as a task (the real root: listeners, registry, store
pool, signal watcher, hypercorn), records the registry's and workspaces'
lifecycle log lines, and offers ``settle`` (run until everything is blocked and
no worker thread is busy) and ``tick`` (move the MockClock one ``TICK``).
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import shutil
import signal
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trio
import trio.testing

from crushd import daemon
from crushd.proto import Host, parse_host
from crushd.settings import Settings

from .._env import lock_free
from ._model import TICK, Timings

#: How a path argument is spelled: ``(folder, path relative to the root)``;
#: the two keys are ``p0`` and ``p1``, ``l1`` is a symlink to ``p1``.
SPELLINGS = ("p0", "p1", "l1", "p1/../p0")
KEYS = ("p0", "p1", "p1", "p0")
#: Real seconds one example may take before it counts as hung.
EXAMPLE_SECONDS = 60.0
#: Real seconds a stopping daemon may take (its cleanup runs in threads).
STOP_SECONDS = 15.0
#: How many of the daemon's latest log lines a failure report shows.
RECENT_LINES = 40


class LifecycleLog(logging.Handler):
    """Counts ``workspace created/torn down/closed`` log lines per workspace id.

    Also keeps the last ``RECENT_LINES`` lines (debug ones included: the
    registry logs every claim change), each stamped with the virtual time, for
    a failure's report.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.created: Counter[str] = Counter()
        self.torn_down: Counter[str] = Counter()
        self.closed: Counter[str] = Counter()
        self.errors: list[str] = []
        self.recent: deque[str] = deque(maxlen=RECENT_LINES)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        if record.levelno >= logging.ERROR:
            self.errors.append(self.format(record))
        self.recent.append(f"t={_virtual_now()} {record.getMessage()}")
        args = record.args if isinstance(record.args, tuple) else ()
        first = str(args[0]) if args else ""
        counters = {
            "workspace created": self.created,
            "workspace torn down": self.torn_down,
            "workspace %s closed": self.closed,
        }
        for prefix, counter in counters.items():
            if message.startswith(prefix):
                counter[first] += 1


def _virtual_now() -> str:
    """The MockClock's time in ticks, or ``?`` outside the trio thread."""
    try:
        return f"{trio.current_time() / TICK:g}"
    except RuntimeError:
        return "?"


@contextmanager
def lifecycle_log() -> Iterator[LifecycleLog]:
    """Attach a ``LifecycleLog`` to the crushd loggers for the block's duration."""
    handler = LifecycleLog()
    logger = logging.getLogger("crushd")
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def _awaited(awaitable: object) -> object:
    """What ``awaitable`` is waiting on: a coroutine, async generator or None.

    An async generator's ``asend``/``athrow`` object (what ``async for`` and an
    ``asynccontextmanager``'s ``__aenter__``/``__aexit__`` await) has no public
    link to its generator, only the garbage collector's referents.
    """
    for name in ("cr_await", "ag_await", "gi_yieldfrom"):
        inner = getattr(awaitable, name, None)
        if inner is not None:
            return inner
    if type(awaitable).__name__ in {"async_generator_asend", "async_generator_athrow"}:
        return next(
            (r for r in gc.get_referents(awaitable) if inspect.isasyncgen(r)), None
        )
    return None


def _in_thread(task: trio.lowlevel.Task) -> bool:
    """Whether ``task``'s await chain passes through ``to_thread_run_sync``."""
    coro: object = task.coro
    while coro is not None:
        frame = (
            getattr(coro, "cr_frame", None)
            or getattr(coro, "ag_frame", None)
            or getattr(coro, "gi_frame", None)
        )
        if frame is not None and frame.f_code.co_name == "to_thread_run_sync":
            return True
        coro = _awaited(coro)
    return False


def _tasks(task: trio.lowlevel.Task) -> Iterator[trio.lowlevel.Task]:
    yield task
    for nursery in task.child_nurseries:
        for child in nursery.child_tasks:
            yield from _tasks(child)


def threads_busy() -> bool:
    """True while some task waits for a worker thread (SQLite, data-dir setup)."""
    root = trio.lowlevel.current_root_task()
    assert root is not None
    return any(_in_thread(task) for task in _tasks(root))


async def settle() -> None:
    """Run every task until all are blocked and no worker thread is busy.

    Time stands still: the MockClock has no autojump, and worker threads take
    real time, so waiting for them is a short real sleep in a thread of our own.
    """
    while True:
        await trio.testing.wait_all_tasks_blocked()
        if not threads_busy():
            return
        await trio.to_thread.run_sync(time.sleep, 0.0005)


class World:
    """Folders, the daemon task and the clock of one example."""

    def __init__(
        self, clock: trio.testing.MockClock, timings: Timings, nursery: trio.Nursery
    ) -> None:
        self.clock = clock
        self.timings = timings
        self.nursery = nursery
        self.root = Path(tempfile.mkdtemp(prefix="crushd-sm-", dir="/tmp"))
        for key in set(KEYS):
            (self.root / key).mkdir()
        (self.root / "l1").symlink_to(self.root / "p1")
        self.host: Host = parse_host(f"unix://{self.root / 'd.sock'}")
        self.running: trio.Event | None = None  # set when the daemon task ended
        self.exits = 0

    def path(self, spelling: int) -> str:
        """The path string for spelling ``spelling`` (see ``SPELLINGS``)."""
        return str(self.root / SPELLINGS[spelling])

    def key(self, spelling: int) -> str:
        """The canonical key (a real folder) of spelling ``spelling``."""
        return str(self.root / KEYS[spelling])

    def settings(self) -> Settings:
        """Daemon settings: the example's timings, no heartbeat noise."""
        t = self.timings
        return Settings(
            hosts=(self.host,),
            create_grace_seconds=t.create_grace,
            detach_grace_seconds=t.detach_grace,
            idle_timeout_seconds=t.idle_timeout,
            heartbeat_seconds=200 * TICK,
            replay_window_frames=t.replay_window,
            token_file=self.root / "token",
        )

    @property
    def up(self) -> bool:
        """Whether the daemon task is running."""
        return self.running is not None and not self.running.is_set()

    async def start(self) -> None:
        """Start ``crushd.daemon.run`` as a task; return once it listens."""
        assert not self.up
        settings = self.settings()
        listeners = daemon.open_listeners(settings)
        ended = self.running = trio.Event()

        async def run() -> None:
            try:
                await daemon.run(settings, listeners)
            finally:
                self.exits += 1
                ended.set()

        self.nursery.start_soon(run)
        await settle()

    def terminate(self) -> None:
        """Send SIGTERM to this process: the daemon's signal watcher stops it."""
        assert self.up
        os.kill(os.getpid(), signal.SIGTERM)

    async def wait_stopped(self) -> bool:
        """Wait (bounded, real time) for the daemon task to end; True if it did."""
        assert self.running is not None
        ended = self.running
        deadline = time.monotonic() + STOP_SECONDS
        while not ended.is_set() and time.monotonic() < deadline:
            await settle()
            if not ended.is_set():
                await trio.to_thread.run_sync(time.sleep, 0.002)
        return ended.is_set()

    async def tick(self) -> None:
        """Move the clock one ``TICK`` and let everything due happen."""
        self.clock.jump(TICK)
        await settle()

    def socket_exists(self) -> bool:
        """Whether the daemon's socket file is present."""
        return Path(self.host.address).exists()

    def lock_held(self, spelling: int) -> bool:
        """Whether ``<key>/.crush/crush.lock`` is locked (by any open file)."""
        return not lock_free(Path(self.key(spelling)) / ".crush")

    def remove(self) -> None:
        """Delete the example's folder."""
        shutil.rmtree(self.root, ignore_errors=True)
