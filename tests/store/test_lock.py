"""Tests for crushd.store._lock: the data-dir flock and its owner record."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from crushd.errors import DataDirLocked
from crushd.store import (
    LOCK_FILE_NAME,
    DataDirLock,
    OwnerInfo,
    read_owner,
    skip_lock_from_env,
)

LOCKED = "data directory already in use by another crush process"


def test_data_dir_lock_acquire_creates_private_file(tmp_path: Path) -> None:
    """Acquiring creates crush.lock with mode 0600 in the data directory."""
    lock = DataDirLock.acquire(tmp_path, "v1.2.3")
    try:
        mode = stat.S_IMODE((tmp_path / LOCK_FILE_NAME).stat().st_mode)
        assert mode == 0o600
        assert lock.path == tmp_path / LOCK_FILE_NAME
    finally:
        lock.release()


def test_data_dir_lock_acquire_writes_pretty_owner_json(tmp_path: Path) -> None:
    """The owner rewrites the file as indented JSON with pid, version, UTC start."""
    (tmp_path / LOCK_FILE_NAME).write_text("stale owner text that is much longer\n")
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    lock = DataDirLock.acquire(tmp_path, "v1.2.3")
    try:
        text = (tmp_path / LOCK_FILE_NAME).read_text()
    finally:
        lock.release()
    record = json.loads(text)
    assert text == json.dumps(record, indent=2) + "\n"
    assert list(record) == ["pid", "version", "started_at"]
    assert record["pid"] == os.getpid()
    assert record["version"] == "v1.2.3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["started_at"])
    assert datetime.datetime.fromisoformat(record["started_at"]) >= before


def test_data_dir_lock_empty_version_is_omitted(tmp_path: Path) -> None:
    """An empty version is left out of the owner record, as Go's omitempty."""
    lock = DataDirLock.acquire(tmp_path, "")
    lock.release()
    record = json.loads((tmp_path / LOCK_FILE_NAME).read_text())
    assert set(record) == {"pid", "started_at"}


def test_data_dir_lock_contended_by_other_description(tmp_path: Path) -> None:
    """A second acquire in the same process contends: flock is per description."""
    first = DataDirLock.acquire(tmp_path, "v1")
    try:
        with pytest.raises(DataDirLocked) as caught:
            DataDirLock.acquire(tmp_path, "v2")
    finally:
        first.release()
    record = json.loads((tmp_path / LOCK_FILE_NAME).read_text())
    assert caught.value.message == (
        f"{LOCKED}: {tmp_path} (owner pid={os.getpid()} version=v1"
        f" started_at={record['started_at']})"
    )
    assert record["version"] == "v1"


@pytest.mark.parametrize(
    ("content", "suffix"),
    [
        (
            b'{"pid": 42, "version": "v9", "started_at": "T"}',
            " (owner pid=42 version=v9 started_at=T)",
        ),
        (b'{"pid": 42, "started_at": "T"}', " (owner pid=42 version= started_at=T)"),
        (b'{"pid": 42, "version": "v9"}', " (owner pid=42)"),
        (b'{"pid": 0, "started_at": "T"}', ""),
        (b'{"pid": "42", "started_at": "T"}', ""),
        (b"[1, 2]", ""),
        (b"not json at all", ""),
        (b"", ""),
    ],
)  # fmt: skip
def test_data_dir_lock_contention_message_describes_owner(
    tmp_path: Path, hold_lock: Callable[..., None], content: bytes, suffix: str
) -> None:
    """The contention message carries whatever owner fields parse, else nothing."""
    hold_lock(tmp_path, content)
    with pytest.raises(DataDirLocked) as caught:
        DataDirLock.acquire(tmp_path, "v1")
    assert caught.value.message == f"{LOCKED}: {tmp_path}{suffix}"
    assert caught.value.status == 500


def test_data_dir_lock_contention_leaves_owner_record(
    tmp_path: Path, hold_lock: Callable[..., None]
) -> None:
    """A failed acquire never rewrites the holder's owner record."""
    hold_lock(tmp_path, b'{"pid": 42}\n')
    with pytest.raises(DataDirLocked):
        DataDirLock.acquire(tmp_path, "v1")
    assert (tmp_path / LOCK_FILE_NAME).read_bytes() == b'{"pid": 42}\n'


def test_data_dir_lock_release_frees_but_never_unlinks(
    tmp_path: Path, lock_is_free: Callable[[Path], bool]
) -> None:
    """Release drops the flock and keeps the file (same inode) in place."""
    lock = DataDirLock.acquire(tmp_path, "v1")
    inode = (tmp_path / LOCK_FILE_NAME).stat().st_ino
    assert not lock_is_free(tmp_path)
    lock.release()
    assert lock.released
    assert lock_is_free(tmp_path)
    assert (tmp_path / LOCK_FILE_NAME).stat().st_ino == inode
    again = DataDirLock.acquire(tmp_path, "v1")
    again.release()
    assert (tmp_path / LOCK_FILE_NAME).stat().st_ino == inode


def test_data_dir_lock_release_is_idempotent(tmp_path: Path) -> None:
    """Releasing twice is harmless and leaves the lock free."""
    lock = DataDirLock.acquire(tmp_path, "v1")
    lock.release()
    lock.release()
    DataDirLock.acquire(tmp_path, "v1").release()


def test_data_dir_lock_acquire_missing_dir_raises_os_error(tmp_path: Path) -> None:
    """Acquiring in a directory that does not exist is an OSError, not contention."""
    with pytest.raises(FileNotFoundError):
        DataDirLock.acquire(tmp_path / "missing", "v1")


_CRASHING_OWNER = """
import os, subprocess, sys
from pathlib import Path
from crushd.store import DataDirLock
DataDirLock.acquire(Path(sys.argv[1]), "v1")
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"],
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    close_fds=False,
)
print(child.pid, flush=True)
os._exit(0)  # die holding the lock, without releasing it
"""


async def test_data_dir_lock_not_inherited_by_children(
    tmp_path: Path, lock_is_free: Callable[[Path], bool]
) -> None:
    """When the owner dies, a child it spawned does not keep the lock alive."""
    argv = [sys.executable, "-c", _CRASHING_OWNER, str(tmp_path)]
    owner = await trio.run_process(argv, capture_stdout=True)
    child_pid = int(owner.stdout)
    try:
        assert lock_is_free(tmp_path)
    finally:
        os.kill(child_pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("t", True),
        ("yes", True),
        ("on", True),
        (" On ", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
        ("maybe", False),
        (None, False),
    ],
)
def test_skip_lock_from_env_truthy_values(value: str | None, expected: bool) -> None:
    """Only the usual truthy spellings of CRUSH_SKIP_DATADIR_LOCK bypass the lock."""
    environ = {} if value is None else {"CRUSH_SKIP_DATADIR_LOCK": value}
    assert skip_lock_from_env(environ) is expected


def test_skip_lock_from_env_reads_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit mapping the process environment is read."""
    monkeypatch.setenv("CRUSH_SKIP_DATADIR_LOCK", "yes")
    assert skip_lock_from_env()
    monkeypatch.setenv("CRUSH_SKIP_DATADIR_LOCK", "0")
    assert not skip_lock_from_env()


def test_read_owner_missing_file_is_unknown(tmp_path: Path) -> None:
    """A missing lock file reads as an unknown owner."""
    assert read_owner(tmp_path / LOCK_FILE_NAME) == OwnerInfo()
