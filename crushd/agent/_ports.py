"""What the engine needs from its workspace, as small protocols ("ports").

``crushd.agent`` never imports the workspace, the store or the server; the
workspace implements these and hands them over in ``AgentPorts``
(docs/architecture.md, docs/agent.md 7.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import attrs

from crushd import proto

from .providers import ReadWindow
from .tools import (
    DenyingGate,
    FileHistory,
    HttpOpener,
    JobTable,
    PermissionGate,
    QuestionAsker,
    ReadTracker,
    TodoSink,
)


class MessageSink(Protocol):
    """Message writes; every change is written first, then published."""

    async def create(self, message: proto.Message) -> proto.Message:
        """Insert ``message`` and publish ``message/created``.

        Raises:
            SessionNotFound: the session does not exist (404).
        """

    def update_soon(self, message: proto.Message) -> None:
        """Mark a streaming change; the workspace flusher writes it within 33 ms."""

    async def update_now(self, message: proto.Message) -> None:
        """Write a structural or final change at once, then publish it."""

    async def flush_session(self, session_id: str) -> None:
        """Write every pending change of the session now."""

    async def list(self, session_id: str) -> list[proto.Message]:
        """The session's messages, oldest first (pending changes flushed first)."""


class SessionSink(Protocol):
    """Session reads and the column updates a turn makes."""

    async def get(self, session_id: str) -> proto.Session:
        """The session.

        Raises:
            NotFound: no such session (404).
        """

    async def set_usage(
        self,
        session_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        add_cost: float,
    ) -> None:
        """Set the two token counters, add ``add_cost`` (USD); publish."""

    async def set_title(self, session_id: str, title: str, add_cost: float) -> None:
        """Set the title and add ``add_cost`` (USD); publish."""

    def busy_changed(self, session_id: str, busy: bool) -> None:
        """Publish ``session/updated`` with the real ``is_busy``."""


class EventSink(Protocol):
    """The workspace event log (``EventLog.publish``)."""

    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002 (the envelope's key)
        """Append one event; synchronous, dropped after close."""


@attrs.frozen
class AgentPorts:
    """The workspace side of one agent.

    Attributes:
        messages: message writes (the workspace's message service).
        sessions: session reads and updates.
        events: the event log.
        reads: the file tracker, for tools.
        todos: the todo store, for the todos tool.
        root: the workspace folder, absolute and canonical.
        environ: the environment provider keys are resolved from.
        permissions: the workspace's permission service, for tools.
        questions: the workspace's question service (offered to interactive
            agents only).
        history: the workspace's file history, for the write tools.
        jobs: the workspace's shell job table (its ``serve`` runs in the
            agent nursery).
        http: how ``fetch``/``download`` open an HTTP client; None for the
            network (tests reroute it to a local server).
        read_window: the message flusher's window the provider reads line
            up with (``FlushWindow``); None reads every token at once.
    """

    messages: MessageSink
    sessions: SessionSink
    events: EventSink
    reads: ReadTracker
    todos: TodoSink
    root: Path
    environ: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    permissions: PermissionGate = attrs.field(factory=DenyingGate)
    questions: QuestionAsker | None = None
    history: FileHistory | None = None
    jobs: JobTable | None = None
    http: HttpOpener | None = None
    read_window: ReadWindow | None = None
