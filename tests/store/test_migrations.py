"""Tests for crushd.store._migrations: ordered steps bookkept by user_version."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushd.errors import InternalError
from crushd.store import MIGRATIONS, SCHEMA_VERSION, migrate, user_version


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "crush.db", isolation_level=None)
    yield conn
    conn.close()


def _names(conn: sqlite3.Connection, kind: str) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def test_migrate_fresh_database_reaches_schema_version(
    connection: sqlite3.Connection,
) -> None:
    """A fresh database gets every step and user_version equal to the step count."""
    assert migrate(connection) == len(MIGRATIONS)
    assert user_version(connection) == SCHEMA_VERSION == len(MIGRATIONS)


def test_migrate_twice_is_a_no_op(connection: sqlite3.Connection) -> None:
    """Migrating a current database applies nothing and changes nothing."""
    migrate(connection)
    connection.execute(
        "INSERT INTO sessions (id, title, created_at, updated_at)"
        " VALUES ('s', 't', 1, 1)"
    )
    assert migrate(connection) == 0
    assert connection.execute("SELECT count(*) FROM sessions").fetchone() == (1,)


def test_migrate_schema_has_upstream_objects(connection: sqlite3.Connection) -> None:
    """After migration the upstream tables, indexes and triggers all exist."""
    migrate(connection)
    assert _names(connection, "table") == {
        "sessions",
        "messages",
        "files",
        "read_files",
    }
    assert _names(connection, "index") == {
        "idx_sessions_created_at",
        "idx_files_session_id",
        "idx_files_path",
        "idx_files_created_at",
        "idx_messages_session_id",
        "idx_messages_created_at",
        "idx_read_files_session_id",
        "idx_read_files_path",
    }
    assert _names(connection, "trigger") == {
        "update_sessions_updated_at",
        "update_files_updated_at",
        "update_messages_updated_at",
        "update_session_message_count_on_insert",
        "update_session_message_count_on_delete",
    }


def test_migrate_sessions_columns(connection: sqlite3.Connection) -> None:
    """The sessions table has upstream's columns in upstream's order."""
    migrate(connection)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(sessions)")]
    assert columns == [
        "id",
        "parent_session_id",
        "title",
        "message_count",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "updated_at",
        "created_at",
        "summary_message_id",
        "todos",
    ]


def test_migrate_applies_only_missing_steps(connection: sqlite3.Connection) -> None:
    """A database at step 1 gets only the later steps."""
    for statement in MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("PRAGMA user_version = 1")
    assert "read_files" not in _names(connection, "table")
    assert migrate(connection) == SCHEMA_VERSION - 1
    assert "read_files" in _names(connection, "table")


def test_migrate_adopts_database_without_user_version(
    connection: sqlite3.Connection,
) -> None:
    """Tables made elsewhere (upstream's goose leaves user_version 0) are adopted."""
    for step in MIGRATIONS:
        for statement in step:
            connection.execute(statement)
    assert user_version(connection) == 0
    assert migrate(connection) == SCHEMA_VERSION
    assert user_version(connection) == SCHEMA_VERSION


def test_migrate_refuses_newer_database(connection: sqlite3.Connection) -> None:
    """A database from a newer crushd is refused, not downgraded."""
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InternalError, match="newer than this crushd supports"):
        migrate(connection)
    assert user_version(connection) == SCHEMA_VERSION + 1


def test_migrate_failed_step_rolls_back(connection: sqlite3.Connection) -> None:
    """A step that fails leaves neither its objects nor its version bump behind."""
    # A view named like step 1's first index makes that CREATE INDEX fail.
    connection.execute("CREATE VIEW idx_sessions_created_at AS SELECT 1")
    with pytest.raises(InternalError, match=r"^failed to apply migrations: "):
        migrate(connection)
    assert user_version(connection) == 0
    assert "sessions" not in _names(connection, "table")
