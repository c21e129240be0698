"""The ``messages`` table as ``proto.Message`` values (docs/protocol.md 2.3, 4, 7.4)."""

from __future__ import annotations

import json
import sqlite3
import time

import attrs

from crushd import proto
from crushd.errors import NotFound, SessionNotFound

from ._database import Database, transaction

_SELECT_FOR_SESSION = """
    SELECT id, session_id, role, parts, model, provider, created_at, updated_at,
           is_summary_message
    FROM messages WHERE session_id = ?
    ORDER BY created_at ASC, rowid ASC
"""

_SELECT_USER_FOR_SESSION = """
    SELECT id, session_id, role, parts, model, provider, created_at, updated_at,
           is_summary_message
    FROM messages WHERE session_id = ? AND role = 'user'
    ORDER BY created_at DESC, rowid DESC
"""

_SELECT_USER_ALL = """
    SELECT id, session_id, role, parts, model, provider, created_at, updated_at,
           is_summary_message
    FROM messages WHERE role = 'user'
    ORDER BY created_at DESC, rowid DESC
"""

_SELECT_ONE = """
    SELECT id, session_id, role, parts, model, provider, created_at, updated_at,
           is_summary_message
    FROM messages WHERE id = ?
"""

_INSERT = """
    INSERT INTO messages (id, session_id, role, parts, model, provider,
                          created_at, updated_at, is_summary_message)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


_UPDATE = """
    UPDATE messages SET parts = ?, finished_at = ?, updated_at = ? WHERE id = ?
