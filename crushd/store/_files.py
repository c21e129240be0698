"""The ``files`` table (file history) as ``proto.HistoryFile`` values.

docs/protocol.md 2.3 (``GET /sessions/{sid}/history``) and 7.4; decision B.3 (the
snake_case shape of the ``file`` event).
"""

from __future__ import annotations

import sqlite3
import time
import uuid

from crushd import proto
from crushd.errors import SessionNotFound

from ._database import Database, transaction

#: Version of the first history entry of a path in a session.
INITIAL_VERSION = 0

_SELECT_HISTORY = """
    SELECT id, session_id, path, content, version, created_at, updated_at
    FROM files WHERE session_id = ?
    ORDER BY version ASC, created_at ASC, rowid ASC
"""

_SELECT_ONE = """
    SELECT id, session_id, path, content, version, created_at, updated_at
    FROM files WHERE id = ?
"""

_NEXT_VERSION = """
    SELECT COALESCE(MAX(version) + 1, ?) FROM files
    WHERE session_id = ? AND path = ?
"""

_INSERT = """
    INSERT INTO files (id, session_id, path, content, version, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
"""


def history_file_from_row(row: sqlite3.Row) -> proto.HistoryFile:
    """Build a ``proto.HistoryFile`` from a ``files`` row."""
    return proto.HistoryFile(
        id=row["id"],
        session_id=row["session_id"],
        path=row["path"],
        content=row["content"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _require_session(connection: sqlite3.Connection, session_id: str) -> None:
    query = "SELECT 1 FROM sessions WHERE id = ?"
    if connection.execute(query, (session_id,)).fetchone() is None:
        raise SessionNotFound


class FileStore:
    """File-history versions of one database; one worker-thread call per method.

    Args:
        db: the workspace's database.

    Source: Crush ``internal/history`` service and ``sql/files.sql``.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def history(self, session_id: str) -> list[proto.HistoryFile]:
        """Return every file version recorded in a session.

        Returns:
            Versions by ``version`` ASC, then ``created_at`` ASC, then insertion
            order; ``[]`` for none or an unknown session.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """

        def query(connection: sqlite3.Connection) -> list[proto.HistoryFile]:
            rows = connection.execute(_SELECT_HISTORY, (session_id,))
            return [history_file_from_row(r) for r in rows]

        return await self.db.run(query)

    async def create(
        self, session_id: str, path: str, content: str, version: int | None = None
    ) -> proto.HistoryFile:
        """Record a version of ``path``'s content in a session.

        Args:
            session_id: the session the change belongs to.
            path: the file's path, as the tools name it.
            content: the full file content of this version.
            version: the version number; ``None`` means the next one for this
                path in this session (``INITIAL_VERSION`` for the first).

        Returns:
            The stored version, with a UUIDv4 id and ``created_at ==
            updated_at == now`` (Unix seconds).

        Raises:
            SessionNotFound: ``session_id`` names no session (404).
            InternalError: the database failed, e.g. that version of that path
                exists already (500).

        Cancellation:
            See ``Database.run``.
        """
        file_id, now = str(uuid.uuid4()), int(time.time())

        def insert(connection: sqlite3.Connection) -> proto.HistoryFile:
            with transaction(connection):
                _require_session(connection, session_id)
                number = version
                if number is None:
                    args = (INITIAL_VERSION, session_id, path)
                    (number,) = connection.execute(_NEXT_VERSION, args).fetchone()
                row = (file_id, session_id, path, content, number, now, now)
                connection.execute(_INSERT, row)
            found = connection.execute(_SELECT_ONE, (file_id,)).fetchone()
            return history_file_from_row(found)

        return await self.db.run(insert)
