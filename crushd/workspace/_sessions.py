"""The session service: session CRUD that publishes ``session`` events."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

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
)
from crushd.store import SessionStore

from ._eventlog import EventLog

T = TypeVar("T")

#: The outer event type of session events.
SESSION_EVENT = "session"


class SessionService:
    """Sessions of one workspace; every change is published on its event log.

    A change and its event are one unit: the database write and the publish run
    under a shielded scope, so a client that disconnects mid-request cannot
    leave a committed change without its event (no silent event loss).

    Args:
        store: the workspace database's session table.
        log: the workspace's event log.

    Source: Crush session service + server handlers (docs/protocol.md 2.3, B.2).
    """

    def __init__(self, store: SessionStore, log: EventLog) -> None:
        self._store = store
        self._log = log

    async def list(self) -> list[Session]:
        """Return top-level sessions, most recently updated first."""
        return await self._store.list_top_level()

    async def get(self, session_id: str) -> Session:
        """Return one session (children included).

        Raises:
            SessionNotFound: unknown id (404, decision B.4).
        """
        return await self._store.get(session_id)

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
        session = await _committed(self._store.update(session_id, request))
        self._log.publish(SESSION_EVENT, UPDATED, session)
        return session

    async def delete(self, session_id: str) -> None:
        """Delete a session with its messages and history; publish ``deleted``.

        Raises:
            SessionNotFound: unknown id (404).

        Cancellation: once the delete started it completes and is published.
        """
        session = await self._store.get(session_id)
        await _committed(self._store.delete(session_id))
        self._log.publish(SESSION_EVENT, DELETED, session)


async def _committed(write: Awaitable[T]) -> T:
    # Shielded: the database call is bounded by SQLite's busy_timeout.
    with trio.CancelScope(shield=True):
        result = await write
    return result


def _check_update(session_id: str, request: SessionUpdate) -> None:
    if request.id and request.id != session_id:
        raise BadRequest("session id in body does not match the path")
    for todo in request.todos or ():
        if todo.status not in TODO_STATUSES:
            raise BadRequest(f"invalid todo status: {todo.status}")
