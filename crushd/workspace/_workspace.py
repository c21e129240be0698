"""One live workspace: its spec, data directory, database, event log and services."""

from __future__ import annotations

import logging
from pathlib import Path

from crushd import __version__
from crushd.proto import Workspace as WireWorkspace
from crushd.skills import SkillCatalog, SkillsEnvironment
from crushd.store import Database, FileStore, MessageStore, SessionStore, StorePool

from ._eventlog import EventLog
from ._sessions import SessionService
from ._skills import SkillsService, open_skills
from ._spec import WorkspaceSpec

log = logging.getLogger("crushd.workspace")


class Workspace:
    """A live workspace; built by ``WorkspaceOpener``, closed by the registry.

    Attributes:
        spec: the flags it was built with (the first creator's).
        data_dir: the absolute data directory holding ``crush.db``.
        log: the event log every stream of this workspace reads.
        sessions: session CRUD publishing ``session`` events.
        messages: message queries.
        files: file-history queries.
        skills: the skill catalog, rescanned on demand, publishing
            ``skills_event``; an empty one when not given.
    """

    def __init__(
        self,
        spec: WorkspaceSpec,
        data_dir: Path,
        database: Database,
        pool: StorePool,
        event_log: EventLog,
        *,
        skills: SkillsService | None = None,
    ) -> None:
        self.spec = spec
        self.data_dir = data_dir
        self.log = event_log
        self.sessions = SessionService(SessionStore(database), event_log)
        self.messages = MessageStore(database)
        self.files = FileStore(database)
        self.skills = skills or SkillsService(Path(spec.key), event_log, SkillCatalog())
        self._pool = pool
        self._closed = False

    @property
    def id(self) -> str:
        """The workspace id (UUIDv4 string)."""
        return self.spec.id

    def config(self) -> dict[str, object]:
        """Return the workspace's effective configuration (minimal for now).

        Only the options this daemon decides are reported: the data directory
        and debug flag. Layered ``crush.json`` loading is a later issue.
        """
        options = {"data_directory": str(self.data_dir), "debug": self.spec.debug}
        return {"options": options}

    def to_wire(self) -> WireWorkspace:
        """Return the workspace as the wire model (PROTOCOL.md 2.2)."""
        return WireWorkspace(
            id=self.id,
            path=self.spec.path,
            yolo=self.spec.yolo,
            debug=self.spec.debug,
            data_dir=str(self.data_dir),
            version=__version__,
            config=self.config(),
            env=list(self.spec.env),
            channels=list(self.spec.channels),
            skills=self.skills.states(),
        )

    async def aclose(self) -> None:
        """Close the event log and release the database; idempotent.

        Cancellation: call under a bounded shielded scope (the registry does);
        if cancelled midway the database reference may stay held.
        """
        if self._closed:
            return
        self._closed = True
        self.log.close()
        await self._pool.release(self.data_dir)
        log.debug("workspace %s closed", self.id)


class WorkspaceOpener:
    """Builds workspaces: opens the data directory's database and the event log.

    Args:
        pool: the daemon's store pool (one connection per database file).
        replay_window_frames: events kept per workspace for resume (C.1).
        skills_env: home and environment for global skill folders; ``None``
            reads the daemon's own (``$HOME``, ``$CRUSH_SKILLS_DIR``) per scan.

    Source: Crush backend.go ``CreateWorkspace`` slow path (PROTOCOL.md 2.2 step 6).
    """

    def __init__(
        self,
        pool: StorePool,
        replay_window_frames: int = 4096,
        *,
        skills_env: SkillsEnvironment | None = None,
    ) -> None:
        self._pool = pool
        self._replay_window_frames = replay_window_frames
        self._skills_env = skills_env

    async def __call__(self, spec: WorkspaceSpec) -> Workspace:
        """Build the workspace for ``spec``.

        Raises:
            InternalError: ``failed to create data directory: ...`` or
                ``failed to connect to database: ...`` (500).
            DataDirLocked: another process holds the data directory (500).

        Cancellation: nothing stays open; the pool releases a half-open store.
        """
        data_dir = spec.resolved_data_dir()
        event_log = EventLog(spec.id, self._replay_window_frames)
        # Skills are scanned before the database opens: a cancelled scan then
        # leaves nothing to release.
        skills = await open_skills(Path(spec.key), event_log, env=self._skills_env)
        database = await self._pool.acquire(data_dir)
        return Workspace(spec, data_dir, database, self._pool, event_log, skills=skills)
