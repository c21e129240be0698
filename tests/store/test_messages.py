"""Tests for crushd.store._messages: the messages table as proto.Message."""

from __future__ import annotations

import json
import time

import attrs
import pytest

from crushd import proto
from crushd.errors import InternalError, NotFound, SessionNotFound
from crushd.store import Database, MessageStore, SessionStore
from crushd.store._messages import finished_at


def _message(mid: str, sid: str, role: str = "user", at: int = 0) -> proto.Message:
    return proto.Message(
        id=mid,
        role=role,
        session_id=sid,
        parts=[proto.Part(type="text", data={"text": mid})],
        created_at=at,
    )


async def test_message_store_create_round_trips(
    db: Database, sessions: SessionStore, messages: MessageStore
) -> None:
    """A created message reads back equal, parts stored as a {type,data} array."""
    session = await sessions.create("s")
    message = proto.Message(
        id="m1",
        role="assistant",
        session_id=session.id,
        parts=[
            proto.Part(type="text", data={"text": "hi ✓"}),
            proto.Part(type="binary", data={"Path": "a.png", "MIMEType": "image/png"}),
            proto.Part(type="finish", data={"reason": "end_turn", "time": 5}),
        ],
        model="model-x",
        provider="prov",
        created_at=10,
        updated_at=11,
        is_summary_message=True,
    )
    assert await messages.create(message) == message
    assert await messages.list_for_session(session.id) == [message]
    stored = await db.run(lambda c: c.execute("SELECT parts FROM messages").fetchone())
    assert json.loads(stored[0]) == [
        {"type": "text", "data": {"text": "hi ✓"}},
        {"type": "binary", "data": {"Path": "a.png", "MIMEType": "image/png"}},
        {"type": "finish", "data": {"reason": "end_turn", "time": 5}},
    ]


async def test_message_store_create_defaults(
    db: Database, sessions: SessionStore, messages: MessageStore
) -> None:
    """Zero timestamps become now; empty model/provider are stored as NULL."""
    session = await sessions.create("s")
    before = int(time.time())
    created = await messages.create(_message("m", session.id))
    assert before <= created.created_at == created.updated_at <= int(time.time())
    assert (created.model, created.provider, created.is_summary_message) == (
        "",
        "",
        False,
    )
    row = await db.run(
        lambda c: c.execute(
            "SELECT model, provider, finished_at FROM messages"
        ).fetchone()
    )
    assert tuple(row) == (None, None, None)


async def test_message_store_create_unknown_session_raises(
    messages: MessageStore,
) -> None:
    """A message for a missing session raises SessionNotFound and stores nothing."""
    with pytest.raises(SessionNotFound):
        await messages.create(_message("m", "nope"))
    assert await messages.list_user_all() == []


