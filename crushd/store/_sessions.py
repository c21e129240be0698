"""The ``sessions`` table as ``proto.Session`` values (docs/protocol.md 2.3, 7.4)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

from crushd import proto
from crushd.errors import SessionNotFound

from ._database import Database, transaction

_SELECT_ONE = """
    SELECT id, parent_session_id, title, message_count, prompt_tokens,
           completion_tokens, cost, updated_at, created_at, summary_message_id, todos
    FROM sessions WHERE id = ?
"""

_SELECT_TOP_LEVEL = """
    SELECT id, parent_session_id, title, message_count, prompt_tokens,
           completion_tokens, cost, updated_at, created_at, summary_message_id, todos
    FROM sessions WHERE parent_session_id IS NULL
    ORDER BY updated_at DESC, created_at DESC, rowid DESC
"""

_INSERT = """
    INSERT INTO sessions (id, parent_session_id, title, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?)
"""

# Absent fields (NULL flags) keep their value; the nullable columns take an
# explicit "set" flag because NULL is also a value they can be set to.
_UPDATE = """
    UPDATE sessions SET
        title = COALESCE(:title, title),
        prompt_tokens = COALESCE(:prompt_tokens, prompt_tokens),
        completion_tokens = COALESCE(:completion_tokens, completion_tokens),
        cost = COALESCE(:cost, cost),
        summary_message_id = CASE WHEN :set_summary
            THEN :summary_message_id ELSE summary_message_id END,
        todos = CASE WHEN :set_todos THEN :todos ELSE todos END
    WHERE id = :id
"""

# Targeted column updates for the agent (docs/agent.md 7.5): no read-modify-
# write of the whole row, so a title job and a turn's usage never overwrite
# each other. The update trigger sets updated_at.
_SET_USAGE = """
    UPDATE sessions SET prompt_tokens = ?, completion_tokens = ?, cost = cost + ?
    WHERE id = ?
