"""Building a workspace: config first, then skills, then the database.

Source: Crush backend.go ``CreateWorkspace`` slow path (docs/protocol.md 2.2
step 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from crushd.config import ConfigSources
from crushd.proto import WorkspaceSpec

from ._eventlog import EventLog
from ._traffic import EventTraffic
from ._workspace import Workspace

# The services, the store and the skills scanner are imported where a
# workspace is built, so the daemon listens without them.
if TYPE_CHECKING:
    from crushd.skills import SkillsEnvironment
    from crushd.store import StorePool

__all__ = ["WorkspaceOpener"]


class WorkspaceOpener:
    """Builds workspaces: opens the data directory's database and the event log.

    Args:
        pool: the daemon's store pool (one connection per database file).
        replay_window_frames: events kept per workspace for resume (C.1);
            required, the default is ``Settings``'s.
        skills_env: home and environment for global skill folders; ``None``
            reads the daemon's own (``$HOME``, ``$CRUSH_SKILLS_DIR``) per scan.
        config_sources: the machine-wide config layers; ``None`` resolves
            them from ``environ``.
        environ: resolves ``$VAR`` config values; ``None`` means
            ``os.environ`` (decision B.17).

    Source: Crush backend.go ``CreateWorkspace`` slow path (docs/protocol.md 2.2
    step 6).
    """

    def __init__(
        self,
        pool: StorePool,
        replay_window_frames: int,
        *,
        skills_env: SkillsEnvironment | None = None,
        config_sources: ConfigSources | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        #: Every opened workspace's event log counts on this one (so their
        #: flushers see the whole daemon's traffic).
        self.traffic = EventTraffic()
        self._pool = pool
        self._replay_window_frames = replay_window_frames
        self._skills_env = skills_env
        self.config_sources = config_sources or ConfigSources.from_environ(environ)
        self._environ = environ

    async def __call__(self, spec: WorkspaceSpec) -> Workspace:
        """Build the workspace for ``spec``.

        The configuration is loaded first: it decides the data directory.

        Raises:
            ConfigInvalid: ``failed to initialize config: <file>: ...`` (500).
            InternalError: ``failed to create data directory: ...`` or
                ``failed to connect to database: ...`` (500).
            DataDirLocked: another process holds the data directory (500).
            DataDirUntrusted: the data directory, ``crush.lock`` or a database
                file is not the user's (another uid's, writable by others, or
                a symlink) (500).

        Cancellation: nothing stays open; the pool releases a half-open store.
        """
        from ._config import ConfigService
        from ._skills import open_skills

        configuration = await ConfigService.open(
            self.config_sources, Path(spec.key), spec.data_dir, self._environ
        )
        data_dir = configuration.data_dir
        event_log = EventLog(spec.id, self._replay_window_frames, traffic=self.traffic)
        # Skills are scanned before the database opens: a cancelled scan then
        # leaves nothing to release.
        skills = await open_skills(
            Path(spec.key),
            event_log,
            env=self._skills_env,
            extra_paths=configuration.current.config.options.skills_paths,
            disabled=configuration.current.config.options.disabled_skills,
        )
        database = await self._pool.acquire(data_dir)
        return Workspace(
            spec,
            data_dir,
            database,
            self._pool,
            event_log,
            configuration=configuration,
            skills=skills,
        )
