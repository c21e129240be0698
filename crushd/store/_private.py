"""The data directory's own files: regular files of ours, mode 0600, never symlinks.

A data directory can arrive with a repository (a committed ``.crush``), so a
file in it may be a planted symlink that makes a write land on another file
(found: ``.crush/crush.lock -> ~/precious`` was truncated). Every file crushd
opens there is checked first: a symlink, a non-regular file or a file of
another uid is refused; one of ours with a looser mode is set to 0600, because
the database holds the user's sessions and file history.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from crushd.errors import DataDirUntrusted

__all__ = [
    "PRIVATE_FILE_MODE",
    "check_private_file",
    "make_private",
    "refusal",
]

#: Mode of every file crushd keeps in a data directory.
PRIVATE_FILE_MODE = 0o600

_PREFIX = "failed to connect to database"


def refusal(path: Path, why: str) -> DataDirUntrusted:
    """Return the 500 for a data-directory file crushd will not open."""
    return DataDirUntrusted(f"{_PREFIX}: refusing to open {path}: {why}")


def check_private_file(path: Path, st: os.stat_result) -> bool:
    """Check a data-directory file's ``lstat``/``fstat``; tell if its mode is loose.

    Returns:
        True when the file is fine but its mode is not ``PRIVATE_FILE_MODE``.

    Raises:
        DataDirUntrusted: a symlink, not a regular file, or owned by a uid
            other than this process's (or root's) (500).
    """
    if stat.S_ISLNK(st.st_mode):
        raise refusal(path, "it is a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        raise refusal(path, "it is not a regular file")
    # The owners the trust rule accepts: this process's uid, or root.
    if st.st_uid not in (os.geteuid(), 0):
        raise refusal(path, f"owned by uid {st.st_uid}")
    return stat.S_IMODE(st.st_mode) != PRIVATE_FILE_MODE


def make_private(path: Path) -> None:
    """Check ``path`` (not followed) and set it to mode 0600; absent is fine.

    Never opens the file: closing any descriptor of a SQLite file would drop
    the POSIX locks this process's connection holds on it. Blocking.

    Raises:
        DataDirUntrusted: see ``check_private_file`` (500).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if check_private_file(path, st):
        # Not a symlink (checked above), so chmod changes this very file.
        os.chmod(path, PRIVATE_FILE_MODE)