"""
_SET_TITLE = "UPDATE sessions SET title = ?, cost = cost + ? WHERE id = ?"
_SET_TODOS = "UPDATE sessions SET todos = ? WHERE id = ?"


def _todos_from_db(text: str | None) -> list[proto.Todo]:
    if not text:
        return []
    return proto.converter.structure(json.loads(text), list[proto.Todo])


def _todos_to_db(todos: list[proto.Todo]) -> str | None:
    return json.dumps(proto.converter.unstructure(todos)) if todos else None


def session_from_row(row: sqlite3.Row) -> proto.Session:
    """Build a ``proto.Session`` from a ``sessions`` row (NULL text -> ``""``)."""
    return proto.Session(
        id=row["id"],
        title=row["title"],
        parent_session_id=row["parent_session_id"] or "",
        message_count=row["message_count"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        summary_message_id=row["summary_message_id"] or "",
        cost=row["cost"],
        todos=_todos_from_db(row["todos"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _get(connection: sqlite3.Connection, session_id: str) -> proto.Session:
    row = connection.execute(_SELECT_ONE, (session_id,)).fetchone()
    if row is None:
        raise SessionNotFound
    return session_from_row(row)


def _update_params(session_id: str, update: proto.SessionUpdate) -> dict[str, object]:
    summary = update.summary_message_id
    return {
        "id": session_id,
        "title": update.title,
        "prompt_tokens": update.prompt_tokens,
        "completion_tokens": update.completion_tokens,
        "cost": update.cost,
        "set_summary": summary is not None,
        "summary_message_id": summary or None,
        "set_todos": update.todos is not None,
        "todos": _todos_to_db(update.todos or []),
    }


def _set(
    connection: sqlite3.Connection, sql: str, params: tuple[object, ...], sid: str
) -> proto.Session:
    with transaction(connection):
        if connection.execute(sql, params).rowcount == 0:
            raise SessionNotFound
        return _get(connection, sid)


class SessionStore:
    """Sessions of one database; every method runs one worker-thread call.

    ``is_busy`` and ``attached_clients`` of the returned sessions are always
    ``False``/``0``: the caller computes them (docs/protocol.md 5.6).

    Args:
        db: the workspace's database.

    Source: Crush ``internal/session`` service and ``sql/sessions.sql``.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_top_level(self) -> list[proto.Session]:
        """Return sessions without a parent, most recently updated first.

        Returns:
            Sessions ordered by ``updated_at`` DESC, then ``created_at`` DESC,
            then newest insert first; ``[]`` when none.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """

        def query(connection: sqlite3.Connection) -> list[proto.Session]:
            return [session_from_row(r) for r in connection.execute(_SELECT_TOP_LEVEL)]

        return await self.db.run(query)

    async def create(self, title: str, parent_session_id: str = "") -> proto.Session:
        """Insert a new session with a UUIDv4 id and zero counters.

        Args:
            title: the session title.
            parent_session_id: the parent session's id; ``""`` for a top-level
                session (stored as NULL).

        Returns:
            The new session; ``created_at == updated_at == now`` (Unix seconds).

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        now = int(time.time())
        params = (str(uuid.uuid4()), parent_session_id or None, title, now, now)

        def insert(connection: sqlite3.Connection) -> proto.Session:
            connection.execute(_INSERT, params)
            return _get(connection, params[0])

        return await self.db.run(insert)

    async def get(self, session_id: str) -> proto.Session:
        """Return one session, children included.

        Raises:
            SessionNotFound: no session has that id (404, decision B.4).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        return await self.db.run(lambda connection: _get(connection, session_id))

    async def update(
        self, session_id: str, update: proto.SessionUpdate
    ) -> proto.Session:
        """Change the fields of ``update`` that are not ``None``; bump ``updated_at``.

        ``summary_message_id=""`` clears it (NULL), ``todos=[]`` clears them
        (NULL); ``update.id`` is ignored (the caller checks it, decision B.2).
        The row is always written, so ``updated_at`` becomes now even when no
        field changes, as upstream's update trigger does.

        Returns:
            The session as stored after the update.

        Raises:
            SessionNotFound: no session has that id (404).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        params = _update_params(session_id, update)

        def write(connection: sqlite3.Connection) -> proto.Session:
            with transaction(connection):
                connection.execute(_UPDATE, params)
                return _get(connection, session_id)

        return await self.db.run(write)

    async def delete(self, session_id: str) -> None:
        """Delete a session with its messages and file history, in one transaction.

        ``read_files`` rows go by ``ON DELETE CASCADE``. Child sessions are kept,
        as upstream does.

        Raises:
            SessionNotFound: no session has that id (404; nothing is deleted).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``; the transaction is never left half-done.
        """

        def remove(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                _get(connection, session_id)
                connection.execute(
                    "DELETE FROM messages WHERE session_id = ?", (session_id,)
                )
                connection.execute(
                    "DELETE FROM files WHERE session_id = ?", (session_id,)
                )
                connection.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

        await self.db.run(remove)

    async def _set_columns(
        self, sql: str, params: tuple[object, ...], session_id: str
    ) -> proto.Session:
        return await self.db.run(lambda c: _set(c, sql, params, session_id))

    async def set_usage(
        self,
        session_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        add_cost: float,
    ) -> proto.Session:
        """Set the token counts and add to the cost, one column update.

        Args:
            session_id: the session.
            prompt_tokens: the new ``prompt_tokens`` (replaces the old value).
            completion_tokens: the new ``completion_tokens`` (replaces it).
            add_cost: US dollars added to ``cost``.

        Returns:
            The session as stored afterwards (``updated_at`` now).

        Raises:
            SessionNotFound: no session has that id (404).
            InternalError: the database failed, e.g. a negative count (500).

        Cancellation:
            See ``Database.run``.
        """
        params = (prompt_tokens, completion_tokens, add_cost, session_id)
        return await self._set_columns(_SET_USAGE, params, session_id)

    async def set_title(
        self, session_id: str, title: str, add_cost: float = 0.0
    ) -> proto.Session:
        """Set the title and add the title call's cost (US dollars).

        Returns:
            The session as stored afterwards.

        Raises:
            SessionNotFound: no session has that id (404).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        params = (title, add_cost, session_id)
        return await self._set_columns(_SET_TITLE, params, session_id)

    async def set_todos(
        self, session_id: str, todos: list[proto.Todo]
    ) -> proto.Session:
        """Replace the todo list; ``[]`` clears it (NULL).

        Returns:
            The session as stored afterwards.

        Raises:
            SessionNotFound: no session has that id (404).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        params = (_todos_to_db(todos), session_id)
        return await self._set_columns(_SET_TODOS, params, session_id)
