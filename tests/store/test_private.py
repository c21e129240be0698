"""The data directory and its files are ours: no symlink, no other uid, mode 0600.

Regressions for issue 11 A: a committed ``.crush/crush.lock -> ~/precious``
truncated the target; an existing data directory of another uid (or one
others may write) was used; database files kept loose modes. The other-uid
cases chown to 65534 and run only as root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushd.errors import DataDirUntrusted, InternalError
from crushd.store import (
    DATABASE_FILE_NAME,
    LOCK_FILE_NAME,
    Database,
    DataDirLock,
    StorePool,
)

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="chowning a file to another uid needs root"
)
REFUSED = "failed to connect to database: refusing to open"
SIDE_FILES = ("crush.db-wal", "crush.db-shm")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _intact(path: Path) -> bool:
    return path.read_text() == "keep me\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run with the common umask, under which SQLite would make 0644 files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A file of the user's that a planted symlink points at."""
    path = tmp_path / "precious"
    path.write_text("keep me\n")
    return path


# -- crush.lock ---------------------------------------------------------------


def test_symlinked_lock_file_never_truncates_its_target(
    tmp_path: Path, precious: Path
) -> None:
    """The found bug: a committed crush.lock symlink is refused, target intact."""
    data_dir = tmp_path / ".crush"
    data_dir.mkdir()
    (data_dir / LOCK_FILE_NAME).symlink_to(precious)
    with pytest.raises(DataDirUntrusted) as caught:
        DataDirLock.acquire(data_dir, "v1")
    assert caught.value.message == (
        f"{REFUSED} {data_dir / LOCK_FILE_NAME}: it is a symbolic link"
    )
    assert _intact(precious)


def test_dangling_symlinked_lock_file_creates_nothing(tmp_path: Path) -> None:
    """A symlink to a missing file is refused too: O_CREAT never follows it."""
    (tmp_path / LOCK_FILE_NAME).symlink_to(tmp_path / "made")
    with pytest.raises(DataDirUntrusted, match="symbolic link"):
        DataDirLock.acquire(tmp_path, "v1")
    assert not (tmp_path / "made").exists()


def test_fifo_lock_file_is_refused_without_hanging(tmp_path: Path) -> None:
    """A FIFO planted as crush.lock is not a regular file: refused at once."""
    os.mkfifo(tmp_path / LOCK_FILE_NAME)
    with pytest.raises(DataDirUntrusted, match=r"it is not a regular file$"):
        DataDirLock.acquire(tmp_path, "v1")


def test_loose_lock_file_is_set_to_0600(tmp_path: Path) -> None:
    """An existing crush.lock of ours with a loose mode becomes 0600."""
    (tmp_path / LOCK_FILE_NAME).write_text("")
    (tmp_path / LOCK_FILE_NAME).chmod(0o666)
    DataDirLock.acquire(tmp_path, "v1").release()
    assert _mode(tmp_path / LOCK_FILE_NAME) == 0o600


@needs_root
def test_lock_file_of_another_uid_is_refused(tmp_path: Path) -> None:
    """Another uid's crush.lock is neither written nor locked."""
    (tmp_path / LOCK_FILE_NAME).write_text("theirs\n")
    os.chown(tmp_path / LOCK_FILE_NAME, NOBODY, NOBODY)
    with pytest.raises(DataDirUntrusted, match=f"owned by uid {NOBODY}$"):
        DataDirLock.acquire(tmp_path, "v1")
    assert (tmp_path / LOCK_FILE_NAME).read_text() == "theirs\n"


# -- the data directory -------------------------------------------------------


async def test_pool_refuses_data_dir_writable_by_others(tmp_path: Path) -> None:
    """An existing data dir others may write is a clear 500; nothing is written."""
    data_dir = tmp_path / ".crush"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    with pytest.raises(DataDirUntrusted) as caught:
        await StorePool("v1").acquire(data_dir)
    assert caught.value.status == 500
    assert caught.value.message == (
        f"data directory {data_dir} is not owned by you or is writable by others"
    )
    assert list(data_dir.iterdir()) == []


@needs_root
async def test_pool_refuses_data_dir_of_another_uid(tmp_path: Path) -> None:
    """Another uid's existing data dir is refused, and not written in."""
    data_dir = tmp_path / ".crush"
    data_dir.mkdir(mode=0o700)
    os.chown(data_dir, NOBODY, NOBODY)
    with pytest.raises(DataDirUntrusted, match="is not owned by you"):
        await StorePool("v1").acquire(data_dir)
    assert list(data_dir.iterdir()) == []


async def test_pool_refuses_committed_lock_symlink(
    tmp_path: Path, precious: Path
) -> None:
    """Through the pool too, the planted crush.lock symlink is a 500, target intact."""
    data_dir = tmp_path / ".crush"
    data_dir.mkdir()
    (data_dir / LOCK_FILE_NAME).symlink_to(precious)
    pool = StorePool("v1", skip_lock=False)
    with pytest.raises(DataDirUntrusted, match="it is a symbolic link"):
        await pool.acquire(data_dir)
    assert _intact(precious)
    assert pool.statistics().refs == {}


# -- crush.db and its -wal/-shm -----------------------------------------------


@pytest.mark.usefixtures("umask_022")
async def test_database_files_are_created_0600(tmp_path: Path) -> None:
    """crush.db and the -wal/-shm files SQLite creates are all mode 0600."""
    db = await Database.open(tmp_path / DATABASE_FILE_NAME)
    try:
        await db.run(lambda c: c.execute("CREATE TABLE t (x)"))
        for name in (DATABASE_FILE_NAME, *SIDE_FILES):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        await db.aclose()


async def test_loose_database_files_are_set_to_0600(tmp_path: Path) -> None:
    """Existing database files with loose modes are tightened on open."""
    db_path = tmp_path / DATABASE_FILE_NAME
    await (await Database.open(db_path)).aclose()
    db_path.chmod(0o666)
    for name in SIDE_FILES:
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o666)
    db = await Database.open(db_path)
    try:
        for name in (DATABASE_FILE_NAME, *SIDE_FILES):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        await db.aclose()


@pytest.mark.parametrize("name", [DATABASE_FILE_NAME, *SIDE_FILES])
async def test_symlinked_database_file_is_refused(
    tmp_path: Path, precious: Path, name: str
) -> None:
    """A symlinked crush.db, -wal or -shm is refused; its target is untouched."""
    (tmp_path / name).symlink_to(precious)
    mode = _mode(precious)
    with pytest.raises(DataDirUntrusted) as caught:
        await Database.open(tmp_path / DATABASE_FILE_NAME)
    assert caught.value.message == f"{REFUSED} {tmp_path / name}: it is a symbolic link"
    assert _intact(precious)
    assert _mode(precious) == mode


async def test_directory_as_database_is_still_a_connect_error(tmp_path: Path) -> None:
    """A folder named crush.db is refused with the connect step in the message."""
    (tmp_path / DATABASE_FILE_NAME).mkdir()
    with pytest.raises(InternalError, match=f"^{REFUSED} .*not a regular file$"):
        await Database.open(tmp_path / DATABASE_FILE_NAME)


@needs_root
async def test_database_file_of_another_uid_is_refused(tmp_path: Path) -> None:
    """Another uid's crush.db is never opened."""
    (tmp_path / DATABASE_FILE_NAME).write_bytes(b"")
    os.chown(tmp_path / DATABASE_FILE_NAME, NOBODY, NOBODY)
    with pytest.raises(DataDirUntrusted, match=f"owned by uid {NOBODY}$"):
        await Database.open(tmp_path / DATABASE_FILE_NAME)
