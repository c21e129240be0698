"""One SQLite database file: its connection, worker-thread access, and closing.

The stdlib ``sqlite3`` module blocks, so the connection is only ever touched
from worker threads (``trio.to_thread.run_sync``), one call at a time under the
database's own ``CapacityLimiter(1)``. That serialises every statement on the
one connection, which is what upstream does with ``SetMaxOpenConns(1)``.

The database files (``crush.db`` and the ``-wal``/``-shm`` files SQLite keeps
beside it) are checked before every open and after it: a symlink, a
non-regular file or another uid's file is refused, and each is mode 0600
(SQLite gives the files it creates the main file's mode).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import trio

from crushd.errors import InternalError

from ._migrations import migrate
from ._private import PRIVATE_FILE_MODE, make_private

T = TypeVar("T")

#: Name of the database file inside the data directory.
DATABASE_FILE_NAME = "crush.db"

#: Suffixes of the files SQLite keeps beside the database in WAL mode.
SIDE_FILE_SUFFIXES = ("-wal", "-shm")

#: Longest wait, in seconds, for in-flight queries before a close gives up.
#: Above ``busy_timeout`` so a query stuck on a busy database can still finish.
CLOSE_TIMEOUT_SECONDS = 40.0

#: The connection pragmas, in order (docs/protocol.md 7.4).
PRAGMAS = (
    ("foreign_keys", "ON"),
    ("journal_mode", "WAL"),
    ("page_size", "4096"),
    ("temp_store", "MEMORY"),
    ("cache_size", "-8000"),
    ("synchronous", "NORMAL"),
    ("secure_delete", "ON"),
    ("busy_timeout", "30000"),
)

log = logging.getLogger(__name__)


def open_connection(path: Path) -> sqlite3.Connection:
    """Open, configure and migrate the database at ``path``; blocking.

    The connection is in autocommit mode (``isolation_level=None``: transactions
    are explicit, see ``transaction``), returns ``sqlite3.Row`` rows and may be
    used from any thread (callers serialise access). The database files are
    secured first (``secure_database_files``), created 0600 when missing.

    Raises:
        InternalError: ``failed to connect to database: <why>`` or
            ``failed to apply migrations: <why>`` (500).
        DataDirUntrusted: ``failed to connect to database: refusing to open
            <file>: <why>`` for a symlinked, non-regular or foreign database
            file (500).
    """
    _create_private(path)
    secure_database_files(path)
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise InternalError(f"failed to connect to database: {exc}") from exc
    try:
        _configure(connection)
        migrate(connection)
        secure_database_files(path)
    except BaseException:
        connection.close()
        raise
    return connection


def secure_database_files(path: Path) -> None:
    """Check ``path`` and its ``-wal``/``-shm`` files and set them to mode 0600.

    Absent files are fine. Never opens them (see ``make_private``); blocking.

    Raises:
        DataDirUntrusted: one is a symlink, not a regular file, or another
            uid's (500).
        InternalError: ``failed to connect to database: <why>`` when one
            cannot be checked or changed (500).
    """
    names = [path.name + suffix for suffix in ("", *SIDE_FILE_SUFFIXES)]
    try:
        for name in names:
            make_private(path.with_name(name))
    except OSError as exc:
        raise InternalError(f"failed to connect to database: {exc}") from exc


def _create_private(path: Path) -> None:
    # O_EXCL never follows a symlink; SQLite takes an empty file as a new
    # database. Only a missing file is created, so no open SQLite file of this
    # process is closed here (that would drop its POSIX locks).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        os.close(os.open(path, flags, PRIVATE_FILE_MODE))
    except FileExistsError:
        return
    except OSError as exc:
        raise InternalError(f"failed to connect to database: {exc}") from exc


def _configure(connection: sqlite3.Connection) -> None:
    connection.row_factory = sqlite3.Row
    try:
        for name, value in PRAGMAS:
            # Pragmas take no parameters; names and values are constants above.
            connection.execute(f"PRAGMA {name} = {value}").fetchall()
    except sqlite3.Error as exc:
        raise InternalError(f"failed to connect to database: {exc}") from exc


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction; roll back on error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class Database:
    """One open SQLite database, used from worker threads one call at a time.

    Build it with ``await Database.open(path)`` (what ``StorePool`` does), or
    wrap a connection made by ``open_connection``. Close it with ``aclose()``.

    Attributes:
        path: the database file.

    Source: docs/architecture.md section 5; Crush ``internal/db/connect.go`` (one
    connection per file, WAL, the upstream pragmas, migrations on every open).
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._limiter = trio.CapacityLimiter(1)

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open, configure (docs/protocol.md 7.4 pragmas) and migrate ``path``.

        Args:
            path: the database file; its directory must exist.

        Returns:
            The open database at the current schema version.

        Raises:
            InternalError: ``failed to connect to database: <why>`` or
                ``failed to apply migrations: <why>`` (500).

        Cancellation:
            Checked before the worker thread starts; once it runs, the open
            finishes and this returns the database (the cancellation is
            delivered at the caller's next checkpoint, so the caller owns it).
        """
        connection = await trio.to_thread.run_sync(open_connection, path)
        return cls(path, connection)

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` has closed (or started closing) the connection."""
        return self._connection is None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Call ``fn(connection)`` in a worker thread, one call at a time.

        ``fn`` should be short and complete (use ``transaction`` for several
        writes); it must not keep the connection.

        Args:
            fn: a blocking function of the connection.

        Returns:
            Whatever ``fn`` returns.

        Raises:
            CrushdError: whatever ``fn`` raises (e.g. ``SessionNotFound``, 404).
            InternalError: ``database error: <why>`` for any ``sqlite3.Error``,
                ``database is closed`` after ``aclose`` (500).

        Cancellation:
            While waiting for the database (another call is running) a
            cancellation raises ``Cancelled`` and ``fn`` never runs. Once ``fn``
            runs it is not abandoned (``abandon_on_cancel=False``): its work is
            never left half-done behind the caller's back, and its result is
            returned, the cancellation arriving at the caller's next checkpoint.
        """
        return await trio.to_thread.run_sync(self._call, fn, limiter=self._limiter)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            raise InternalError("database is closed")
        try:
            return fn(self._connection)
        except sqlite3.Error as exc:
            raise InternalError(f"database error: {exc}") from exc

    async def aclose(self) -> None:
        """Close the connection after the call in flight, if any; idempotent.

        New ``run`` calls fail with ``database is closed`` from the moment this
        starts.

        Cancellation:
            Closing is shielded, bounded by ``CLOSE_TIMEOUT_SECONDS``: the
            connection is closed even when the caller is cancelled. If a query
            still holds the database when the bound expires, the close is
            logged and skipped (the connection is freed when collected).
        """
        connection, self._connection = self._connection, None
        if connection is None:
            await trio.lowlevel.checkpoint()
            return
        with trio.move_on_after(CLOSE_TIMEOUT_SECONDS, shield=True) as scope:
            await trio.to_thread.run_sync(connection.close, limiter=self._limiter)
        if scope.cancelled_caught:
            log.warning("timed out closing database %s", self.path)
