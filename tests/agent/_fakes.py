"""In-memory fakes of the workspace ports, a scripted model and test tools.

Every fake publishes into one ``FakeEvents`` list, so a test sees the total
order of message, session, agent and run events as the workspace log would.
A fake can cancel a scope at its Nth await (``Tripwire``): the "cancel at
every await" tests walk N over a whole turn.
"""

from __future__ import annotations

import builtins
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from crushd import proto
from crushd.agent._ports import AgentPorts
from crushd.agent._setup import TurnSetup
from crushd.agent.providers import (
    ChatMessage,
    FakeProvider,
    ScriptTurn,
    StreamRequest,
    ToolSpec,
)
from crushd.agent.tools import Tool, ToolCall, ToolContext, ToolResult
from crushd.errors import SessionNotFound


class Tripwire:
    """Counts awaits across the fakes and cancels a scope at the chosen one."""

    def __init__(self) -> None:
        self.count = 0
        self.at: int | None = None
        self.scope: trio.CancelScope | None = None
        self.fired = False

    async def hit(self) -> None:
        self.count += 1
        if self.at is not None and self.count == self.at and self.scope is not None:
            self.fired = True
            self.scope.cancel()
        await trio.lowlevel.checkpoint()


@attrs.define
class FakeEvents:
    """The event log: every publish, in order."""

    log: list[tuple[str, str, Any]] = attrs.field(factory=list)

    def publish(self, type: str, event_type: str, payload: object) -> None:  # noqa: A002
        self.log.append((type, event_type, payload))

    def kinds(self) -> list[str]:
        """Short names: message/created:user, run_complete, ..."""
        out = []
        for outer, inner, payload in self.log:
            if outer == "message":
                out.append(f"message/{inner}:{payload.role}")
            else:
                out.append(f"{outer}/{inner}")
        return out


class FakeMessages:
    """MessageSink: a dict of rows; update_soon stays pending until a flush."""

    def __init__(self, events: FakeEvents, trip: Tripwire) -> None:
        self.events = events
        self.trip = trip
        self.rows: dict[str, proto.Message] = {}
        self.pending: dict[str, proto.Message] = {}
        self.fail_create_for: set[str] = set()

    async def create(self, message: proto.Message) -> proto.Message:
        await self.trip.hit()
        if message.session_id in self.fail_create_for:
            raise SessionNotFound
        self.rows[message.id] = message
        self.events.publish("message", "created", message)
        return message

    def update_soon(self, message: proto.Message) -> None:
        self.pending[message.id] = message

    async def update_now(self, message: proto.Message) -> None:
        await self.trip.hit()
        self.pending.pop(message.id, None)
        self._write(message)

    def _write(self, message: proto.Message) -> None:
        self.rows[message.id] = message
        self.events.publish("message", "updated", message)

    async def flush_session(self, session_id: str) -> None:
        await self.trip.hit()
        for mid, message in list(self.pending.items()):
            if message.session_id == session_id:
                del self.pending[mid]
                self._write(message)

    async def list(self, session_id: str) -> list[proto.Message]:
        await self.flush_session(session_id)
        return [m for m in self.rows.values() if m.session_id == session_id]

    def of(self, session_id: str) -> builtins.list[proto.Message]:
        return [m for m in self.rows.values() if m.session_id == session_id]


class FakeSessions:
    """SessionSink over a dict of sessions."""

    def __init__(self, events: FakeEvents, trip: Tripwire) -> None:
        self.events = events
        self.trip = trip
        self.sessions: dict[str, proto.Session] = {}
        self.busy: list[tuple[str, bool]] = []

    def add(self, session_id: str, **fields: Any) -> None:
        self.sessions[session_id] = proto.Session(id=session_id, title="", **fields)

    async def get(self, session_id: str) -> proto.Session:
        await self.trip.hit()
        if session_id not in self.sessions:
            raise SessionNotFound
        return self.sessions[session_id]

    async def set_usage(
        self,
        session_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        add_cost: float,
    ) -> None:
        await self.trip.hit()
        old = self.sessions[session_id]
        self._put(
            attrs.evolve(
                old,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost=old.cost + add_cost,
            )
        )

    async def set_title(self, session_id: str, title: str, add_cost: float) -> None:
        await self.trip.hit()
        old = self.sessions[session_id]
        self._put(attrs.evolve(old, title=title, cost=old.cost + add_cost))

    def _put(self, session: proto.Session) -> None:
        self.sessions[session.id] = session
        self.events.publish("session", "updated", session)

    def busy_changed(self, session_id: str, busy: bool) -> None:
        self.busy.append((session_id, busy))
        self.events.publish("session", "updated", ("busy", session_id, busy))


