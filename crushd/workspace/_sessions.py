"""The session service: session CRUD that publishes ``session`` events.

It is also the agent's session sink (usage, title, busy edges) and todo sink.
Every ``session`` event it publishes carries the real ``is_busy`` (from the
callable it is given); ``attached_clients`` stays 0 on events
(docs/protocol.md 5.6; docs/agent.md 1.4 change c).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
import trio

from crushd.errors import BadRequest
from crushd.proto import (
    CREATED,
    DELETED,
    TODO_STATUSES,
    UPDATED,
    Session,
    SessionCreate,
    SessionUpdate,
    Todo,
)
from crushd.store import SessionStore

from ._eventlog import EventLog

T = TypeVar("T")

#: A todo list (``list`` is a method name inside ``SessionService``).
Todos = list[Todo]

#: The outer event type of session events.
SESSION_EVENT = "session"


class SessionService:
    """Sessions of one workspace; every change is published on its event log.

    A change and its event are one unit: the database write and the publish run
    under a shielded scope, so a client that disconnects mid-request cannot
    leave a committed change without its event (no silent event loss).

    ``busy_changed`` is synchronous (the agent calls it from its lane
    transitions, before any database access), so the service remembers the
    last session row it read or wrote per id and publishes from that; the
    message service keeps its ``message_count`` current (``message_added``).
    An edge for a session not read yet is published by the next ``get``.

    Args:
        store: the workspace database's session table.
        log: the workspace's event log.
        is_busy: ``is_busy(session_id)``, whether the agent runs that session;
            ``None`` means never busy (no agent).

    Source: Crush session service + server handlers (docs/protocol.md 2.3, B.2).
    """

    def __init__(
        self,
        store: SessionStore,
        log: EventLog,
        is_busy: Callable[[str], bool] | None = None,
    ) -> None:
        self._store = store
        self._log = log
        self._is_busy = is_busy or _never_busy
        self._known: dict[str, Session] = {}
        self._unpublished: dict[str, bool] = {}

    async def list(self) -> list[Session]:
        """Return top-level sessions, most recently updated first."""
        return await self._store.list_top_level()

    async def get(self, session_id: str) -> Session:
        """Return one session (children included).

        ``is_busy`` is the real value; a busy edge not published yet for
        this session (see ``busy_changed``) is published now.

        Raises:
            SessionNotFound: unknown id (404, decision B.4).
        """
        session = self._remember(await self._store.get(session_id))
        busy = self._unpublished.pop(session_id, None)
        if busy is not None:
            self._log.publish(SESSION_EVENT, UPDATED, session)
        return session

    async def create(self, request: SessionCreate) -> Session:
        """Create a session and publish ``session``/``created``.

        Raises:
            SessionNotFound: ``parent_session_id`` names no session (404).

        Cancellation: once the write started it completes and is published.
        """
        if request.parent_session_id:
            await self._store.get(request.parent_session_id)
        session = await _committed(
            self._store.create(request.title, request.parent_session_id)
        )
        session = self._remember(session)
        self._log.publish(SESSION_EVENT, CREATED, session)
        return session

    async def update(self, session_id: str, request: SessionUpdate) -> Session:
        """Apply the fields present in ``request`` and publish ``session``/``updated``.

        Raises:
            BadRequest: a non-empty body ``id`` differs from the path id, or a
                todo has an unknown status (400).
            SessionNotFound: unknown id (404).

        Cancellation: once the write started it completes and is published.
        """
        _check_update(session_id, request)
        return await self._publish_write(self._store.update(session_id, request))

    async def delete(self, session_id: str) -> None:
        """Delete a session with its messages and history; publish ``deleted``.

        Raises:
            SessionNotFound: unknown id (404).

        Cancellation: once the delete started it completes and is published.
        """
        session = self._with_busy(await self._store.get(session_id))
        await _committed(self._store.delete(session_id))
        self._known.pop(session_id, None)
        self._unpublished.pop(session_id, None)
        self._log.publish(SESSION_EVENT, DELETED, session)

    async def set_usage(
        self,
        session_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        add_cost: float,
    ) -> None:
        """Set the token counts, add ``add_cost`` (US dollars); publish ``updated``.

        Raises:
            SessionNotFound: unknown id (404).

        Cancellation: once the write started it completes and is published.
        """
        write = self._store.set_usage(
            session_id, prompt_tokens, completion_tokens, add_cost
        )
        await self._publish_write(write)

    async def set_title(self, session_id: str, title: str, add_cost: float) -> None:
        """Set the title, add the title call's cost; publish ``updated``.

        Raises:
            SessionNotFound: unknown id (404).

        Cancellation: once the write started it completes and is published.
        """
        await self._publish_write(self._store.set_title(session_id, title, add_cost))

    async def set_todos(self, session_id: str, todos: Todos) -> None:
        """Replace the todo list (the ``todos`` tool); publish ``updated``.

        Raises:
            BadRequest: a todo has an unknown status (400).
            SessionNotFound: unknown id (404).

        Cancellation: once the write started it completes and is published.
        """
        _check_todos(todos)
        await self._publish_write(self._store.set_todos(session_id, todos))

    def busy_changed(self, session_id: str, busy: bool) -> None:
        """Publish ``session``/``updated`` with ``is_busy=busy`` (an agent edge).

        Synchronous: published from the last row this service saw. A session
        not seen yet gets its event from the next ``get`` (the turn reads its
        session first); two opposite edges before that cancel out.
        """
        known = self._known.get(session_id)
        if known is None:
            if self._unpublished.pop(session_id, None) in (None, busy):
                self._unpublished[session_id] = busy
            return
        session = attrs.evolve(known, is_busy=busy)
        self._log.publish(SESSION_EVENT, UPDATED, session)

    def message_added(self, session_id: str, delta: int = 1) -> None:
        """Keep the remembered ``message_count`` in step with the messages table."""
        known = self._known.get(session_id)
        if known is not None:
            count = max(0, known.message_count + delta)
            self._known[session_id] = attrs.evolve(known, message_count=count)

    async def _publish_write(self, write: Awaitable[Session]) -> Session:
        session = self._remember(await _committed(write))
        self._log.publish(SESSION_EVENT, UPDATED, session)
        return session

    def _remember(self, session: Session) -> Session:
        self._known[session.id] = session
        return self._with_busy(session)

    def _with_busy(self, session: Session) -> Session:
        return attrs.evolve(session, is_busy=self._is_busy(session.id))


def _never_busy(_session_id: str) -> bool:
    return False


async def _committed(write: Awaitable[T]) -> T:
    # Shielded: the database call is bounded by SQLite's busy_timeout.
    with trio.CancelScope(shield=True):
        result = await write
    return result


def _check_update(session_id: str, request: SessionUpdate) -> None:
    if request.id and request.id != session_id:
        raise BadRequest("session id in body does not match the path")
    _check_todos(request.todos or [])


def _check_todos(todos: list[Todo]) -> None:
    for todo in todos:
        if todo.status not in TODO_STATUSES:
            raise BadRequest(f"invalid todo status: {todo.status}")
