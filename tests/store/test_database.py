"""Tests for crushd.store._database: pragmas, worker-thread calls, closing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.errors import InternalError, SessionNotFound
from crushd.store import SCHEMA_VERSION, Database, transaction, user_version


async def _pragma(db: Database, name: str) -> object:
    row = await db.run(lambda c: c.execute(f"PRAGMA {name}").fetchone())
    return row[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("foreign_keys", 1),
        ("journal_mode", "wal"),
        ("page_size", 4096),
        ("temp_store", 2),
        ("cache_size", -8000),
        ("synchronous", 1),
        ("secure_delete", 1),
        ("busy_timeout", 30000),
    ],
)
async def test_database_open_applies_pragmas(
    db: Database, name: str, value: object
) -> None:
    """Opening applies each docs/protocol.md 7.4 pragma to the connection."""
    assert await _pragma(db, name) == value


async def test_database_open_migrates(db: Database) -> None:
    """Opening brings the database to the current schema version."""
    assert await db.run(user_version) == SCHEMA_VERSION


async def test_database_reopen_keeps_data(tmp_path: Path) -> None:
    """Reopening a database finds it current and keeps its rows."""
    first = await Database.open(tmp_path / "crush.db")
    await first.run(
        lambda c: c.execute(
            "INSERT INTO sessions (id, title, created_at, updated_at)"
            " VALUES ('s', 't', 1, 1)"
        )
    )
    await first.aclose()
    second = await Database.open(tmp_path / "crush.db")
    try:
        count = await second.run(
            lambda c: c.execute("SELECT count(*) FROM sessions").fetchone()[0]
        )
        assert count == 1
        assert await second.run(user_version) == SCHEMA_VERSION
    finally:
        await second.aclose()


async def test_database_open_failure_is_internal_error(tmp_path: Path) -> None:
    """An unopenable file is a 500 naming the connect step."""
    (tmp_path / "crush.db").mkdir()
    with pytest.raises(InternalError, match=r"^failed to connect to database: "):
        await Database.open(tmp_path / "crush.db")


async def test_database_run_returns_result_and_uses_rows(db: Database) -> None:
    """run returns the function's result; rows are addressable by column name."""
    row = await db.run(lambda c: c.execute("SELECT 7 AS seven").fetchone())
    assert row["seven"] == 7


async def test_database_run_translates_sqlite_errors(db: Database) -> None:
    """A sqlite3 error becomes InternalError naming the database failure."""
    with pytest.raises(InternalError, match=r"^database error: no such table: nope"):
        await db.run(lambda c: c.execute("SELECT * FROM nope"))


async def test_database_run_passes_crushd_errors(db: Database) -> None:
    """Domain errors raised by the function come out unchanged."""

    def fail(_connection: sqlite3.Connection) -> None:
        raise SessionNotFound

    with pytest.raises(SessionNotFound):
        await db.run(fail)


async def test_database_run_serialises_calls(db: Database) -> None:
    """Concurrent calls never run on the connection at the same time."""
    active = 0
    peak = 0
    guard = threading.Lock()

    def work(connection: sqlite3.Connection) -> None:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        connection.execute("SELECT count(*) FROM sessions").fetchone()
        with guard:
            active -= 1

    async with trio.open_nursery() as nursery:
        for _ in range(8):
            nursery.start_soon(db.run, work)
    assert peak == 1


async def test_database_run_cancelled_before_start_never_runs(db: Database) -> None:
    """A call cancelled before its turn does not run the function."""
    ran = False

    def work(_connection: sqlite3.Connection) -> None:
        nonlocal ran
        ran = True

    with trio.CancelScope() as scope:
        scope.cancel()
        await db.run(work)
    assert scope.cancelled_caught
    assert not ran


async def test_database_run_cancelled_while_running_completes(db: Database) -> None:
    """A call cancelled mid-run is not abandoned: its write lands and it returns."""
    started, proceed = threading.Event(), threading.Event()
    results: list[str] = []

    def write(connection: sqlite3.Connection) -> str:
        started.set()
        proceed.wait()
        connection.execute(
            "INSERT INTO sessions (id, title, created_at, updated_at)"
            " VALUES ('s', 't', 1, 1)"
        )
        return "done"

    async def caller(scope: trio.CancelScope) -> None:
        with scope:
            results.append(await db.run(write))

    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller, scope)
        await trio.to_thread.run_sync(started.wait)
        scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        proceed.set()
    assert results == ["done"]
    count = await db.run(lambda c: c.execute("SELECT count(*) FROM sessions"))
    assert count.fetchone()[0] == 1


async def test_database_aclose_then_run_fails(db: Database) -> None:
    """After aclose every call fails with "database is closed"; aclose repeats."""
    await db.aclose()
    assert db.closed
    with pytest.raises(InternalError, match=r"^database is closed$"):
        await db.run(user_version)
    await db.aclose()


async def test_database_aclose_waits_for_call_in_flight(db: Database) -> None:
    """Closing waits for the running call, which still sees an open connection."""
    started, proceed = threading.Event(), threading.Event()

    def slow(connection: sqlite3.Connection) -> int:
        started.set()
        proceed.wait()
        return int(connection.execute("SELECT 1").fetchone()[0])

    results: list[int] = []

    async def caller() -> None:
        results.append(await db.run(slow))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller)
        await trio.to_thread.run_sync(started.wait)
        nursery.start_soon(db.aclose)
        await trio.testing.wait_all_tasks_blocked()
        proceed.set()
    assert results == [1]
    assert db.closed


async def test_database_aclose_closes_even_when_cancelled(db: Database) -> None:
    """A cancelled aclose still closes the connection (shielded cleanup)."""
    wal = db.path.with_name(db.path.name + "-wal")
    assert wal.exists()
    with trio.CancelScope() as scope:
        scope.cancel()
        await db.aclose()
    assert db.closed
    # SQLite removes the WAL file when its last connection really closes.
    assert not wal.exists()


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    """An error inside transaction() undoes every statement of the block."""

    def failing(connection: sqlite3.Connection) -> None:
        with transaction(connection):
            connection.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at)"
                " VALUES ('s', 't', 1, 1)"
            )
            raise SessionNotFound

    with pytest.raises(SessionNotFound):
        await db.run(failing)
    count = await db.run(
        lambda c: c.execute("SELECT count(*) FROM sessions").fetchone()[0]
    )
    assert count == 0
