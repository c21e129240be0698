"""The workspace's agent: accepts prompts, runs them, reports how they ended.

``submit`` decides synchronously (validation, then one lane transition) and
never touches the database, so ``POST /agent`` answers 202 at once. Runs
belong to the agent nursery that ``serve`` owns inside the workspace, never
to a request: a client that leaves does not stop its run; only a cancel or
the workspace's teardown does. Every turn rebuilds its model and tools from
the current config (docs/agent.md 1.2-1.4, 7.2).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import trio

from crushd.errors import (
    AgentNotInitialized,
    EmptyPrompt,
    InternalError,
    SessionIdMissing,
)

from ._errors import CANCELLED
from ._lanes import Lanes, PromptAttachment, RunOutcome, Turn
from ._notify import agent_info, publish_run_complete, publish_turn_end
from ._ports import AgentPorts
from ._prompt import load_system_prompt
from ._provider_pool import ProviderPool
from ._readiness import (
    ProviderFactory,
    default_open_provider,
    prepare_codecs,
    warm_providers,
    warm_sdk,
)
from ._setup import TurnSetup
from ._stats import AGENT_STATS
from ._title import generate_title
from ._turn import CANCEL_PERSIST_SECONDS, TurnRunner
from .providers import Models, resolve_models
from .tools import build_tools

if TYPE_CHECKING:
    from crushd.config import Config

log = logging.getLogger(__name__)

#: The outcome of a queued prompt dropped by a cancel, clear or teardown.
_DROPPED = RunOutcome(cancelled=True)


class AgentCoordinator:
    """The agent of one workspace.

    Args:
        ports: the workspace side (messages, sessions, events, ...).
        config_source: returns the workspace's current config.
        open_provider: opens a provider for a model; the default imports the
            ``openai`` SDK in a worker thread the first time and lines the
            reads up with ``ports.read_window``. Providers are kept and
            shared by the turns and title jobs (``ProviderPool``).
        resolve: picks the large and small models from a config.
        warm_up: awaited at ``init`` to preload the SDK (a thread import).

    Source: Crush ``internal/agent/coordinator.go`` and ``internal/backend/agent.go``.
    """

    def __init__(
        self,
        ports: AgentPorts,
        config_source: Callable[[], Config],
        *,
        open_provider: ProviderFactory | None = None,
        resolve: Callable[[Config, Mapping[str, str]], Models] = resolve_models,
        warm_up: Callable[[], Awaitable[None]] = warm_sdk,
    ) -> None:
        self.ports = ports
        self._config_source = config_source
        default = functools.partial(default_open_provider, window=ports.read_window)
        self._providers = ProviderPool(open_provider or default)
        self._resolve = resolve
        self._warm_up = warm_up
        self.lanes = Lanes()
        self.interactive = False
        self._nursery: trio.Nursery | None = None
        self._ready: trio.Event | None = None
        self._models: Models | None = None
        self._system_prompt = ""

    # -- life cycle --------------------------------------------------------

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Own the agent nursery until cancelled (started by the workspace).

        Cancellation:
            On cancel the lanes are torn down first (new prompts refused,
            queued ones dropped with their cancelled ``run_complete``), then
            the running turns write their cancelled state, each within
            ``CANCEL_PERSIST_SECONDS``, and the nursery exits; then the
            providers kept for reuse are closed (shielded, bounded).
        """
        try:
            async with trio.open_nursery() as nursery:
                if self.ports.jobs is not None:
                    await nursery.start(self.ports.jobs.serve)
                self._nursery = nursery
                task_status.started()
                try:
                    await trio.sleep_forever()
                finally:
                    self.close()
        finally:
            await self._providers.aclose()

    def close(self) -> None:
        """Refuse new prompts, cancel every turn, drop every queue; idempotent."""
        self._publish_dropped(self.lanes.teardown())

    async def init(self, interactive: bool = False) -> None:
        """Create the agent: resolve the models, start readiness; idempotent.

        A second call keeps the agent (``interactive`` may only be turned
        on). Readiness (system prompt, then ``_readiness``: the SDK import in
        a worker thread, codecs, the models' providers) runs in the agent
        nursery; turns wait for it.

        Raises:
            ModelUnavailable: the config selects no usable model (500, with
                upstream's texts).
            InternalError: the agent is not running (500).
        """
        if self._nursery is None:
            raise InternalError("agent is not running")
        config = self._config_source()
        models = self._resolve(config, self.ports.environ)
        self.interactive = self.interactive or interactive
        if self._ready is not None:
            return
        self._models = models
        self._ready = trio.Event()
        self._nursery.start_soon(self._prepare, config, self._ready)

    async def update(self) -> None:
        """Re-resolve the models and rebuild the system prompt from the config.

        Raises:
            AgentNotInitialized: before ``init`` (400).
            ModelUnavailable: the config selects no usable model (500).
        """
        if self._ready is None or self._nursery is None:
            raise AgentNotInitialized
        config = self._config_source()
        self._models = self._resolve(config, self.ports.environ)
        self._nursery.start_soon(self._prepare, config, trio.Event())

    async def _prepare(self, config: Config, ready: trio.Event) -> None:
        try:
            self._system_prompt = await load_system_prompt(
                self.ports.root, config.options.context_paths
            )
            await self._warm_up()
            await prepare_codecs()
            await warm_providers(self._providers, self._models)
        except Exception:  # readiness problems surface on the turn instead
            log.exception("agent readiness failed")
        finally:
            ready.set()

    # -- prompts -----------------------------------------------------------

    def submit(
        self,
        session_id: str,
        prompt: str,
        *,
        run_id: str = "",
        client_id: str = "",
        attachments: Sequence[PromptAttachment] = (),
        delivery: str = "",
    ) -> None:
        """Accept a prompt: start a turn, or queue it behind the running one.

        Synchronous, no database access: the route answers 202 right after.
        Checks in upstream's order; the session's existence is checked by
        the turn.

        Raises:
            AgentNotInitialized: before ``agent/init`` (400).
            EmptyPrompt: no prompt text and no ``text/*`` attachment (400).
            SessionIdMissing: ``session_id`` is empty (400).
            WorkspaceClosing: the workspace is being torn down (409).

        Source: Crush ``Backend.SendMessage``, ``agent.ValidateCall``.
        """
        if self._ready is None or self._nursery is None:
            raise AgentNotInitialized
        if not prompt and not any(a.is_text for a in attachments):
            raise EmptyPrompt
        if not session_id:
            raise SessionIdMissing
        turn = Turn(
            session_id=session_id,
            prompt=prompt,
            run_id=run_id,
            client_id=client_id,
            attachments=tuple(attachments),
            delivery=delivery,
        )
        if self.lanes.submit(turn):
            self._nursery.start_soon(self._run_lane, turn)
            self.ports.sessions.busy_changed(session_id, True)

    def cancel(self, session_id: str) -> None:
        """Cancel the session's turn and drop its queue; idle: no-op."""
        self._publish_dropped(self.lanes.cancel(session_id))

    def clear(self, session_id: str) -> None:
        """Drop the session's queued prompts."""
        self._publish_dropped(self.lanes.clear(session_id))

    def queued(self, session_id: str) -> list[str]:
        """The session's queued prompts, oldest first."""
        return self.lanes.queued(session_id)

    def is_busy(self, session_id: str) -> bool:
        """Whether the session has a turn accepted or running."""
        return self.lanes.is_busy(session_id)

    def any_busy(self) -> bool:
        """Whether any session of the workspace is busy."""
        return bool(self.lanes.busy_sessions())

    @property
    def is_ready(self) -> bool:
        """Whether ``init`` ran and readiness finished."""
        return self._ready is not None and self._ready.is_set()

    def info(self) -> dict[str, object]:
        """The ``GET /agent`` answer (an ``AgentInfo`` as JSON data)."""
        large = self._models.large if self._models is not None else None
        return agent_info(self.any_busy(), self.is_ready, large)

    # -- running -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _open_setup(self) -> AsyncIterator[TurnSetup]:
        assert self._ready is not None
        await self._ready.wait()
        config = self._config_source()
        models = self._resolve(config, self.ports.environ)
        async with self._providers.use(models.large) as provider:
            yield TurnSetup(
                provider=provider,
                model=models.large,
                system_prompt=self._system_prompt,
                tools=build_tools(config, interactive=self.interactive),
                config=config,
                interactive=self.interactive,
            )

    async def _run_lane(self, turn: Turn | None) -> None:
        while turn is not None:
            turn = await self._run_one(turn)

    async def _run_one(self, turn: Turn) -> Turn | None:
        """Run one turn and publish its end; return the lane's next turn."""
        runner = TurnRunner(
            self.ports, self.lanes, turn, self._open_setup, self._start_title
        )
        outcome: RunOutcome | None = None
        title = ""
        started = trio.current_time()
        try:
            outcome = await self._run_guarded(runner)
            title = await self._before_end(turn.session_id)
        finally:
            if outcome is None:  # cancelled from outside (teardown)
                outcome = runner.outcome(CANCELLED)
            AGENT_STATS.run_ended(outcome, trio.current_time() - started)
            nxt = self._end_turn(turn, runner, outcome, title)
        return nxt

    async def _run_guarded(self, runner: TurnRunner) -> RunOutcome:
        try:
            return await runner.run()
        except Exception as exc:  # a bug in a turn must not end the workspace
            log.exception("turn of session %s crashed", runner.sid)
            return runner.outcome(None, error=f"internal error: {exc}")

    async def _before_end(self, session_id: str) -> str:
        """Flush the session's pending updates; return its title (bounded)."""
        title = ""
        with trio.move_on_after(CANCEL_PERSIST_SECONDS, shield=True):
            try:
                await self.ports.messages.flush_session(session_id)
                title = (await self.ports.sessions.get(session_id)).title
            except Exception:  # the session may be gone; the turn still ends
                log.exception("could not flush session %s", session_id)
        return title

    def _end_turn(
        self, turn: Turn, runner: TurnRunner, outcome: RunOutcome, title: str
    ) -> Turn | None:
        """Hand the lane on and publish the turn's last events; no await."""
        nxt = self.lanes.finish(turn, outcome)
        if nxt is None:
            self.ports.sessions.busy_changed(turn.session_id, False)
        publish_turn_end(self.ports.events, turn, outcome, title)
        for folded in runner.folded:
            if folded.run_id:
                publish_run_complete(self.ports.events, folded, outcome)
        return nxt

    def _publish_dropped(self, dropped: Sequence[Turn]) -> None:
        for turn in dropped:
            if turn.run_id:
                publish_run_complete(
                    self.ports.events, turn, RunOutcome(cancelled=True)
                )

    # -- title -------------------------------------------------------------

    def _start_title(self, session_id: str, prompt: str) -> None:
        if self._nursery is not None and self._models is not None:
            self._nursery.start_soon(self._title_job, session_id, prompt)

    async def _title_job(self, session_id: str, prompt: str) -> None:
        try:
            models = self._resolve(self._config_source(), self.ports.environ)
            await generate_title(
                self.ports.sessions,
                session_id,
                prompt,
                [models.small, models.large],
                self._providers.use,
            )
        except Exception:  # a failed title never affects the run
            log.exception("title generation failed for session %s", session_id)
