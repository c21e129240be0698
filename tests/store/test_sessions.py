"""Tests for crushd.store._sessions: the sessions table as proto.Session."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from crushd import proto
from crushd.errors import SessionNotFound
from crushd.store import Database, FileStore, MessageStore, SessionStore


async def _insert(
    db: Database, sid: str, created_at: int, updated_at: int, parent: str | None = None
) -> None:
    # Raw insert: the update trigger would overwrite chosen timestamps.
    await db.run(
        lambda c: c.execute(
            "INSERT INTO sessions (id, parent_session_id, title, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?)",
            (sid, parent, sid, created_at, updated_at),
        )
    )


async def _session_ids(db: Database, table: str) -> list[str]:
    def query(connection: sqlite3.Connection) -> list[str]:
        rows = connection.execute(f"SELECT session_id FROM {table}")
        return [row[0] for row in rows]

    return await db.run(query)


async def test_session_store_create_defaults(sessions: SessionStore) -> None:
    """create makes a UUIDv4 session with zero counters, now timestamps, no flags."""
    before = int(time.time())
    session = await sessions.create("hello")
    assert uuid.UUID(session.id).version == 4
    assert session == proto.Session(
        id=session.id,
        title="hello",
        created_at=session.created_at,
        updated_at=session.created_at,
    )
    assert before <= session.created_at <= int(time.time())


async def test_session_store_create_child(sessions: SessionStore) -> None:
    """A child keeps its parent id and is readable by get."""
    parent = await sessions.create("parent")
    child = await sessions.create("child", parent_session_id=parent.id)
    assert child.parent_session_id == parent.id
    assert await sessions.get(child.id) == child


async def test_session_store_get_unknown_raises(sessions: SessionStore) -> None:
    """get of an unknown id raises SessionNotFound (404)."""
    with pytest.raises(SessionNotFound) as caught:
        await sessions.get("nope")
    assert caught.value.status == 404


async def test_session_store_list_top_level_order(
    db: Database, sessions: SessionStore
) -> None:
    """Only parentless sessions, by updated_at DESC, created_at DESC, newest insert."""
    await _insert(db, "old", created_at=1, updated_at=10)
    await _insert(db, "fresh", created_at=2, updated_at=30)
    await _insert(db, "tie-early", created_at=3, updated_at=20)
    await _insert(db, "tie-late", created_at=4, updated_at=20)
    await _insert(db, "same-a", created_at=5, updated_at=5)
    await _insert(db, "same-b", created_at=5, updated_at=5)
    await _insert(db, "child", created_at=9, updated_at=99, parent="fresh")
    listed = [s.id for s in await sessions.list_top_level()]
    assert listed == ["fresh", "tie-late", "tie-early", "old", "same-b", "same-a"]


async def test_session_store_list_top_level_empty(sessions: SessionStore) -> None:
    """An empty database lists no sessions."""
    assert await sessions.list_top_level() == []


async def test_session_store_update_only_given_fields(sessions: SessionStore) -> None:
    """update changes the non-None fields and leaves the others alone."""
    created = await sessions.create("before")
    todos = [proto.Todo(content="write", status="in_progress", active_form="Writing")]
    first = await sessions.update(
        created.id,
        proto.SessionUpdate(
            prompt_tokens=5,
            completion_tokens=7,
            summary_message_id="m1",
            cost=0.5,
            todos=todos,
        ),
    )
    assert (first.title, first.prompt_tokens, first.completion_tokens) == (
        "before",
        5,
        7,
    )
    assert (first.summary_message_id, first.cost, first.todos) == ("m1", 0.5, todos)
    second = await sessions.update(created.id, proto.SessionUpdate(title="after"))
    assert second.title == "after"
    assert (second.prompt_tokens, second.summary_message_id) == (5, "m1")
    assert second.todos == todos
    assert await sessions.get(created.id) == second


async def test_session_store_update_clears_nullable_fields(
    db: Database, sessions: SessionStore
) -> None:
    """Empty todos and summary id are stored as NULL and read back empty."""
    created = await sessions.create("s")
    todo = proto.Todo(content="a", status="pending")
    await sessions.update(
        created.id, proto.SessionUpdate(summary_message_id="m", todos=[todo])
    )
    stored = await db.run(
        lambda c: c.execute("SELECT todos FROM sessions").fetchone()[0]
    )
    assert stored == '[{"content": "a", "status": "pending", "active_form": ""}]'
    cleared = await sessions.update(
        created.id, proto.SessionUpdate(summary_message_id="", todos=[])
    )
    assert (cleared.summary_message_id, cleared.todos) == ("", [])
    row = await db.run(
        lambda c: c.execute("SELECT summary_message_id, todos FROM sessions").fetchone()
    )
    assert tuple(row) == (None, None)


async def test_session_store_update_bumps_updated_at(
    db: Database, sessions: SessionStore
) -> None:
    """The update trigger sets updated_at to now, even for an empty update."""
    await _insert(db, "s", created_at=100, updated_at=100)
    before = int(time.time())
    updated = await sessions.update("s", proto.SessionUpdate())
    assert updated.created_at == 100
    assert before <= updated.updated_at <= int(time.time())


async def test_session_store_update_unknown_raises(sessions: SessionStore) -> None:
    """update of an unknown id raises SessionNotFound and writes nothing."""
    with pytest.raises(SessionNotFound):
        await sessions.update("nope", proto.SessionUpdate(title="x"))
    assert await sessions.list_top_level() == []


async def test_session_store_delete_cascades(db: Database) -> None:
    """delete removes the session's messages, files and read_files, nothing else."""
    sessions, messages, files = SessionStore(db), MessageStore(db), FileStore(db)
    doomed, kept = await sessions.create("doomed"), await sessions.create("kept")
    for session in (doomed, kept):
        await messages.create(
            proto.Message(id=f"m-{session.id}", role="user", session_id=session.id)
        )
        await files.create(session.id, "/a.txt", "A")
    await db.run(
        lambda c: c.executemany(
            "INSERT INTO read_files (session_id, path, read_at) VALUES (?, '/a', 1)",
            [(doomed.id,), (kept.id,)],
        )
    )
    await sessions.delete(doomed.id)
    with pytest.raises(SessionNotFound):
        await sessions.get(doomed.id)
    for table in ("messages", "files", "read_files"):
        assert await _session_ids(db, table) == [kept.id], table
    assert (await sessions.get(kept.id)).message_count == 1


