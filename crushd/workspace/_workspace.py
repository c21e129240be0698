"""One live workspace: its spec, data directory, database, event log and services."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from crushd import __version__
from crushd.config import redact_env_list
from crushd.proto import UPDATED, ConfigChanged, WorkspaceSpec
from crushd.proto import Workspace as WireWorkspace

from ._agent import AgentHandle, import_agent_modules
from ._eventlog import EventLog
from ._project import mark_initialized, needs_init

# The services, the store, the skills scanner and the config model are
# imported where a workspace is built, so the daemon listens without them.
if TYPE_CHECKING:
    from crushd.store import Database, StorePool

    from ._config import ConfigService
    from ._filetracker import FileTracker
    from ._messages import MessageService
    from ._permissions import PermissionService
    from ._questions import QuestionService
    from ._sessions import SessionService
    from ._skills import SkillsService

log = logging.getLogger("crushd.workspace")

#: The outer event type published when the effective config changed.
CONFIG_CHANGED_EVENT = "config_changed"


class Workspace:
    """A live workspace; built by ``WorkspaceOpener``, closed by the registry.

    Attributes:
        spec: the flags it was built with (the first creator's).
        data_dir: the absolute data directory holding ``crush.db``.
        root: the workspace folder (absolute, canonical).
        log: the event log every stream of this workspace reads.
        sessions: session CRUD publishing ``session`` events; also the
            agent's session sink and todo sink.
        messages: messages, written then published, streaming updates
            coalesced (the agent's message sink).
        todos: the agent tools' todo sink (the session service).
        reads: the file tracker (the agent tools' read tracker).
        files: file-history queries.
        history: file-history recording (the agent tools' file history).
        configuration: the layered config (reads redacted, scope writes).
        skills: the skill catalog, rescanned on demand, publishing
            ``skills_event``; an empty one when not given.
        permissions: the permission prompts (the tools' permission gate),
            skipped from the start when the spec says ``yolo``.
        questions: the ``question`` tool's batches.
        agent: the agent coordinator, ``None`` until one is installed.
    """

    def __init__(
        self,
        spec: WorkspaceSpec,
        data_dir: Path,
        database: Database,
        pool: StorePool,
        event_log: EventLog,
        *,
        configuration: ConfigService,
        skills: SkillsService | None = None,
    ) -> None:
        from crushd.skills import SkillCatalog
        from crushd.store import FileStore, MessageStore, ReadFileStore, SessionStore

        from ._filetracker import FileTracker
        from ._history import FileHistoryService
        from ._messages import MessageService
        from ._permissions import PermissionService
        from ._questions import QuestionService
        from ._sessions import SessionService
        from ._skills import SkillsService

        self.spec = spec
        self.data_dir = data_dir
        self.root = Path(spec.key)
        self.configuration = configuration
        self.log = event_log
        self.agent: AgentHandle | None = None
        self.sessions: SessionService = SessionService(
            SessionStore(database), event_log, self.is_busy
        )
        self.todos: SessionService = self.sessions
        self.messages: MessageService = MessageService(
            MessageStore(database),
            event_log,
            count_changed=self.sessions.message_added,
        )
        self.reads: FileTracker = FileTracker(ReadFileStore(database), self.root)
        self.files = FileStore(database)
        self.history = FileHistoryService(self.files, event_log)
        self.skills = skills or SkillsService(self.root, event_log, SkillCatalog())
        self.permissions: PermissionService = PermissionService(
            event_log,
            self.root,
            lambda: self.configuration.current.config,
            skip=spec.yolo,
        )
        self.questions: QuestionService = QuestionService(event_log)
        self._pool = pool
        self._nursery: trio.Nursery | None = None
        self._closed = False

    @property
    def id(self) -> str:
        """The workspace id (UUIDv4 string)."""
        return self.spec.id

    def is_busy(self, session_id: str) -> bool:
        """Whether the agent runs ``session_id`` now; False without an agent."""
        return self.agent is not None and self.agent.is_busy(session_id)

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the workspace's own tasks until cancelled (docs/agent.md 7.2).

        The message flusher, and the agent when one is installed; started
        in the workspace nursery by its host. Ready (``task_status``) once
        they run. Cancellation ends them; ``aclose`` then writes what the
        flusher had not.
        """
        async with trio.open_nursery() as nursery:
            await nursery.start(self.messages.serve)
            if self.agent is not None:
                await nursery.start(self.agent.serve)
            self._nursery = nursery
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                self._nursery = None

    async def ensure_agent(self) -> AgentHandle:
        """Return the workspace's agent, building and serving one if none yet.

        Atomic under Trio: nothing awaits between the check and the install,
        so concurrent ``agent/init`` calls share one coordinator (B.9).
        """
        if self.agent is None:
            await import_agent_modules()
        if self.agent is None:  # checked again: another caller may have won
            from ._agent import build_agent

            await self.install_agent(build_agent(self))
        assert self.agent is not None
        return self.agent

    async def install_agent(self, agent: AgentHandle) -> None:
        """Make ``agent`` this workspace's agent; serve it if ``serve`` runs.

        Raises:
            RuntimeError: an agent is installed already (keep the first one,
                decision B.9).
        """
        if self.agent is not None:
            raise RuntimeError("the workspace has an agent already")
        self.agent = agent
        if self._nursery is not None:
            await self._nursery.start(agent.serve)

    def config(self) -> dict[str, object]:
        """Return the effective configuration, secrets redacted (B.22).

        The creator's ``debug`` flag shows as ``options.debug`` (as upstream).
        """
        from crushd.config import deep_merge

        effective = self.configuration.effective()
        if self.spec.debug:
            effective = deep_merge(effective, {"options": {"debug": True}})
        return effective

    async def reload_config(self) -> None:
        """Reload the config, publish one ``config_changed``, rescan skills.

        A failed reload keeps the last good config (logged); the event is
        published anyway because a file it depends on changed. The skills
        rescan uses the new ``options.skills_paths`` and
        ``options.disabled_skills`` (it publishes
        ``skills_event`` itself when the states changed).

        Cancellation: callers shield it (the write it follows is committed).

        Source: Crush backend ``publishConfigChanged`` (seed 000).
        """
        await self.configuration.reload()
        self.log.publish(CONFIG_CHANGED_EVENT, UPDATED, ConfigChanged(self.id))
        options = self.configuration.current.config.options
        await self.skills.rescan(options.skills_paths, options.disabled_skills)

    async def needs_init(self) -> bool:
        """Return whether the project needs initialising (docs/protocol.md 2.9)."""
        path = Path(self.spec.key)
        return await trio.to_thread.run_sync(needs_init, path, self.data_dir)

    async def mark_initialized(self) -> None:
        """Write ``<data_dir>/init`` and publish ``config_changed`` (2.9)."""
        await trio.to_thread.run_sync(mark_initialized, self.data_dir)
        await self.reload_config()

    def pending_prompts(self) -> list[tuple[str, object]]:
        """Return what waits for a client: ``(event type, payload)`` pairs.

        The pending ``permission_request`` payloads (oldest first), then the
        ``question_batch_request`` on screen, if any; synchronous, so a
        stream attaching in the same step sees exactly these as pending.
        """
        from crushd.proto import PERMISSION_REQUEST_EVENT, QUESTION_BATCH_REQUEST_EVENT

        prompts: list[tuple[str, object]] = [
            (PERMISSION_REQUEST_EVENT, r) for r in self.permissions.pending()
        ]
        prompts += [(QUESTION_BATCH_REQUEST_EVENT, b) for b in self.questions.pending()]
        return prompts

    def to_wire(self) -> WireWorkspace:
        """Return the workspace as the wire model (docs/protocol.md 2.2)."""
        return WireWorkspace(
            id=self.id,
            path=self.spec.path,
            yolo=self.spec.yolo,
            debug=self.spec.debug or self.configuration.current.config.options.debug,
            data_dir=str(self.data_dir),
            version=__version__,
            config=self.config(),
            env=redact_env_list(list(self.spec.env)),
            channels=list(self.spec.channels),
            skills=self.skills.states(),
        )

    async def aclose(self) -> None:
        """Write pending message updates, close the log, release the database.

        Idempotent. A failing final write is logged; the database is
        released anyway.

        Cancellation: call under a bounded shielded scope (the registry does);
        if cancelled midway the database reference may stay held.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self.messages.flush_all()
        except Exception:
            log.exception("workspace %s: writing pending messages failed", self.id)
        self.log.close()
        await self._pool.release(self.data_dir)
        log.debug("workspace %s closed", self.id)