"""

_DELETE = "DELETE FROM messages WHERE id = ?"

_UPDATED_AT = "SELECT updated_at FROM messages WHERE id = ?"

#: The text of the 404 for an unknown message id (decision B.4).
MESSAGE_NOT_FOUND = "message not found"


def parts_to_db(parts: list[proto.Part]) -> str:
    """Encode parts as the stored JSON array of ``{"type", "data"}`` objects."""
    return json.dumps(proto.converter.unstructure(parts), ensure_ascii=False)


def parts_from_db(text: str | bytes) -> list[proto.Part]:
    """Decode the stored JSON array of ``{"type", "data"}`` objects."""
    return proto.converter.structure(json.loads(text), list[proto.Part])


def message_from_row(row: sqlite3.Row) -> proto.Message:
    """Build a ``proto.Message`` from a ``messages`` row (NULL text -> ``""``)."""
    return proto.Message(
        id=row["id"],
        role=row["role"],
        session_id=row["session_id"],
        parts=parts_from_db(row["parts"]),
        model=row["model"] or "",
        provider=row["provider"] or "",
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        is_summary_message=bool(row["is_summary_message"]),
    )


def finished_at(parts: list[proto.Part]) -> int | None:
    """Return the ``time`` of the first ``finish`` part (Unix seconds), else None.

    This is the ``finished_at`` column upstream writes on every update; a
    finish part whose ``time`` is not an integer counts as no time (None).
    """
    for part in parts:
        if part.type == "finish":
            at = part.data.get("time")
            return at if isinstance(at, int) and not isinstance(at, bool) else None
    return None


def _get(connection: sqlite3.Connection, message_id: str) -> proto.Message:
    row = connection.execute(_SELECT_ONE, (message_id,)).fetchone()
    if row is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message_from_row(row)


def _update_all(
    connection: sqlite3.Connection, messages: list[proto.Message], now: int
) -> list[proto.Message]:
    written = []
    with transaction(connection):
        for message in messages:
            params = (parts_to_db(message.parts), finished_at(message.parts))
            cursor = connection.execute(_UPDATE, (*params, now, message.id))
            if cursor.rowcount:
                # The schema's update trigger stamps its own clock: read it back.
                stamp = connection.execute(_UPDATED_AT, (message.id,)).fetchone()[0]
                written.append(attrs.evolve(message, updated_at=stamp))
    return written


def _insert_params(message: proto.Message, now: int) -> tuple[object, ...]:
    created_at = message.created_at or now
    return (
        message.id,
        message.session_id,
        message.role,
        parts_to_db(message.parts),
        message.model or None,
        message.provider or None,
        created_at,
        message.updated_at or created_at,
        int(message.is_summary_message),
    )


class MessageStore:
    """Messages of one database; every method runs one worker-thread call.

    Args:
        db: the workspace's database.

    Source: Crush ``internal/message`` service and ``sql/messages.sql``.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _select(self, sql: str, params: tuple[str, ...]) -> list[proto.Message]:
        def query(connection: sqlite3.Connection) -> list[proto.Message]:
            return [message_from_row(r) for r in connection.execute(sql, params)]

        return await self.db.run(query)

    async def list_for_session(self, session_id: str) -> list[proto.Message]:
        """Return a session's messages, oldest first.

        Returns:
            Messages by ``created_at`` ASC (Unix seconds), insertion order within
            a second; ``[]`` for none or an unknown session.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        return await self._select(_SELECT_FOR_SESSION, (session_id,))

    async def list_user_for_session(self, session_id: str) -> list[proto.Message]:
        """Return a session's ``user`` messages, newest first.

        Returns:
            ``role = 'user'`` messages by ``created_at`` DESC, latest insert
            first within a second; ``[]`` when none.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        return await self._select(_SELECT_USER_FOR_SESSION, (session_id,))

    async def list_user_all(self) -> list[proto.Message]:
        """Return the ``user`` messages of every session, newest first.

        Returns:
            ``role = 'user'`` messages by ``created_at`` DESC, latest insert
            first within a second; ``[]`` when none.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        return await self._select(_SELECT_USER_ALL, ())

    async def create(self, message: proto.Message) -> proto.Message:
        """Insert a message; the insert trigger bumps the session's count.

        ``created_at`` 0 means now (Unix seconds), ``updated_at`` 0 means
        ``created_at``; ``model``/``provider`` ``""`` are stored as NULL and
        ``finished_at`` is left NULL.

        Args:
            message: the message to store, id included.

        Returns:
            The message as stored.

        Raises:
            SessionNotFound: ``message.session_id`` names no session (404).
            InternalError: the database failed, e.g. a duplicate id (500).

        Cancellation:
            See ``Database.run``.
        """
        params = _insert_params(message, int(time.time()))

        def insert(connection: sqlite3.Connection) -> proto.Message:
            with transaction(connection):
                found = connection.execute(
                    "SELECT 1 FROM sessions WHERE id = ?", (message.session_id,)
                ).fetchone()
                if found is None:
                    raise SessionNotFound
                connection.execute(_INSERT, params)
            return message_from_row(
                connection.execute(_SELECT_ONE, (message.id,)).fetchone()
            )

        return await self.db.run(insert)

    async def get(self, message_id: str) -> proto.Message:
        """Return one message as stored.

        Raises:
            NotFound: no message has that id (404 ``message not found``).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """
        return await self.db.run(lambda connection: _get(connection, message_id))

    async def update_many(self, messages: list[proto.Message]) -> list[proto.Message]:
        """Write the parts of several messages in one transaction.

        Per message: ``parts``, ``finished_at`` (the finish part's ``time``,
        else NULL) and ``updated_at`` (now, Unix seconds) are written, as
        upstream's ``UpdateMessage``; role, model and the rest never change.
        A message whose row is gone (deleted meanwhile) is skipped.

        Args:
            messages: the snapshots to write, in write order; one id should
                appear once (a later snapshot of the same id wins anyway).

        Returns:
            The messages written, in order, ``updated_at`` set to the time
            written; the skipped ones are left out.

        Raises:
            InternalError: the database failed (500); nothing is written.

        Cancellation:
            See ``Database.run``; the transaction is never left half-done.
        """
        batch, now = list(messages), int(time.time())
        if not batch:
            return []
        return await self.db.run(lambda c: _update_all(c, batch, now))

    async def delete(self, message_id: str) -> proto.Message:
        """Delete one message; the delete trigger lowers the session's count.

        Returns:
            The message as it was stored (the ``message``/``deleted`` payload).

        Raises:
            NotFound: no message has that id (404 ``message not found``).
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """

        def remove(connection: sqlite3.Connection) -> proto.Message:
            with transaction(connection):
                message = _get(connection, message_id)
                connection.execute(_DELETE, (message_id,))
            return message

        return await self.db.run(remove)