async def test_session_store_delete_unknown_raises(sessions: SessionStore) -> None:
    """delete of an unknown id raises SessionNotFound."""
    with pytest.raises(SessionNotFound):
        await sessions.delete("nope")


async def test_session_store_delete_keeps_children(sessions: SessionStore) -> None:
    """Deleting a parent leaves its child sessions, as upstream does."""
    parent = await sessions.create("parent")
    child = await sessions.create("child", parent.id)
    await sessions.delete(parent.id)
    assert (await sessions.get(child.id)).parent_session_id == parent.id


async def test_session_store_set_usage_sets_tokens_and_adds_cost(
    db: Database, sessions: SessionStore
) -> None:
    """Token counts are replaced, the cost grows; the re-read row is returned."""
    await _insert(db, "s", created_at=100, updated_at=100)
    first = await sessions.set_usage("s", 10, 5, 0.25)
    second = await sessions.set_usage("s", 30, 7, 0.5)
    assert (first.prompt_tokens, first.completion_tokens, first.cost) == (10, 5, 0.25)
    assert (second.prompt_tokens, second.completion_tokens) == (30, 7)
    assert second.cost == pytest.approx(0.75)
    assert second.updated_at >= int(time.time()) - 1
    assert await sessions.get("s") == second


async def test_session_store_set_title_keeps_usage_written_meanwhile(
    sessions: SessionStore,
) -> None:
    """Column updates: a title write does not undo a usage write (no full-row save)."""
    session = await sessions.create("old")
    await sessions.set_usage(session.id, 10, 5, 1.0)
    titled = await sessions.set_title(session.id, "New title", 0.5)
    assert (titled.title, titled.prompt_tokens, titled.completion_tokens) == (
        "New title",
        10,
        5,
    )
    assert titled.cost == pytest.approx(1.5)


async def test_session_store_set_todos_replaces_and_clears(
    db: Database, sessions: SessionStore
) -> None:
    """set_todos stores the list; [] clears the column to NULL."""
    session = await sessions.create("s")
    todo = proto.Todo(content="c", status="pending", active_form="doing c")
    assert (await sessions.set_todos(session.id, [todo])).todos == [todo]
    assert (await sessions.set_todos(session.id, [])).todos == []
    row = await db.run(lambda c: c.execute("SELECT todos FROM sessions").fetchone())
    assert row[0] is None


@pytest.mark.parametrize("method", ["set_usage", "set_title", "set_todos"])
async def test_session_store_column_updates_unknown_session_raise(
    sessions: SessionStore, method: str
) -> None:
    """Each column update of an unknown session is SessionNotFound (404)."""
    args: dict[str, tuple[object, ...]] = {
        "set_usage": (1, 1, 0.0),
        "set_title": ("t", 0.0),
        "set_todos": ([],),
    }
    with pytest.raises(SessionNotFound):
        await getattr(sessions, method)("nope", *args[method])
