"""Tests for crushd.store._pool under concurrency: single flight and cancellation.

Every await of a first acquire goes through ``trio.to_thread.run_sync``;
``ThreadCalls`` wraps it to cancel just before or just after a given call, so
each await is cancelled in turn (the httpcore ``test_cancellations.py`` idea).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from crushd.errors import InternalError
from crushd.store import PoolStatistics, StorePool, open_connection, prepare_data_dir

LockIsFree = Callable[[Path], bool]


async def _ping(pool: StorePool, data_dir: Path) -> None:
    db = await pool.acquire(data_dir)
    assert await db.run(lambda c: c.execute("SELECT 1").fetchone()[0]) == 1
    await pool.release(data_dir)


class ThreadCalls:
    """Wraps trio.to_thread.run_sync to count calls and inject waits/cancels."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fns: list[Callable[..., Any]] = []
        self.ran: list[Callable[..., Any]] = []
        self.before: dict[int, Callable[[], Awaitable[None] | None]] = {}
        self.after: dict[int, Callable[[], None]] = {}
        self._real = trio.to_thread.run_sync
        monkeypatch.setattr(trio.to_thread, "run_sync", self._run_sync)

    async def _run_sync(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        index = len(self.fns)
        self.fns.append(fn)
        hook = self.before.get(index)
        if hook is not None:
            pending = hook()
            if pending is not None:
                await pending
        result = await self._real(fn, *args, **kw)
        self.ran.append(fn)
        if index in self.after:
            self.after[index]()
        return result


async def test_pool_concurrent_first_acquires_open_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent first acquires of one dir share a single open."""
    calls = ThreadCalls(monkeypatch)
    pool = StorePool("v1")
    results: list[object] = []

    async def acquire() -> None:
        results.append(await pool.acquire(tmp_path))

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(acquire)
    # Exactly these two awaits: the cancellation tests below cover each one.
    assert calls.fns == [prepare_data_dir, open_connection]
    assert results[0] is results[1] is results[2]
    assert pool.statistics().refs == {tmp_path: 3}
    await pool.aclose()


async def test_pool_acquire_during_close_waits_and_reopens(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """An acquire racing the last release waits for the close, then reopens."""
    pool = StorePool("v1")
    old = await pool.acquire(tmp_path)
    results: list[object] = []

    async def acquire() -> None:
        results.append(await pool.acquire(tmp_path))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pool.release, tmp_path)
        nursery.start_soon(acquire)
    assert old.closed
    assert results[0] is not old
    assert pool.statistics().refs == {tmp_path: 1}
    await pool.release(tmp_path)
    assert lock_is_free(tmp_path)


# -- cancellation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "when"), [(0, "before"), (0, "after"), (1, "before")]
)
async def test_pool_acquire_cancelled_at_each_await_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lock_is_free: LockIsFree,
    index: int,
    when: str,
) -> None:
    """Cancelling a first acquire at any await leaves no lock, ref or open db."""
    calls = ThreadCalls(monkeypatch)
    pool = StorePool("v1")
    with trio.CancelScope() as scope:
        hooks = calls.before if when == "before" else calls.after
        hooks[index] = scope.cancel
        await pool.acquire(tmp_path)
    assert scope.cancelled_caught
    assert pool.statistics() == PoolStatistics(open_databases=0, refs={}, busy=0)
    assert lock_is_free(tmp_path)
    assert open_connection not in calls.ran
    await _ping(pool, tmp_path)


async def test_pool_acquire_cancelled_after_open_keeps_its_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lock_is_free: LockIsFree
) -> None:
    """A cancel landing after the open completed returns the db with its ref."""
    calls = ThreadCalls(monkeypatch)
    pool = StorePool("v1")
    with trio.CancelScope() as scope:
        calls.after[1] = scope.cancel
        db = await pool.acquire(tmp_path)
    assert not scope.cancelled_caught
    assert pool.statistics().refs == {tmp_path: 1}
    await pool.release(tmp_path)
    assert db.closed
    assert lock_is_free(tmp_path)


async def test_pool_acquire_cancelled_while_waiting_for_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter cancelled during another task's open takes no reference."""
    calls = ThreadCalls(monkeypatch)
    gate = trio.Event()
    calls.before[0] = gate.wait
    pool = StorePool("v1")
    waiter = trio.CancelScope()

    async def second() -> None:
        with waiter:
            await pool.acquire(tmp_path)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pool.acquire, tmp_path)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(second)
        await trio.testing.wait_all_tasks_blocked()
        assert pool.statistics().busy == 1
        waiter.cancel()
        await trio.testing.wait_all_tasks_blocked()
        gate.set()
    assert waiter.cancelled_caught
    assert pool.statistics().refs == {tmp_path: 1}
    await pool.aclose()


async def test_pool_release_cancelled_still_releases(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """A release called in a cancelled scope still closes the db and the lock."""
    pool = StorePool("v1")
    db = await pool.acquire(tmp_path)
    with trio.CancelScope() as scope:
        scope.cancel()
        await pool.release(tmp_path)
    assert db.closed
    assert lock_is_free(tmp_path)
    assert pool.statistics().refs == {}


async def test_pool_aclose_during_open_closes_the_late_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lock_is_free: LockIsFree
) -> None:
    """An open that finishes after aclose closes what it opened and fails."""
    calls = ThreadCalls(monkeypatch)
    gate = trio.Event()
    calls.before[1] = gate.wait
    pool = StorePool("v1")
    errors: list[str] = []

    async def acquire() -> None:
        with pytest.raises(InternalError) as caught:
            await pool.acquire(tmp_path)
        errors.append(caught.value.message)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(acquire)
        await trio.testing.wait_all_tasks_blocked()
        await pool.aclose()
        gate.set()
    assert errors == ["store pool is closed"]
    assert lock_is_free(tmp_path)
    assert pool.statistics().open_databases == 0
