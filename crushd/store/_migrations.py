"""Schema migrations: ordered SQL steps, bookkept by ``PRAGMA user_version``.

Step ``n`` (1-based) moves a database from ``user_version = n - 1`` to ``n``;
each step runs in one transaction together with its ``user_version`` bump, so a
crash leaves the database at a whole step. Every statement is ``IF NOT EXISTS``,
which also lets crushd adopt a ``crush.db`` that upstream Crush created (upstream
bookkeeps with goose and leaves ``user_version`` at 0). Never edit a released
step; append a new one.

The schema after all steps is upstream's (docs/protocol.md 7.4), timestamps in Unix
seconds.
"""

from __future__ import annotations

import sqlite3

from crushd.errors import InternalError

_INITIAL = (
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        parent_session_id TEXT,
        title TEXT NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0),
        prompt_tokens INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
        completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
        cost REAL NOT NULL DEFAULT 0.0 CHECK (cost >= 0.0),
        updated_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        summary_message_id TEXT,
        todos TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_sessions_created_at ON sessions (created_at)",
    """CREATE TRIGGER IF NOT EXISTS update_sessions_updated_at
        AFTER UPDATE ON sessions
        BEGIN
            UPDATE sessions SET updated_at = strftime('%s', 'now') WHERE id = new.id;
        END""",
    """CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        path TEXT NOT NULL,
        content TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE,
        UNIQUE (path, session_id, version)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_files_session_id ON files (session_id)",
    "CREATE INDEX IF NOT EXISTS idx_files_path ON files (path)",
    "CREATE INDEX IF NOT EXISTS idx_files_created_at ON files (created_at)",
    """CREATE TRIGGER IF NOT EXISTS update_files_updated_at
        AFTER UPDATE ON files
        BEGIN
            UPDATE files SET updated_at = strftime('%s', 'now') WHERE id = new.id;
        END""",
    """CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        role TEXT NOT NULL,
        parts TEXT NOT NULL DEFAULT '[]',
        model TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        provider TEXT,
        is_summary_message INTEGER NOT NULL DEFAULT 0,
        FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
    )""",
    "CREATE INDEX IF NOT EXISTS idx_messages_session_id ON messages (session_id)",
    "CREATE INDEX IF NOT EXISTS idx_messages_created_at ON messages (created_at)",
    """CREATE TRIGGER IF NOT EXISTS update_messages_updated_at
        AFTER UPDATE ON messages
        BEGIN
            UPDATE messages SET updated_at = strftime('%s', 'now') WHERE id = new.id;
        END""",
    """CREATE TRIGGER IF NOT EXISTS update_session_message_count_on_insert
        AFTER INSERT ON messages
        BEGIN
            UPDATE sessions SET message_count = message_count + 1
            WHERE id = new.session_id;
        END""",
    """CREATE TRIGGER IF NOT EXISTS update_session_message_count_on_delete
        AFTER DELETE ON messages
        BEGIN
            UPDATE sessions SET message_count = message_count - 1
            WHERE id = old.session_id;
        END""",
)

_READ_FILES = (
    """CREATE TABLE IF NOT EXISTS read_files (
        session_id TEXT NOT NULL CHECK (session_id != ''),
        path TEXT NOT NULL CHECK (path != ''),
        read_at INTEGER NOT NULL,
        FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE,
        PRIMARY KEY (path, session_id)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_read_files_session_id ON read_files (session_id)",
    "CREATE INDEX IF NOT EXISTS idx_read_files_path ON read_files (path)",
)

#: The migration steps in order; step ``i`` leaves ``user_version = i + 1``.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_INITIAL, _READ_FILES)

#: The ``user_version`` of a fully migrated database.
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(connection: sqlite3.Connection) -> int:
    """Return the database's ``PRAGMA user_version``."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(version)


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every step the database has not seen yet; blocking (run in a thread).

    The connection must be in autocommit mode (``isolation_level=None``).

    Args:
        connection: an open connection to the database.

    Returns:
        The number of steps applied (0 when already current).

    Raises:
        InternalError: the database is newer than this crushd knows (500), or
            a step failed (500, ``failed to apply migrations: <why>``; the step
            is rolled back).
    """
    current = user_version(connection)
    if current > SCHEMA_VERSION:
        raise InternalError(
            f"failed to apply migrations: database schema version {current}"
            f" is newer than this crushd supports ({SCHEMA_VERSION})"
        )
    for number in range(current + 1, SCHEMA_VERSION + 1):
        _apply(connection, number)
    return SCHEMA_VERSION - current


def _apply(connection: sqlite3.Connection, number: int) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in MIGRATIONS[number - 1]:
            connection.execute(statement)
        # PRAGMA takes no parameters; number is an int we computed.
        connection.execute(f"PRAGMA user_version = {int(number)}")
    except sqlite3.Error as exc:
        connection.execute("ROLLBACK")
        raise InternalError(f"failed to apply migrations: {exc}") from exc
    connection.execute("COMMIT")
