"""One turn: the user's prompt, model steps with tools, and every exit path.

Each step creates an assistant message, streams the model into it (deltas
debounced, structure written at once), runs the tools after the stream
ended (each result its own ``tool`` message), then records the finish
reason and the session's usage. A cancel or failure at any await leaves
every assistant message with a finish part and every tool call with a
result, written under a bounded shield (docs/agent.md 1.4, 1.8, 7.2).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

import trio

from crushd import proto
from crushd.errors import CrushdError

from . import _accounting as acct
from ._dispatch import run_calls
from ._errors import (
    CANCELLED,
    CANCELLED_TOOL_RESULT,
    FAILED_TOOL_RESULT,
    TurnFailure,
    describe_failure,
    step_finish_reason,
)
from ._history import history, prompt_message
from ._lanes import Lanes, RunOutcome, Turn
from ._live import LiveMessage, tool_message, user_message
from ._notify import publish_run_retry
from ._ports import AgentPorts
from ._prompt import session_headers, todo_reminder
from ._retry import RetryNotice, call_with_retries
from ._setup import SetupOpener, TitleStarter, TurnModel, TurnSetup
from .providers import (
    ChatMessage,
    Finish,
    Provider,
    ProviderError,
    StreamRequest,
    ToolSpec,
)
from .tools import Tool, ToolCall, ToolContext, ToolResult

log = logging.getLogger(__name__)

#: Seconds the exit path may spend writing a cancelled or failed turn.
CANCEL_PERSIST_SECONDS = 2.0


def _has_user_text(messages: Sequence[proto.Message]) -> bool:
    return any(
        m.role == "user"
        and any(p.type == "text" and p.data.get("text") for p in m.parts)
        for m in messages
    )


class TurnRunner:
    """Runs one turn of one session; create, then ``await run()`` once.

    Args:
        ports: the workspace side.
        lanes: the lanes, for folding queued prompts at step boundaries.
        turn: the accepted turn (its scope is entered here).
        open_setup: opens the model and provider (inside the turn's scope,
            so a cancel while the provider opens is a cancelled turn).
        start_title: called when the session has no user text yet.
    """

    def __init__(
        self,
        ports: AgentPorts,
        lanes: Lanes,
        turn: Turn,
        open_setup: SetupOpener,
        start_title: TitleStarter | None = None,
    ) -> None:
        self.ports = ports
        self.lanes = lanes
        self.turn = turn
        self.open_setup = open_setup
        self.start_title = start_title
        self.user_created = False
        self.assistants: list[LiveMessage] = []
        self.chat: list[ChatMessage] = []
        self.folded: list[Turn] = []
        self._model: TurnModel | None = None

    @property
    def sid(self) -> str:
        """The session id."""
        return self.turn.session_id

    async def run(self) -> RunOutcome:
        """Run the turn to its end and return its ``run_complete`` fields.

        Returns:
            The outcome: the last assistant message's id and text, plus
            ``error`` for a failure or ``cancelled`` for a cancel.

        Cancellation:
            A cancel of the turn's scope (``Lanes.cancel``) is an ordinary
            outcome. A cancel from outside (teardown) writes the cancelled
            state, bounded by ``CANCEL_PERSIST_SECONDS``, and propagates.
        """
        failure: TurnFailure | None = CANCELLED
        try:
            with self.turn.scope, self._job_guard():
                await self._body()
                failure = None
        except (ProviderError, CrushdError) as exc:
            log.info("turn of session %s failed: %r", self.sid, exc)
            failure = describe_failure(exc)
        except Exception as exc:
            log.exception("turn of session %s failed", self.sid)
            failure = describe_failure(exc)
        finally:
            if failure is not None:
                with trio.move_on_after(CANCEL_PERSIST_SECONDS, shield=True):
                    await self._record_exit(failure)
        return self.outcome(failure)

    def _job_guard(self) -> contextlib.AbstractContextManager[None]:
        """Stop the shell jobs this turn auto-backgrounded if it is cancelled."""
        jobs = self.ports.jobs
        return contextlib.nullcontext() if jobs is None else jobs.turn_guard()

    def outcome(self, failure: TurnFailure | None, *, error: str = "") -> RunOutcome:
        """The ``run_complete`` fields for the turn as it stands.

        Args:
            failure: how the turn failed, ``None`` for success.
            error: an error text overriding the failure's.
        """
        last = self.assistants[-1] if self.assistants else None
        return RunOutcome(
            message_id=last.id if last else "",
            text=last.text if last else "",
            error=error or (failure.error if failure else ""),
            cancelled=bool(failure and failure.cancelled) and not error,
        )

    async def _body(self) -> None:
        async with self.open_setup() as setup:
            self._model = setup.model
            await self._start(setup)
            rules = acct.StopRules(setup.max_steps)
            while await self._step(setup, rules):
                pass

    async def _start(self, setup: TurnSetup) -> None:
        session = await self.ports.sessions.get(self.sid)
        stored = await self.ports.messages.list(self.sid)
        if self.start_title is not None and not _has_user_text(stored):
            self.start_title(self.sid, self.turn.prompt)
        await self._create_user(self.turn)
        images = setup.model.model.supports_attachments
        self.chat = [
            ChatMessage("system", setup.system_prompt),
            todo_reminder(session.todos),
            *history(
                stored,
                supports_images=images,
                summary_message_id=session.summary_message_id,
            ),
            prompt_message(self.turn.prompt, self.turn.attachments, images),
        ]

    async def _create_user(self, turn: Turn) -> None:
        message = user_message(self.sid, turn.prompt, turn.attachments)
        await self.ports.messages.create(message)
        if turn is self.turn:
            self.user_created = True

    async def _fold(self, setup: TurnSetup) -> None:
        images = setup.model.model.supports_attachments
        for queued in self.lanes.take_folds(self.turn):
            self.folded.append(queued)
            await self._create_user(queued)
            self.chat.append(prompt_message(queued.prompt, queued.attachments, images))

    async def _step(self, setup: TurnSetup, rules: acct.StopRules) -> bool:
        """One model call and its tools; True when the turn goes on."""
        await self._fold(setup)
        live = LiveMessage(self.sid, setup.model.model.id, setup.model.provider_id)
        self.assistants.append(live)
        await self.ports.messages.create(live.snapshot())
        request = setup.model.request(
            tuple(self.chat), _specs(setup.tools), session_headers(self.sid)
        )

        async def reset(notice: RetryNotice) -> None:
            log.info(
                "model call failed, retrying in %.1f s: %r",
                notice.delay_seconds,
                notice.error,
            )
            live.reset()
            await self.ports.messages.update_now(live.snapshot())
            publish_run_retry(self.ports.events, self.turn, notice)

        finish = await call_with_retries(
            lambda: self._stream(setup.provider, request, live), reset, setup.retry
        )
        results = await self._run_tools(setup, live)
        return await self._finish_step(setup, rules, live, finish, results)

    async def _stream(
        self, provider: Provider, request: StreamRequest, live: LiveMessage
    ) -> Finish:
        finish = Finish("unknown", None)
        events = provider.stream(request)
        try:
            async for event in events:
                if isinstance(event, Finish):
                    finish = event
                if live.apply(event):
                    await self.ports.messages.update_now(live.snapshot())
                else:
                    self.ports.messages.update_soon(live.snapshot())
        finally:
            await close_stream(events)
        return finish

    async def _run_tools(
        self, setup: TurnSetup, live: LiveMessage
    ) -> list[tuple[ToolCall, ToolResult]]:
        results: list[tuple[ToolCall, ToolResult]] = []
        tools = {tool.name: tool for tool in setup.tools}

        def context(call: ToolCall) -> ToolContext:
            extra = {} if self.ports.http is None else {"http": self.ports.http}
            return ToolContext(
                session_id=self.sid,
                message_id=live.id,
                tool_call_id=call.id,
                root=self.ports.root,
                reads=self.ports.reads,
                todos=self.ports.todos,
                supports_images=setup.model.model.supports_attachments,
                config=setup.config,
                permissions=self.ports.permissions,
                history=self.ports.history,
                questions=self.ports.questions if setup.interactive else None,
                jobs=self.ports.jobs,
                **extra,
            )

        async def record(call: ToolCall, result: ToolResult) -> None:
            await self.ports.messages.create(tool_message(self.sid, call, result))
            results.append((call, result))

        await run_calls(live.tool_calls(), tools, context, record, live.invalid_inputs)
        return results

    async def _finish_step(
        self,
        setup: TurnSetup,
        rules: acct.StopRules,
        live: LiveMessage,
        finish: Finish,
        results: list[tuple[ToolCall, ToolResult]],
    ) -> bool:
        stop_turn = any(result.stop_turn for _, result in results)
        going_on = bool(results) and finish.reason == "tool_calls" and not stop_turn
        why = rules.record(acct.StepRecord(results))
        if going_on and why:
            live.set_finish("end_turn", acct.STOPPED, why)
            going_on = False
        else:
            live.set_finish(step_finish_reason(finish.reason, stop_turn=stop_turn))
        await self._account(setup, live, finish)
        snapshot = live.snapshot()
        await self.ports.messages.update_now(snapshot)
        by_id = {call.id: (call, result) for call, result in results}
        ordered = [by_id[c.id] for c in live.tool_calls() if c.id in by_id]
        tool_messages = [tool_message(self.sid, c, r) for c, r in ordered]
        images = setup.model.model.supports_attachments
        self.chat += history([snapshot, *tool_messages], supports_images=images)
        return going_on

    async def _account(
        self, setup: TurnSetup, live: LiveMessage, finish: Finish
    ) -> None:
        usage = finish.usage
        if usage is None:
            output = [live.text, *(c.name + c.input for c in live.tool_calls())]
            usage = acct.estimate_usage(self.chat, output)
            cost = 0.0
        else:
            cost = acct.step_cost(usage, setup.model.model)
        prompt_tokens, completion_tokens = acct.context_tokens(usage)
        await self.ports.sessions.set_usage(
            self.sid, prompt_tokens, completion_tokens, cost
        )

    async def _record_exit(self, failure: TurnFailure) -> None:
        """Write the state a cancelled or failed turn leaves (exit path)."""
        if not self.assistants and not (failure.cancelled or self.user_created):
            return  # failed before anything was written (e.g. no session)
        if not self.user_created and failure.cancelled:
            await self._create_user(self.turn)
        if not self.assistants:
            live = _empty_assistant(self.sid, self._model)
            self.assistants.append(live)
            await self.ports.messages.create(live.snapshot())
        await self._close_last(failure)

    async def _close_last(self, failure: TurnFailure) -> None:
        live = self.assistants[-1]
        live.end_reasoning()
        if live.close_calls():
            await self.ports.messages.update_now(live.snapshot())
        answered = await self._answered()
        text = CANCELLED_TOOL_RESULT if failure.cancelled else FAILED_TOOL_RESULT
        for assistant in self.assistants:
            for call in assistant.tool_calls():
                if call.id not in answered:
                    result = ToolResult(text, is_error=True)
                    await self.ports.messages.create(
                        tool_message(self.sid, call, result)
                    )
        live.set_finish(failure.reason, failure.title, failure.details)
        await self.ports.messages.update_now(live.snapshot())

    async def _answered(self) -> set[str]:
        return {
            str(part.data.get("tool_call_id", ""))
            for message in await self.ports.messages.list(self.sid)
            if message.role == "tool"
            for part in message.parts
            if part.type == "tool_result"
        }


def _empty_assistant(session_id: str, model: TurnModel | None) -> LiveMessage:
    if model is None:
        return LiveMessage(session_id)
    return LiveMessage(session_id, model.model.id, model.provider_id)


async def close_stream(events: AsyncIterator[object]) -> None:
    """Close a provider's event generator now (bounded), not at garbage collection."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with trio.move_on_after(CANCEL_PERSIST_SECONDS, shield=True):
            await aclose()


def _specs(tools: Sequence[Tool]) -> tuple[ToolSpec, ...]:
    return tuple(ToolSpec(t.name, t.description, t.parameters) for t in tools)
