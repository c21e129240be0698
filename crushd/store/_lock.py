"""The data-directory lock: one crush process per ``<data_dir>`` at a time.

An exclusive, non-blocking BSD ``flock`` on ``<data_dir>/crush.lock``. The kernel
arbitrates: the lock belongs to one open file description, so it is released
when that descriptor closes, including when the owning process dies, and there
is no stale-lock recovery to do. The JSON written into the file only tells a
contender who the owner is; it never decides ownership.

The lock file is opened with ``O_NOFOLLOW`` and checked with ``fstat`` before
anything is written through it: a symlink planted in a committed ``.crush``
must never let the owner record truncate another file.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from crushd.errors import DataDirLocked

from ._private import PRIVATE_FILE_MODE, check_private_file, refusal

#: Name of the lock file inside the data directory.
LOCK_FILE_NAME = "crush.lock"

#: Environment variable whose truthy value bypasses the lock.
SKIP_LOCK_ENV = "CRUSH_SKIP_DATADIR_LOCK"

_TRUTHY = frozenset({"1", "t", "true", "y", "yes", "on"})
_LOCKED_TEXT = "data directory already in use by another crush process"
# O_NONBLOCK: a FIFO or device planted as crush.lock never blocks the open.
_OPEN_FLAGS = (
    os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
)
#: Most bytes of an owner record read back for the contention message.
_OWNER_MAX_BYTES = 4096

log = logging.getLogger(__name__)


def skip_lock_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Tell whether ``CRUSH_SKIP_DATADIR_LOCK`` asks to bypass the lock.

    Args:
        environ: the environment to read; ``None`` means ``os.environ``.

    Returns:
        True for ``1``, ``t``, ``true``, ``y``, ``yes`` or ``on`` (any case,
        surrounding blanks ignored); False for anything else or when unset.

    Source: Crush ``internal/db/datadirlock.go`` ``skipDataDirLock`` (an escape
    hatch for filesystems without working advisory locks).
    """
    env = os.environ if environ is None else environ
    return env.get(SKIP_LOCK_ENV, "").strip().lower() in _TRUTHY


@attrs.frozen
class OwnerInfo:
    """What the lock's owner wrote into ``crush.lock``; zero values when unknown.

    Attributes:
        pid: the owner's process id, 0 when unknown.
        version: the owner's crushd version, ``""`` when unknown.
        started_at: when it took the lock, RFC 3339 UTC, ``""`` when unknown.
    """

    pid: int = 0
    version: str = ""
    started_at: str = ""

    def describe(self) -> str:
        """Return the ``" (owner ...)"`` suffix of the contention message.

        Returns:
            ``" (owner pid=N version=V started_at=T)"`` when pid and start time
            are known, ``" (owner pid=N)"`` when only the pid is, else ``""``.
        """
        if self.pid and self.started_at:
            return (
                f" (owner pid={self.pid} version={self.version}"
                f" started_at={self.started_at})"
            )
        if self.pid:
            return f" (owner pid={self.pid})"
        return ""


def read_owner(path: Path) -> OwnerInfo:
    """Read the owner record from a lock file, tolerating any damage.

    Args:
        path: the lock file.

    Returns:
        The fields that parse with the right JSON type; a missing, empty or
        malformed file gives ``OwnerInfo()``.
    """
    try:
        return _parse_owner(path.read_bytes())
    except OSError:
        return OwnerInfo()


def _parse_owner(data: bytes) -> OwnerInfo:
    try:
        raw = json.loads(data)
    except ValueError:
        return OwnerInfo()
    if not isinstance(raw, dict):
        return OwnerInfo()
    pid = raw.get("pid")
    version = raw.get("version")
    started_at = raw.get("started_at")
    return OwnerInfo(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
        version=version if isinstance(version, str) else "",
        started_at=started_at if isinstance(started_at, str) else "",
    )


def owner_json(pid: int, version: str, now: datetime.datetime) -> bytes:
    """Encode the owner record as pretty JSON with a trailing newline.

    Empty ``version`` is left out, as upstream's ``omitempty`` does.
    """
    record: dict[str, object] = {"pid": pid}
    if version:
        record["version"] = version
    record["started_at"] = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (json.dumps(record, indent=2) + "\n").encode()


class DataDirLock:
    """An acquired ``<data_dir>/crush.lock``; release it exactly once.

    Build it with ``DataDirLock.acquire``. The lock file is never unlinked:
    ``flock`` is tied to the inode, and deleting the path would let a second
    process lock a fresh inode at the same path while the first still holds the
    old one. The descriptor is close-on-exec, so processes the daemon spawns do
    not inherit the lock.

    Attributes:
        path: the lock file.

    Source: Crush ``internal/db/datadirlock.go`` and ``datadirlock_unix.go``;
    docs/protocol.md 7.5.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path, version: str) -> DataDirLock:
        """Take the lock without blocking, then record this process as owner.

        Synchronous and quick (open, ``flock(LOCK_EX | LOCK_NB)``, a small
        write); the lock file is created with mode 0600 when missing, and an
        existing one of ours is set to 0600. A failure to write the owner
        record is logged and ignored: it only degrades what a contender is
        told.

        Args:
            data_dir: the data directory; it must exist.
            version: this process's version, written into the owner record.

        Returns:
            The held lock.

        Raises:
            DataDirLocked: another open file description holds the lock (500);
                the message names ``data_dir`` and the owner it recorded.
            DataDirUntrusted: ``crush.lock`` is a symlink, not a regular file,
                or another uid's (500); nothing was written.
            OSError: the lock file cannot be opened or locked for another reason.
        """
        path = data_dir / LOCK_FILE_NAME
        fd = _open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            suffix = _recorded_owner(fd).describe()
            os.close(fd)
            raise DataDirLocked(f"{_LOCKED_TEXT}: {data_dir}{suffix}") from None
        except BaseException:
            os.close(fd)
            raise
        lock = cls(path, fd)
        lock._write_owner(version)
        return lock

    @property
    def released(self) -> bool:
        """Whether ``release`` has run."""
        return self._fd is None

    def release(self) -> None:
        """Drop the lock and close its descriptor; idempotent, never blocks."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _write_owner(self, version: str) -> None:
        assert self._fd is not None
        now = datetime.datetime.now(datetime.UTC)
        payload = owner_json(os.getpid(), version, now)
        try:
            # Rewrite through the locked descriptor: the inode never changes.
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, payload, 0)
        except OSError as exc:
            log.debug("failed to write data-dir owner info to %s: %s", self.path, exc)


def _recorded_owner(fd: int) -> OwnerInfo:
    # Read through the checked descriptor, never by path again.
    try:
        return _parse_owner(os.pread(fd, _OWNER_MAX_BYTES, 0))
    except OSError:
        return OwnerInfo()


def _open_lock_file(path: Path) -> int:
    # O_NOFOLLOW, then fstat: what is checked is what was opened.
    try:
        fd = os.open(path, _OPEN_FLAGS, PRIVATE_FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refusal(path, "it is a symbolic link") from None
        raise
    try:
        if check_private_file(path, os.fstat(fd)):
            os.fchmod(fd, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd
