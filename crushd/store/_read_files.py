"""The ``read_files`` table: which files a session's agent read, and when.

docs/protocol.md 2.4 (the filetracker routes) and 7.4 (the table). Paths are
stored as the caller gives them; the workspace's filetracker decides their
form (relative to the workspace root when inside it, else absolute).
"""

from __future__ import annotations

import sqlite3
import time

from crushd.errors import SessionNotFound

from ._database import Database, transaction

_UPSERT = """
    INSERT INTO read_files (session_id, path, read_at) VALUES (?, ?, ?)
    ON CONFLICT (path, session_id) DO UPDATE SET read_at = excluded.read_at
"""

_SELECT_ONE = "SELECT read_at FROM read_files WHERE session_id = ? AND path = ?"

_SELECT_FOR_SESSION = """
    SELECT path FROM read_files WHERE session_id = ?
    ORDER BY read_at DESC, rowid DESC
"""


def _record(
    connection: sqlite3.Connection, session_id: str, path: str, now: int
) -> None:
    with transaction(connection):
        query = "SELECT 1 FROM sessions WHERE id = ?"
        if connection.execute(query, (session_id,)).fetchone() is None:
            raise SessionNotFound
        connection.execute(_UPSERT, (session_id, path, now))


class ReadFileStore:
    """File reads of one database; every method runs one worker-thread call.

    Args:
        db: the workspace's database.

    Source: Crush ``internal/filetracker`` service and ``sql/read_files.sql``.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, session_id: str, path: str, at: int | None = None) -> None:
        """Record that ``path`` was read in a session (one row per path).

        Args:
            session_id: the session whose agent read the file.
            path: the path as the filetracker stores it (non-empty).
            at: the read time in Unix seconds; ``None`` means now.

        Raises:
            SessionNotFound: no session has that id (404); nothing is written.
            InternalError: the database failed, e.g. an empty path (500).

        Cancellation:
            See ``Database.run``.
        """
        now = int(time.time()) if at is None else at
        await self.db.run(lambda c: _record(c, session_id, path, now))

    async def last_read(self, session_id: str, path: str) -> int:
        """Return when ``path`` was last read in a session, Unix seconds.

        Returns:
            The stored ``read_at``; 0 when never read (or unknown session).

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """

        def query(connection: sqlite3.Connection) -> int:
            row = connection.execute(_SELECT_ONE, (session_id, path)).fetchone()
            return 0 if row is None else int(row[0])

        return await self.db.run(query)

    async def list_for_session(self, session_id: str) -> list[str]:
        """Return the paths read in a session, most recently read first.

        Returns:
            Stored paths by ``read_at`` DESC, latest insert first on ties;
            ``[]`` for none or an unknown session.

        Raises:
            InternalError: the database failed (500).

        Cancellation:
            See ``Database.run``.
        """

        def query(connection: sqlite3.Connection) -> list[str]:
            rows = connection.execute(_SELECT_FOR_SESSION, (session_id,))
            return [row[0] for row in rows]

        return await self.db.run(query)
