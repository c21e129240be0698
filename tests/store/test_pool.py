"""Tests for crushd.store._pool: refcounted databases and the data-dir lock.

The ``test_pool_connect_*`` tests port Crush's ``TestConnect_*`` data-dir lock
tests (``internal/db/connect_test.go``); the server path there is every
``StorePool`` acquire here.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from crushd.errors import DataDirLocked, InternalError
from crushd.store import (
    DATABASE_FILE_NAME,
    PoolStatistics,
    StorePool,
    prepare_data_dir,
)

HoldLock = Callable[..., None]
LockIsFree = Callable[[Path], bool]
LOCKED = "failed to connect to database: data directory already in use by another"


async def _ping(pool: StorePool, data_dir: Path) -> None:
    db = await pool.acquire(data_dir)
    assert await db.run(lambda c: c.execute("SELECT 1").fetchone()[0]) == 1
    await pool.release(data_dir)


# -- ports of upstream TestConnect_* ------------------------------------------


async def test_pool_connect_fails_when_data_dir_locked(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    """Acquire refuses a data dir another process holds, with DataDirLocked."""
    hold_lock(tmp_path)
    pool = StorePool("v1")
    with pytest.raises(DataDirLocked) as caught:
        await pool.acquire(tmp_path)
    assert caught.value.message == (f"{LOCKED} crush process: {tmp_path}")
    assert isinstance(caught.value, InternalError)
    assert caught.value.status == 500
    assert pool.statistics() == PoolStatistics(open_databases=0, refs={}, busy=0)


async def test_pool_connect_succeeds_after_contender_releases(
    tmp_path: Path, hold_lock: HoldLock, drop_lock: Callable[[Path], None]
) -> None:
    """The lock is purely advisory: once the contender lets go, acquire works."""
    hold_lock(tmp_path)
    pool = StorePool("v1")
    with pytest.raises(DataDirLocked):
        await pool.acquire(tmp_path)
    drop_lock(tmp_path)
    await _ping(pool, tmp_path)


async def test_pool_connect_lock_released_on_final_release(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """The lock is held while the pool entry lives and dropped by the last release."""
    pool = StorePool("v1")
    await pool.acquire(tmp_path)
    assert not lock_is_free(tmp_path)
    await pool.release(tmp_path)
    assert lock_is_free(tmp_path)


async def test_pool_connect_shared_pool_does_not_reacquire_lock(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """A second in-process acquire shares the lock; one release keeps it held."""
    pool = StorePool("v1")
    first = await pool.acquire(tmp_path)
    second = await pool.acquire(tmp_path)
    assert first is second
    await pool.release(tmp_path)
    assert not lock_is_free(tmp_path)
    await pool.release(tmp_path)
    assert lock_is_free(tmp_path)


async def test_pool_connect_skip_lock_env_bypasses_acquisition(
    tmp_path: Path, hold_lock: HoldLock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CRUSH_SKIP_DATADIR_LOCK=1 lets acquire proceed under contention."""
    hold_lock(tmp_path)
    pool = StorePool("v1")
    monkeypatch.setenv("CRUSH_SKIP_DATADIR_LOCK", "1")  # read at acquire time
    await _ping(pool, tmp_path)


