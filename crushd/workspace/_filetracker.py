"""The file tracker: which files each session's agent read, and when.

The agent's ``view`` tool records a read; the edit tools compare a file's
modification time with the last read. Besides the stored time (Unix seconds),
the tracker keeps in memory, for the life of the workspace, each read file's
``(mtime_ns, size)`` as the read saw it, so a change within the same second
is caught too (docs/agent.md 2.3). Paths are stored relative to the
workspace folder when inside it, else absolute (upstream stores them relative
to the server process's working directory, which is whatever the first
spawner's was; docs/protocol.md 2.4). Recording never fails its caller:
errors are logged, as upstream.

Source: Crush ``internal/filetracker/service.go``; docs/agent.md 7.5.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from crushd.errors import CrushdError, SessionNotFound

# Only a type here: the routes import ``rfc3339`` at daemon start, and the
# store (sqlite3) must stay unloaded until a workspace opens.
if TYPE_CHECKING:
    from crushd.store import ReadFileStore

log = logging.getLogger("crushd.workspace")

#: ``lastread``'s answer for a file never read: Go's zero ``time.Time``.
NEVER_READ = "0001-01-01T00:00:00Z"


def rfc3339(unix_seconds: float) -> str:
    """Format Unix seconds as RFC 3339 in UTC (``NEVER_READ`` for 0 or less)."""
    if unix_seconds <= 0:
        return NEVER_READ
    moment = datetime.fromtimestamp(int(unix_seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FileTracker:
    """The workspace's read tracker (the agent tools' ``ReadTracker``).

    Args:
        store: the workspace database's ``read_files`` table.
        root: the workspace folder (absolute, canonical).
    """

    def __init__(self, store: ReadFileStore, root: Path) -> None:
        self._store = store
        self.root = root
        self._stamps: dict[tuple[str, str], tuple[int, int]] = {}

    def stored_path(self, path: Path | str) -> str:
        """Return the form ``path`` is stored in (lexically normalised).

        A relative ``path`` is taken relative to the workspace folder. Inside
        the folder the result is relative to it (``"."`` for the folder
        itself), outside it is absolute. Symlinks are not resolved.
        """
        full = os.path.normpath(os.path.join(self.root, os.fspath(path)))
        relative = os.path.relpath(full, self.root)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return full
        return relative

    def absolute(self, stored: str) -> str:
        """Return the absolute path of a stored path."""
        return os.path.normpath(os.path.join(self.root, stored))

    async def record_read(self, session_id: str, path: Path | str) -> None:
        """Remember that ``session_id`` read ``path`` now; never raises.

        An unknown session or a database failure is logged and ignored. The
        file's ``(mtime_ns, size)`` is remembered too (forgotten when it
        cannot be read).
        """
        key = (session_id, self.stored_path(path))
        stamp = await trio.to_thread.run_sync(_stamp, self.absolute(key[1]))
        if stamp is None:
            self._stamps.pop(key, None)
        else:
            self._stamps[key] = stamp
        try:
            await self._store.record(session_id, key[1])
        except SessionNotFound:
            log.debug("file read not recorded: no session %s", session_id)
        except CrushdError as exc:
            log.warning("file read of %s not recorded: %s", path, exc.message)

    def read_stamp(self, session_id: str, path: Path | str) -> tuple[int, int] | None:
        """Return ``(mtime_ns, size)`` of ``path`` at ``session_id``'s last read.

        None when this workspace has not recorded a read of it since it
        opened (or the file could not be examined then).
        """
        return self._stamps.get((session_id, self.stored_path(path)))

    async def last_read(self, session_id: str, path: Path | str) -> float:
        """Return when ``session_id`` last read ``path``: Unix seconds, 0 if never.

        A database failure is logged and reads as never (0), as upstream.
        """
        try:
            at = await self._store.last_read(session_id, self.stored_path(path))
        except CrushdError as exc:
            log.warning("last read of %s unknown: %s", path, exc.message)
            return 0.0
        return float(at)

    async def read_files(self, session_id: str) -> list[str]:
        """Return the absolute paths read in a session, most recent first.

        Raises:
            InternalError: the database failed (500).
        """
        stored = await self._store.list_for_session(session_id)
        return [self.absolute(path) for path in stored]


def _stamp(path: str) -> tuple[int, int] | None:
    """Return ``(mtime_ns, size)`` of ``path``, None when it cannot be examined."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size