async def test_message_store_create_duplicate_id_raises(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """Reusing a message id is a database error (500)."""
    session = await sessions.create("s")
    await messages.create(_message("m", session.id))
    with pytest.raises(InternalError, match="UNIQUE constraint failed"):
        await messages.create(_message("m", session.id))


async def test_message_store_list_for_session_order(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """A session's messages come oldest first, insertion order within a second."""
    session, other = await sessions.create("s"), await sessions.create("o")
    for mid, at in (("late", 20), ("b", 10), ("a", 10), ("early", 5)):
        await messages.create(_message(mid, session.id, at=at))
    await messages.create(_message("elsewhere", other.id, at=1))
    listed = [m.id for m in await messages.list_for_session(session.id)]
    assert listed == ["early", "b", "a", "late"]


async def test_message_store_list_for_unknown_session_is_empty(
    messages: MessageStore,
) -> None:
    """An unknown session has no messages, not an error."""
    assert await messages.list_for_session("nope") == []


async def test_message_store_list_user_for_session(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """Only the session's user messages, newest first."""
    session, other = await sessions.create("s"), await sessions.create("o")
    await messages.create(_message("u1", session.id, at=1))
    await messages.create(_message("a1", session.id, role="assistant", at=2))
    await messages.create(_message("u3", session.id, at=3))
    await messages.create(_message("u2", session.id, at=2))
    await messages.create(_message("other", other.id, at=9))
    listed = [m.id for m in await messages.list_user_for_session(session.id)]
    assert listed == ["u3", "u2", "u1"]


async def test_message_store_list_user_all(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """User messages of every session, newest first, latest insert on ties."""
    first, second = await sessions.create("1"), await sessions.create("2")
    await messages.create(_message("x1", first.id, at=1))
    await messages.create(_message("y5", second.id, at=5))
    await messages.create(_message("tool", second.id, role="tool", at=9))
    await messages.create(_message("x5", first.id, at=5))
    listed = [m.id for m in await messages.list_user_all()]
    assert listed == ["x5", "y5", "x1"]


async def test_message_count_trigger(
    db: Database, sessions: SessionStore, messages: MessageStore
) -> None:
    """Inserting messages raises the session's message_count; deleting lowers it."""
    session = await sessions.create("s")
    for mid in ("a", "b", "c"):
        await messages.create(_message(mid, session.id))
    assert (await sessions.get(session.id)).message_count == 3
    await db.run(lambda c: c.execute("DELETE FROM messages WHERE id = 'b'"))
    assert (await sessions.get(session.id)).message_count == 2


async def test_message_updated_at_trigger(
    db: Database, sessions: SessionStore, messages: MessageStore
) -> None:
    """Any update of a message row sets its updated_at to now."""
    session = await sessions.create("s")
    await messages.create(_message("m", session.id, at=100))
    before = int(time.time())
    await db.run(lambda c: c.execute("UPDATE messages SET role = 'user'"))
    (message,) = await messages.list_for_session(session.id)
    assert message.created_at == 100
    assert message.updated_at >= before


def _finish(at: object) -> proto.Part:
    return proto.Part(type="finish", data={"reason": "end_turn", "time": at})


async def _finished_at(db: Database, mid: str) -> object:
    query = "SELECT finished_at FROM messages WHERE id = ?"
    return (await db.run(lambda c: c.execute(query, (mid,)).fetchone()))[0]


async def test_message_store_update_many_writes_parts_and_finished_at(
    db: Database, sessions: SessionStore, messages: MessageStore
) -> None:
    """Each message's parts land; finished_at is the finish part's time, else NULL."""
    session = await sessions.create("s")
    first = await messages.create(_message("a", session.id, role="assistant", at=1))
    second = await messages.create(_message("b", session.id, role="assistant", at=2))
    before = int(time.time())
    done = attrs.evolve(first, parts=[*first.parts, _finish(77)])
    streaming = attrs.evolve(second, parts=[proto.Part("text", {"text": "partial"})])
    written = await messages.update_many([done, streaming])
    assert [m.id for m in written] == ["a", "b"]
    assert all(m.updated_at >= before for m in written)
    assert await messages.get("a") == attrs.evolve(
        done, updated_at=written[0].updated_at
    )
    assert (await messages.get("b")).parts == streaming.parts
    assert await _finished_at(db, "a") == 77
    assert await _finished_at(db, "b") is None


async def test_message_store_update_many_skips_deleted_rows(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """A snapshot of a message deleted meanwhile is not written nor returned."""
    session = await sessions.create("s")
    kept = await messages.create(_message("kept", session.id))
    gone = await messages.create(_message("gone", session.id))
    await messages.delete(gone.id)
    written = await messages.update_many([gone, kept])
    assert [m.id for m in written] == ["kept"]
    assert await messages.update_many([]) == []


async def test_message_store_update_many_is_one_transaction(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """A failing row rolls back the rows written before it in the same call."""
    session = await sessions.create("s")
    first = await messages.create(_message("a", session.id))
    second = await messages.create(_message("b", session.id))
    bad_text = "\ud800"  # a lone surrogate cannot be encoded for SQLite
    changed = attrs.evolve(first, parts=[proto.Part("text", {"text": "new"})])
    broken = attrs.evolve(second, parts=[proto.Part("text", {"text": bad_text})])
    with pytest.raises((InternalError, UnicodeEncodeError)):
        await messages.update_many([changed, broken])
    assert (await messages.get("a")).parts == first.parts


async def test_message_store_get_and_delete_unknown_are_404(
    messages: MessageStore,
) -> None:
    """An unknown message id is NotFound ``message not found``, for get and delete."""
    for call in (messages.get, messages.delete):
        with pytest.raises(NotFound, match="message not found"):
            await call("nope")


async def test_message_store_delete_returns_old_message_and_lowers_count(
    sessions: SessionStore, messages: MessageStore
) -> None:
    """Delete answers the stored message (the event payload); the count drops."""
    session = await sessions.create("s")
    created = await messages.create(_message("m", session.id))
    assert await messages.delete("m") == created
    assert (await sessions.get(session.id)).message_count == 0
    assert await messages.list_for_session(session.id) == []


def test_finished_at_reads_the_finish_part_time() -> None:
    """Only an integer time of a finish part counts; anything else is None."""
    text = proto.Part("text", {"text": "x"})
    assert finished_at([text, _finish(5)]) == 5
    assert finished_at([_finish(0)]) == 0
    assert finished_at([text]) is None
    assert finished_at([_finish("5")]) is None
    assert finished_at([_finish(True)]) is None