async def test_pool_connect_skip_lock_true_ignores_contended_lock(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    """skip_lock=True (upstream's lock-less local mode) ignores the lock file."""
    hold_lock(tmp_path)
    await _ping(StorePool("v1", skip_lock=True), tmp_path)


@pytest.mark.parametrize("env", ["0", "false", "", None])
async def test_pool_connect_server_path_fails_when_data_dir_locked(
    tmp_path: Path,
    hold_lock: HoldLock,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
) -> None:
    """The locking path (env unset or falsy, or skip_lock=False) surfaces contention."""
    if env is not None:
        monkeypatch.setenv("CRUSH_SKIP_DATADIR_LOCK", env)
    hold_lock(tmp_path)
    with pytest.raises(DataDirLocked):
        await StorePool("v1").acquire(tmp_path)
    monkeypatch.setenv("CRUSH_SKIP_DATADIR_LOCK", "1")
    with pytest.raises(DataDirLocked):
        await StorePool("v1", skip_lock=False).acquire(tmp_path)


async def test_pool_release_unknown_data_dir_is_noop() -> None:
    """Releasing a data dir the pool never opened does nothing."""
    pool = StorePool("v1")
    await pool.release(Path("/nonexistent/path"))
    assert pool.statistics().refs == {}


# -- contention details -------------------------------------------------------


async def test_pool_contention_message_names_owner(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    """The wrapped message keeps the owner details the holder recorded."""
    hold_lock(tmp_path, b'{"pid": 4242, "version": "v0.9", "started_at": "T"}\n')
    with pytest.raises(DataDirLocked) as caught:
        await StorePool("v1").acquire(tmp_path)
    assert caught.value.message == (
        f"{LOCKED} crush process: {tmp_path} (owner pid=4242 version=v0.9 started_at=T)"
    )


async def test_pool_contention_with_real_process(tmp_path: Path) -> None:
    """A lock held by another process names its pid; its exit frees the dir."""
    code = (
        "import sys; from pathlib import Path; from crushd.store import DataDirLock;"
        " lock = DataDirLock.acquire(Path(sys.argv[1]), 'v9.9.9');"
        " print('ready', flush=True); sys.stdin.read()"
    )
    argv = [sys.executable, "-c", code, str(tmp_path)]
    pool = StorePool("v1")
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            functools.partial(
                trio.run_process,
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        )
        output = b""
        while not output.endswith(b"\n"):
            output += await process.stdout.receive_some()
        assert output == b"ready\n"
        with pytest.raises(DataDirLocked) as caught:
            await pool.acquire(tmp_path)
        assert f"(owner pid={process.pid} version=v9.9.9 started_at=" in (
            caught.value.message
        )
        await process.stdin.aclose()
    await _ping(pool, tmp_path)


# -- data directory -----------------------------------------------------------


async def test_pool_acquire_creates_private_data_dir(tmp_path: Path) -> None:
    """The first acquire creates the dir 0700 with a "*" .gitignore and crush.db."""
    data_dir = tmp_path / "project" / ".crush"
    pool = StorePool("v1")
    await pool.acquire(data_dir)
    await pool.release(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert (data_dir / ".gitignore").read_text() == "*\n"
    assert (data_dir / DATABASE_FILE_NAME).is_file()


async def test_pool_acquire_keeps_existing_gitignore_and_mode(tmp_path: Path) -> None:
    """An existing data dir keeps its mode and its .gitignore."""
    await trio.Path(tmp_path).chmod(0o755)
    (tmp_path / ".gitignore").write_text("!keep\n")
    pool = StorePool("v1")
    await pool.acquire(tmp_path)
    await pool.release(tmp_path)
    assert stat.S_IMODE((await trio.Path(tmp_path).stat()).st_mode) == 0o755
    assert (tmp_path / ".gitignore").read_text() == "!keep\n"


async def test_pool_acquire_data_dir_creation_failure(tmp_path: Path) -> None:
    """A data dir that cannot be created is a 500 naming that step."""
    (tmp_path / "file").write_text("")
    with pytest.raises(InternalError, match=r"^failed to create data directory: "):
        await StorePool("v1").acquire(tmp_path / "file" / ".crush")


async def test_pool_acquire_database_failure_releases_lock(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """A database that cannot open fails the acquire and drops the lock it took."""
    (tmp_path / DATABASE_FILE_NAME).mkdir()
    pool = StorePool("v1")
    with pytest.raises(InternalError, match=r"^failed to connect to database: "):
        await pool.acquire(tmp_path)
    assert lock_is_free(tmp_path)
    assert pool.statistics().refs == {}


def test_prepare_data_dir_skip_lock_takes_no_lock(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """prepare_data_dir with skip_lock creates the dir but locks nothing."""
    assert prepare_data_dir(tmp_path / "d", "v1", skip_lock=True) is None
    assert lock_is_free(tmp_path / "d")


# -- refcount and single flight ----------------------------------------------


async def test_pool_refcount_keys_by_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative and absolute spellings of one dir share one entry."""
    monkeypatch.chdir(tmp_path)
    pool = StorePool("v1")
    first = await pool.acquire(Path("data"))
    second = await pool.acquire(tmp_path / "sub" / ".." / "data")
    assert first is second
    assert pool.statistics().refs == {tmp_path / "data": 2}
    await pool.release(Path("data"))
    await pool.release(tmp_path / "data")
    assert pool.statistics().open_databases == 0
    assert first.closed


async def test_pool_lock_file_survives_everything(tmp_path: Path) -> None:
    """crush.lock stays on disk after release and aclose (never unlinked)."""
    pool = StorePool("v1")
    await pool.acquire(tmp_path)
    inode = (tmp_path / "crush.lock").stat().st_ino
    await pool.release(tmp_path)
    await pool.acquire(tmp_path)
    await pool.aclose()
    assert (tmp_path / "crush.lock").stat().st_ino == inode
    assert os.stat(tmp_path / "crush.lock").st_size > 0


async def test_pool_aclose_closes_everything(
    tmp_path: Path, lock_is_free: LockIsFree
) -> None:
    """aclose closes every database and lock whatever the refs, then refuses more."""
    pool = StorePool("v1")
    dirs = [tmp_path / "a", tmp_path / "b"]
    opened = [await pool.acquire(d) for d in [*dirs, dirs[0]]]
    assert pool.statistics() == PoolStatistics(
        open_databases=2, refs={dirs[0]: 2, dirs[1]: 1}, busy=0
    )
    await pool.aclose()
    assert all(db.closed for db in opened)
    assert all(lock_is_free(d) for d in dirs)
    with pytest.raises(InternalError, match=r"^store pool is closed$"):
        await pool.acquire(dirs[0])
    await pool.release(dirs[0])
    await pool.aclose()
