"""Tests for crushd.store._read_files: the file tracker's read_files table."""

from __future__ import annotations

import time

import pytest

from crushd.errors import SessionNotFound
from crushd.store import Database, ReadFileStore, SessionStore


@pytest.fixture
def reads(db: Database) -> ReadFileStore:
    return ReadFileStore(db)


async def test_read_file_store_records_and_reads_back(
    sessions: SessionStore, reads: ReadFileStore
) -> None:
    """A recorded read is found with its time; an unknown path reads as 0."""
    session = await sessions.create("s")
    before = int(time.time())
    await reads.record(session.id, "src/a.py")
    assert before <= await reads.last_read(session.id, "src/a.py") <= time.time()
    assert await reads.last_read(session.id, "src/b.py") == 0
    assert await reads.last_read("other", "src/a.py") == 0


async def test_read_file_store_rereading_updates_the_time(
    sessions: SessionStore, reads: ReadFileStore
) -> None:
    """One row per (path, session): a second read moves read_at, no duplicate."""
    session = await sessions.create("s")
    await reads.record(session.id, "a", at=100)
    await reads.record(session.id, "a", at=200)
    assert await reads.last_read(session.id, "a") == 200
    assert await reads.list_for_session(session.id) == ["a"]


async def test_read_file_store_lists_most_recent_first(
    sessions: SessionStore, reads: ReadFileStore
) -> None:
    """Paths of one session only, newest read first."""
    session, other = await sessions.create("s"), await sessions.create("o")
    await reads.record(session.id, "old", at=10)
    await reads.record(session.id, "new", at=30)
    await reads.record(session.id, "mid", at=20)
    await reads.record(other.id, "elsewhere", at=40)
    assert await reads.list_for_session(session.id) == ["new", "mid", "old"]
    assert await reads.list_for_session("nope") == []


async def test_read_file_store_unknown_session_raises(reads: ReadFileStore) -> None:
    """Recording for a session that does not exist is SessionNotFound."""
    with pytest.raises(SessionNotFound):
        await reads.record("nope", "a")


async def test_read_file_store_rows_go_with_their_session(
    sessions: SessionStore, reads: ReadFileStore
) -> None:
    """Deleting the session deletes its reads (ON DELETE CASCADE)."""
    session = await sessions.create("s")
    await reads.record(session.id, "a")
    await sessions.delete(session.id)
    assert await reads.list_for_session(session.id) == []
