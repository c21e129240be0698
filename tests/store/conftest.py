"""Fixtures for the store tests: a contender for crush.lock, databases, stores."""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from crushd.store import (
    DATABASE_FILE_NAME,
    LOCK_FILE_NAME,
    SKIP_LOCK_ENV,
    Database,
    FileStore,
    MessageStore,
    SessionStore,
)


class Contender:
    """Plays "another crush process": its own open file descriptions of lock files.

    ``flock`` belongs to an open file description, so a second ``open`` plus
    ``flock`` in this process contends exactly as another process would.
    """

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}

    def hold(self, data_dir: Path, content: bytes | None = None) -> None:
        """Take ``data_dir``'s lock (creating dir and file), optionally writing it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        if content is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, content, 0)
        self._fds[data_dir] = fd

    def release(self, data_dir: Path) -> None:
        """Close the description holding ``data_dir``'s lock."""
        os.close(self._fds.pop(data_dir))

    def can_lock(self, data_dir: Path) -> bool:
        """Tell whether the lock is free right now (taking and dropping it)."""
        try:
            self.hold(data_dir)
        except BlockingIOError:
            return False
        self.release(data_dir)
        return True

    def release_all(self) -> None:
        for data_dir in list(self._fds):
            self.release(data_dir)


# Tests take the contender's methods as fixtures, so none imports conftest.


@pytest.fixture
def contender() -> Iterator[Contender]:
    holder = Contender()
    yield holder
    holder.release_all()


@pytest.fixture
def hold_lock(contender: Contender) -> Callable[..., None]:
    """``hold_lock(data_dir, content=None)``: lock as "another process"."""
    return contender.hold


@pytest.fixture
def drop_lock(contender: Contender) -> Callable[[Path], None]:
    """``drop_lock(data_dir)``: the other process lets go."""
    return contender.release


@pytest.fixture
def lock_is_free(contender: Contender) -> Callable[[Path], bool]:
    """``lock_is_free(data_dir)``: could another process take the lock now?"""
    return contender.can_lock


@pytest.fixture(autouse=True)
def _no_skip_lock_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's environment must not decide whether locks are taken.
    monkeypatch.delenv(SKIP_LOCK_ENV, raising=False)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / DATABASE_FILE_NAME)
    yield database
    await database.aclose()


@pytest.fixture
def sessions(db: Database) -> SessionStore:
    return SessionStore(db)


@pytest.fixture
def messages(db: Database) -> MessageStore:
    return MessageStore(db)


@pytest.fixture
def files(db: Database) -> FileStore:
    return FileStore(db)
