"""Tests for crushd.store._files: file-history versions as proto.HistoryFile."""

from __future__ import annotations

import time
import uuid

import pytest

from crushd import proto
from crushd.errors import InternalError, SessionNotFound
from crushd.store import INITIAL_VERSION, Database, FileStore, SessionStore


async def test_file_store_create_first_version(
    sessions: SessionStore, files: FileStore
) -> None:
    """The first version of a path is INITIAL_VERSION with a UUID and now stamps."""
    session = await sessions.create("s")
    before = int(time.time())
    created = await files.create(session.id, "/src/a.py", "print(1)\n")
    assert uuid.UUID(created.id).version == 4
    assert created == proto.HistoryFile(
        id=created.id,
        session_id=session.id,
        path="/src/a.py",
        content="print(1)\n",
        version=INITIAL_VERSION,
        created_at=created.created_at,
        updated_at=created.created_at,
    )
    assert before <= created.created_at <= int(time.time())


async def test_file_store_create_next_version_per_path(
    sessions: SessionStore, files: FileStore
) -> None:
    """Without a version each path counts up on its own, per session."""
    session, other = await sessions.create("s"), await sessions.create("o")
    versions = [
        (await files.create(session.id, "/a", "1")).version,
        (await files.create(session.id, "/a", "2")).version,
        (await files.create(session.id, "/b", "1")).version,
        (await files.create(other.id, "/a", "1")).version,
        (await files.create(session.id, "/a", "3", version=10)).version,
        (await files.create(session.id, "/a", "4")).version,
    ]
    assert versions == [0, 1, 0, 0, 10, 11]


async def test_file_store_create_duplicate_version_raises(
    sessions: SessionStore, files: FileStore
) -> None:
    """A second entry with the same (path, session, version) is a 500."""
    session = await sessions.create("s")
    await files.create(session.id, "/a", "1", version=3)
    with pytest.raises(InternalError, match="UNIQUE constraint failed"):
        await files.create(session.id, "/a", "2", version=3)


async def test_file_store_create_unknown_session_raises(files: FileStore) -> None:
    """History for a missing session raises SessionNotFound."""
    with pytest.raises(SessionNotFound):
        await files.create("nope", "/a", "1")


async def test_file_store_history_order(
    db: Database, sessions: SessionStore, files: FileStore
) -> None:
    """History is by version, then created_at, then insertion order."""
    session = await sessions.create("s")
    rows = [("v1-late", 1, 50), ("v0-b", 0, 20), ("v0-a", 0, 10), ("v0-c", 0, 20)]
    await db.run(
        lambda c: c.executemany(
            "INSERT INTO files (id, session_id, path, content, version,"
            " created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?)",
            [(fid, session.id, f"/{fid}", v, at, at) for fid, v, at in rows],
        )
    )
    listed = [f.id for f in await files.history(session.id)]
    assert listed == ["v0-a", "v0-b", "v0-c", "v1-late"]


async def test_file_store_history_unknown_session_is_empty(files: FileStore) -> None:
    """An unknown session has an empty history."""
    assert await files.history("nope") == []


async def test_file_updated_at_trigger(
    db: Database, sessions: SessionStore, files: FileStore
) -> None:
    """Any update of a files row sets its updated_at to now."""
    session = await sessions.create("s")
    await db.run(
        lambda c: c.execute(
            "INSERT INTO files (id, session_id, path, content, version, created_at,"
            " updated_at) VALUES ('f', ?, '/a', 'x', 0, 100, 100)",
            (session.id,),
        )
    )
    before = int(time.time())
    await db.run(lambda c: c.execute("UPDATE files SET content = 'y'"))
    (entry,) = await files.history(session.id)
    assert (entry.content, entry.created_at) == ("y", 100)
    assert entry.updated_at >= before
