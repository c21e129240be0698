"""Session, message and history wire models (docs/protocol.md 2.3, 3.3, 4)."""

from __future__ import annotations

import attrs

from ._json import OMITEMPTY

#: Valid ``Todo.status`` values.
TODO_STATUSES = ("pending", "in_progress", "completed")


@attrs.frozen
class Todo:
    """One todo item of a session; ``status`` is one of ``TODO_STATUSES``."""

    content: str
    status: str
    active_form: str = ""


@attrs.frozen
class Session:
    """A session; timestamps are Unix seconds.

    ``is_busy`` and ``attached_clients`` are computed per REST response; on SSE
    ``session`` events they are always ``false``/``0``.
    """

    id: str
    title: str
    parent_session_id: str = ""
    message_count: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    summary_message_id: str = ""
    cost: float = 0.0
    todos: list[Todo] = attrs.field(factory=list, metadata=OMITEMPTY)
    created_at: int = 0
    updated_at: int = 0
    is_busy: bool = False
    attached_clients: int = 0


@attrs.frozen
class SessionCreate:
    """``POST /sessions`` body (decision B.2: ``title`` and ``parent_session_id``)."""

    title: str = ""
    parent_session_id: str = ""


@attrs.frozen
class SessionUpdate:
    """``PUT /sessions/{sid}`` body (decision B.2): absent fields stay unchanged.

    ``id``, when non-empty, must equal the path's session id.
    """

    id: str | None = None
    title: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    summary_message_id: str | None = None
    cost: float | None = None
    todos: list[Todo] | None = None


@attrs.frozen
class Part:
    """One message part: ``{"type": kind, "data": {...}}`` (docs/protocol.md 4.2)."""

    type: str
    data: dict[str, object] = attrs.field(factory=dict)


@attrs.frozen
class Message:
    """A message; ``is_summary_message`` omitted when false (docs/protocol.md 4.1)."""

    id: str
    role: str
    session_id: str
    parts: list[Part] = attrs.field(factory=list)
    model: str = ""
    provider: str = ""
    created_at: int = 0
    updated_at: int = 0
    is_summary_message: bool = attrs.field(default=False, metadata=OMITEMPTY)


@attrs.frozen
class HistoryFile:
    """One file-history version, snake_case as the ``file`` event (decision B.3)."""

    id: str
    session_id: str
    path: str
    content: str
    version: int
    created_at: int
    updated_at: int