class FakeReads:
    async def record_read(self, session_id: str, path: Path) -> None:
        await trio.lowlevel.checkpoint()

    async def last_read(self, session_id: str, path: Path) -> float:
        await trio.lowlevel.checkpoint()
        return 0.0


class FakeTodos:
    async def set_todos(self, session_id: str, todos: list[proto.Todo]) -> None:
        await trio.lowlevel.checkpoint()


@attrs.define
class Workspace:
    """All the fakes of one workspace."""

    root: Path
    trip: Tripwire = attrs.field(factory=Tripwire)
    events: FakeEvents = attrs.field(factory=FakeEvents)
    messages: FakeMessages = attrs.field(init=False)
    sessions: FakeSessions = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.messages = FakeMessages(self.events, self.trip)
        self.sessions = FakeSessions(self.events, self.trip)

    def ports(self) -> AgentPorts:
        return AgentPorts(
            messages=self.messages,
            sessions=self.sessions,
            events=self.events,
            reads=FakeReads(),
            todos=FakeTodos(),
            root=self.root,
            environ={},
        )


@attrs.frozen
class FakeFacts:
    id: str = "big-model"
    supports_attachments: bool = False
    cost_per_1m_in: float = 1.0
    cost_per_1m_out: float = 2.0
    cost_per_1m_in_cached: float = 0.0
    cost_per_1m_out_cached: float = 0.0


@attrs.frozen
class FakeModel:
    provider_id: str = "fakeprov"
    model: FakeFacts = attrs.field(factory=FakeFacts)

    def request(
        self,
        messages: tuple[ChatMessage, ...],
        tools: tuple[ToolSpec, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> StreamRequest:
        return StreamRequest(
            model=self.model.id,
            messages=messages,
            tools=tools,
            headers=dict(headers or {}),
        )


@attrs.define
class EchoTool:
    """A tool answering its input; optional gate, failure and trip counting."""

    name: str = "echo"
    description: str = "echo"
    parameters: dict[str, object] = attrs.field(factory=lambda: {"type": "object"})
    parallel: bool = False
    gate: trio.Event | None = None
    started: list[str] = attrs.field(factory=list)
    raises: bool = False
    stop_turn: bool = False
    error: bool = False
    trip: Tripwire | None = None

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        self.started.append(call.id)
        if self.trip is not None:
            await self.trip.hit()
        if self.gate is not None:
            await self.gate.wait()
        if self.raises:
            raise RuntimeError("tool broke")
        text = f"{self.name}:{json.loads(call.input or '{}')}"
        return ToolResult(text, is_error=self.error, stop_turn=self.stop_turn)


def opener(
    provider: FakeProvider,
    tools: Sequence[Tool] = (),
    *,
    max_steps: int = 100,
    model: FakeModel | None = None,
    trip: Tripwire | None = None,
) -> Callable[[], contextlib.AbstractAsyncContextManager[TurnSetup]]:
    """A setup opener over a fake provider (counted by ``trip`` when given)."""

    @contextlib.asynccontextmanager
    async def open_setup() -> AsyncIterator[TurnSetup]:
        if trip is not None:
            await trip.hit()
        yield TurnSetup(
            provider=provider,
            model=model or FakeModel(),
            system_prompt="SYSTEM",
            tools=tools,
            max_steps=max_steps,
        )

    return open_setup


def script(*turns: ScriptTurn) -> FakeProvider:
    return FakeProvider(list(turns))
