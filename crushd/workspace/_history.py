"""File history: the versions of each file the agent changed, per session.

Each write by ``edit``, ``multiedit`` or ``write`` records, in the ``files``
table and in this order: an initial version holding the old content when the
session has no version of the path yet (``""`` for a created file); the
content found on disk when it differs from the latest stored version (someone
changed the file outside the agent); then the new content. Each insert is
published as ``file`` / ``created`` after it committed. Recording never fails
the tool that wrote the file: errors are logged, as upstream logs its
version errors.

Source: Crush ``internal/history/file.go`` and the callers in
``internal/agent/tools/{edit,multiedit,write}.go``; docs/agent.md 2.3,
docs/protocol.md 3.3 (the ``file`` event).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from crushd.errors import CrushdError, SessionNotFound
from crushd.proto import CREATED

from ._eventlog import EventLog

if TYPE_CHECKING:
    import sqlite3

    from crushd.store import FileStore

log = logging.getLogger("crushd.workspace")

#: The outer event type of a file-history version.
FILE_EVENT = "file"

_LATEST = """
    SELECT content FROM files WHERE session_id = ? AND path = ?
    ORDER BY version DESC, created_at DESC, rowid DESC LIMIT 1
"""


class FileHistoryService:
    """The workspace's file history (the agent tools' ``FileHistory``).

    Args:
        files: the workspace database's ``files`` table.
        event_log: where ``file`` events are published.
    """

    def __init__(self, files: FileStore, event_log: EventLog) -> None:
        self._files = files
        self._log = event_log
        self._lock = trio.Lock()  # one record_write at a time: check, then insert

    async def record_write(
        self, session_id: str, path: Path, old_content: str, new_content: str
    ) -> None:
        """Record a write of ``path`` in ``session_id``'s history; never raises.

        Args:
            session_id: the session whose agent wrote the file.
            path: the file (absolute); stored as ``str(path)``.
            old_content: the text on disk before the write (``""`` if created).
            new_content: the text written.

        An unknown session is logged at debug level, a database failure as a
        warning; versions inserted before a failure stay (and were published).
        """
        async with self._lock:
            try:
                await self._record(session_id, str(path), old_content, new_content)
            except SessionNotFound:
                log.debug("history of %s not recorded: no session %s", path, session_id)
            except CrushdError as exc:
                log.warning("history of %s not recorded: %s", path, exc.message)

    async def _record(self, session_id: str, path: str, old: str, new: str) -> None:
        latest = await self._latest(session_id, path)
        if latest is None or latest != old:
            await self._create(session_id, path, old)
        await self._create(session_id, path, new)

    async def _latest(self, session_id: str, path: str) -> str | None:
        """Return the content of the session's latest version of ``path``."""

        def query(connection: sqlite3.Connection) -> str | None:
            row = connection.execute(_LATEST, (session_id, path)).fetchone()
            return None if row is None else str(row[0])

        return await self._files.db.run(query)

    async def _create(self, session_id: str, path: str, content: str) -> None:
        version = await self._files.create(session_id, path, content)
        self._log.publish(FILE_EVENT, CREATED, version)
