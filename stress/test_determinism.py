"""What makes a state-machine run a function of its example.

``threads_busy`` must see a worker thread wherever its await chain runs:
``settle`` trusts it to say when the in-process daemon is quiet, so a thread
it missed would let a step's checks race the daemon's own work. And
``seed_scheduler`` must decide the order in which trio runs ready tasks, and
targets must not be chosen by random ids.
"""

from __future__ import annotations

import threading
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest
import trio
import trio.testing

from stress.statemachine._harness import Harness
from stress.statemachine._model import MWorkspace
from stress.statemachine._run import seed_scheduler
from stress.statemachine._targets import pick_session
from stress.statemachine._world import threads_busy

Waiter = Callable[[threading.Event], Awaitable[None]]


async def _thread(release: threading.Event) -> None:
    await trio.to_thread.run_sync(release.wait)


@asynccontextmanager
async def _entering(release: threading.Event) -> AsyncIterator[None]:
    await _thread(release)
    yield


@asynccontextmanager
async def _exiting(release: threading.Event) -> AsyncIterator[None]:
    yield
    await _thread(release)


async def _in_aenter(release: threading.Event) -> None:
    async with _entering(release):
        pass


async def _in_aexit(release: threading.Event) -> None:
    async with _exiting(release):
        pass


async def _in_async_for(release: threading.Event) -> None:
    async def generate() -> AsyncIterator[int]:
        await _thread(release)
        yield 1

    async for _ in generate():
        pass


@pytest.mark.parametrize("waiter", [_thread, _in_aenter, _in_aexit, _in_async_for])
async def test_a_busy_worker_thread_is_seen(waiter: Waiter) -> None:
    """A thread awaited directly, in ``__aenter__``/``__aexit__`` or ``async for``."""
    release = threading.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter, release)
        await trio.testing.wait_all_tasks_blocked()
        assert threads_busy()
        release.set()
    assert not threads_busy()


async def test_a_task_blocked_on_trio_alone_is_not_busy() -> None:
    """Sleeping, waiting for an event or in a nursery is not a thread."""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.sleep_forever)
        nursery.start_soon(trio.Event().wait)
        await trio.testing.wait_all_tasks_blocked()
        assert not threads_busy()
        nursery.cancel_scope.cancel()


def _interleaving(schedule: int) -> list[int]:
    order: list[int] = []

    async def worker(n: int) -> None:
        for _ in range(3):
            order.append(n)
            await trio.lowlevel.checkpoint()

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for n in range(6):
                nursery.start_soon(worker, n)

    seed_scheduler(schedule)
    trio.run(main)
    return order


def test_the_schedule_seed_decides_the_interleaving() -> None:
    """Same seed, same order of ready tasks; other seeds explore other orders."""
    assert _interleaving(7) == _interleaving(7)
    assert len({tuple(_interleaving(seed)) for seed in range(8)}) > 1


def test_sessions_are_picked_in_creation_order() -> None:
    """Session ids are random; a pick by index must not depend on them."""
    ws = MWorkspace("/p0", 0, path="/p0")
    model = types.SimpleNamespace(sessions={"/p0": {"f-late-id": "a", "0-id": "b"}})
    harness = cast(Harness, types.SimpleNamespace(model=model))
    picks = [pick_session(harness, ws, n) for n in (0, 1, 2, -1)]
    assert picks == ["f-late-id", "0-id", "f-late-id", ""]
