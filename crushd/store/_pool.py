"""The store pool: one open database and one data-dir lock per data directory.

Workspaces share a data directory's database through a reference count keyed by
its absolute path. The first reference creates the directory, takes the
data-dir lock and opens the database; the last release closes the database and
drops the lock. Every decision is made synchronously (no await between reading
and changing the tables), then the I/O is awaited; a directory being opened or
closed is marked busy so concurrent callers wait for that one transition
instead of starting another.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import trio

from crushd.errors import DataDirLocked, DataDirUntrusted, InternalError
from crushd.trust import check_trusted

from ._lock import DataDirLock, skip_lock_from_env

if TYPE_CHECKING:
    from ._database import Database

#: Mode of a data directory the pool creates (existing ones keep theirs).
DATA_DIR_MODE = 0o700

log = logging.getLogger(__name__)


@attrs.frozen
class PoolStatistics:
    """A snapshot of a ``StorePool``.

    Attributes:
        open_databases: data directories with an open database.
        refs: references held per absolute data directory.
        busy: data directories being opened or closed right now.
    """

    open_databases: int
    refs: dict[Path, int]
    busy: int


@attrs.define(eq=False)
class _Entry:
    db: Database
    lock: DataDirLock | None
    refs: int = 1

    async def aclose(self) -> None:
        try:
            await self.db.aclose()
        finally:
            if self.lock is not None:
                self.lock.release()


def _key(data_dir: Path) -> Path:
    # Lexical, like Go's filepath.Abs: symlinks are not resolved.
    return Path(os.path.abspath(data_dir))


def prepare_data_dir(
    data_dir: Path, version: str, skip_lock: bool
) -> DataDirLock | None:
    """Create ``data_dir`` and its ``.gitignore``, then take its lock; blocking.

    The directory is created mode 0700 when missing (missing parents get the
    default mode); an existing directory keeps its mode: upstream only
    creates, and silently tightening a directory the user set up would surprise
    more than it protects. But it must be trusted (``crushd.trust``: this
    process's uid or root owns it, no group/other write bit), else nothing is
    written in it: another user could read or swap the database. The
    ``.gitignore`` (``*``) is written only when absent.

    Args:
        data_dir: absolute data directory.
        version: written into the lock's owner record.
        skip_lock: do not lock (returns ``None``).

    Returns:
        The held lock, or ``None`` when skipped.

    Raises:
        InternalError: ``failed to create data directory: <why>`` or
            ``failed to connect to database: <why>`` (500).
        DataDirUntrusted: ``data directory <dir> is not owned by you or is
            writable by others``, or ``failed to connect to database: refusing
            to open <dir>/crush.lock: <why>`` (500).
        DataDirLocked: ``failed to connect to database: data directory already
            in use ...`` (500).
    """
    try:
        data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
        _check_data_dir(data_dir)
        _write_gitignore(data_dir)
    except OSError as exc:
        raise InternalError(f"failed to create data directory: {exc}") from exc
    return None if skip_lock else _lock(data_dir, version)


def _check_data_dir(data_dir: Path) -> None:
    reason = check_trusted(data_dir)
    if reason is not None:
        log.warning("refusing untrusted data directory %s: %s", data_dir, reason)
        raise DataDirUntrusted(
            f"data directory {data_dir} is not owned by you or is writable by others"
        )


def _write_gitignore(data_dir: Path) -> None:
    # "x" creates or fails: never overwrite a .gitignore the user edited.
    with contextlib.suppress(FileExistsError), (data_dir / ".gitignore").open("x") as f:
        f.write("*\n")


def _lock(data_dir: Path, version: str) -> DataDirLock:
    try:
        return DataDirLock.acquire(data_dir, version)
    except DataDirLocked as exc:
        raise DataDirLocked(f"failed to connect to database: {exc.message}") from exc
    except OSError as exc:
        raise InternalError(
            f"failed to connect to database: failed to lock data directory"
            f" {data_dir}: {exc}"
        ) from exc


class StorePool:
    """Open databases shared by reference count, one per data directory.

    Args:
        version: this daemon's version, recorded in each ``crush.lock``.
        skip_lock: ``True`` never locks, ``False`` always locks, ``None`` reads
            ``CRUSH_SKIP_DATADIR_LOCK`` at each first acquire.

    Source: Crush ``internal/db/connect.go`` ``Connect``/``Release``/
    ``ResetPool`` with ``WithDataDirLock(true)`` (the server path);
    docs/architecture.md 5.
    """

    def __init__(self, version: str, *, skip_lock: bool | None = None) -> None:
        self._version = version
        self._skip_lock = skip_lock
        self._entries: dict[Path, _Entry] = {}
        self._busy: dict[Path, trio.Event] = {}
        self._closed = False

    async def acquire(self, data_dir: Path) -> Database:
        """Return the data directory's database, adding one reference.

        The first reference prepares the directory (``prepare_data_dir``: mode
        0700, ``.gitignore``, ``crush.lock``) and opens and migrates
        ``crush.db``; later ones reuse it without locking again. Concurrent
        first acquires share one open. Pair every acquire with a ``release``.

        Args:
            data_dir: the data directory, relative or absolute.

        Returns:
            The shared, open database.

        Raises:
            InternalError: ``failed to create data directory: <why>``,
                ``failed to connect to database: <why>``, ``failed to apply
                migrations: <why>``, or ``store pool is closed`` (500).
            DataDirUntrusted: the data directory, ``crush.lock`` or a
                ``crush.db`` file is not safe to use (500, see
                ``prepare_data_dir`` and ``Database.open``).
            DataDirLocked: another process holds the lock (500), message
                ``failed to connect to database: data directory already in use
                by another crush process: <dir> (owner ...)``.

        Cancellation:
            Safe at every await: a cancelled acquire holds no reference, no
            lock and no connection. An acquire whose open already finished
            returns normally (with its reference); the cancellation then
            arrives at the caller's next checkpoint.
        """
        key = _key(data_dir)
        await trio.lowlevel.checkpoint()
        while True:
            if self._closed:
                raise InternalError("store pool is closed")
            entry = self._entries.get(key)
            if entry is not None:
                entry.refs += 1
                return entry.db
            busy = self._busy.get(key)
            if busy is None:
                return await self._open(key)
            await busy.wait()

    async def _open(self, key: Path) -> Database:
        done = self._busy[key] = trio.Event()
        try:
            entry = await self._open_entry(key)
            if self._closed:
                await entry.aclose()
                raise InternalError("store pool is closed")
            self._entries[key] = entry
        finally:
            del self._busy[key]
            done.set()
        return entry.db

    async def _open_entry(self, key: Path) -> _Entry:
        # sqlite3 and the schema load with the first database, not at startup.
        from ._database import DATABASE_FILE_NAME, Database

        skip = skip_lock_from_env() if self._skip_lock is None else self._skip_lock
        lock = await trio.to_thread.run_sync(prepare_data_dir, key, self._version, skip)
        try:
            db = await Database.open(key / DATABASE_FILE_NAME)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return _Entry(db=db, lock=lock)

    async def release(self, data_dir: Path) -> None:
        """Drop one reference; the last closes the database and the lock.

        Releasing a data directory with no reference does nothing.

        Args:
            data_dir: the data directory given to ``acquire``.

        Cancellation:
            The reference is always dropped, and a last release always closes
            (shielded and bounded, see ``Database.aclose``); this never raises
            ``Cancelled`` itself.
        """
        key = _key(data_dir)
        entry = self._entries.get(key)
        if entry is not None:
            entry.refs -= 1
        if entry is None or entry.refs > 0:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        del self._entries[key]
        await self._close(key, entry)

    async def _close(self, key: Path, entry: _Entry) -> None:
        done = self._busy[key] = trio.Event()
        try:
            # Shielded and bounded inside Database.aclose.
            await entry.aclose()
        finally:
            del self._busy[key]
            done.set()

    async def aclose(self) -> None:
        """Close every database and release every lock, whatever the refs.

        Later acquires fail with ``store pool is closed``; an open still in
        flight closes what it opened and fails the same way. Idempotent.

        Cancellation:
            Each close is shielded and bounded, so everything open when this
            started is closed even if the caller is cancelled.
        """
        self._closed = True
        await trio.lowlevel.cancel_shielded_checkpoint()
        while self._entries:
            key, entry = self._entries.popitem()
            await self._close(key, entry)

    def statistics(self) -> PoolStatistics:
        """Return a snapshot of open databases and references (no await)."""
        return PoolStatistics(
            open_databases=len(self._entries),
            refs={key: entry.refs for key, entry in self._entries.items()},
            busy=len(self._busy),
        )
