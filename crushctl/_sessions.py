"""Session, message and history routes of ``Client`` (docs/protocol.md 2.3)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from crushd.proto import (
    HistoryFile,
    Message,
    Session,
    SessionCreate,
    SessionUpdate,
    Todo,
    converter,
)

from ._http import HTTPSession, decode, decode_list


def segment(value: str) -> str:
    """Quote ``value`` as one URL path segment (``/`` and ``?`` included)."""
    return quote(value, safe="")


class SessionRoutes:
    """The ``/v1/workspaces/{id}/sessions`` and ``messages`` calls of ``Client``."""

    _http: HTTPSession

    async def sessions(self, workspace_id: str) -> list[Session]:
        """Return the top-level sessions, most recently updated first.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.3 ``GET /sessions``.
        """
        path = self._sessions(workspace_id)
        return decode_list(await self._http.send("GET", path), Session)

    async def create_session(
        self, workspace_id: str, title: str, parent_session_id: str = ""
    ) -> Session:
        """Create a session (``POST .../sessions``).

        Args:
            workspace_id: the workspace.
            title: the session title.
            parent_session_id: the parent session's id, ``""`` for top level.

        Returns:
            The new session.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the session may exist anyway.

        Source: docs/protocol.md 2.3 ``POST /sessions``, decision B.2.
        """
        body = SessionCreate(title=title, parent_session_id=parent_session_id)
        path = self._sessions(workspace_id)
        return decode(await self._http.send("POST", path, body=body), Session)

    async def session(self, workspace_id: str, session_id: str) -> Session:
        """Return one session, children included.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        path = self._sessions(workspace_id, session_id)
        return decode(await self._http.send("GET", path), Session)

    async def update_session(
        self,
        workspace_id: str,
        session_id: str,
        *,
        title: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        summary_message_id: str | None = None,
        cost: float | None = None,
        todos: Sequence[Todo] | None = None,
    ) -> Session:
        """Update the given fields of a session; ``None`` fields stay unchanged.

        Returns:
            The updated session.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.
            BadRequestError: 400, a field has the wrong type.

        Cancellation:
            If cancelled after sending, the update may be applied anyway.

        Source: docs/protocol.md 2.3 ``PUT /sessions/{sid}``, decision B.2.
        """
        update = SessionUpdate(
            title=title,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            summary_message_id=summary_message_id,
            cost=cost,
            todos=None if todos is None else list(todos),
        )
        body = _present_fields(update)
        path = self._sessions(workspace_id, session_id)
        return decode(await self._http.send("PUT", path, body=body), Session)

    async def delete_session(self, workspace_id: str, session_id: str) -> None:
        """Delete a session with its messages and file history.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.

        Cancellation:
            If cancelled after sending, the session may be deleted anyway.
        """
        await self._http.send("DELETE", self._sessions(workspace_id, session_id))

    async def messages(self, workspace_id: str, session_id: str) -> list[Message]:
        """Return a session's messages, oldest first.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.3 ``GET /sessions/{sid}/messages``.
        """
        path = f"{self._sessions(workspace_id, session_id)}/messages"
        return decode_list(await self._http.send("GET", path), Message)

    async def user_messages(
        self, workspace_id: str, session_id: str | None = None
    ) -> list[Message]:
        """Return ``user`` messages, newest first.

        Args:
            workspace_id: the workspace.
            session_id: one session's; ``None`` means every session's.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.3 ``messages/user`` (both routes).
        """
        if session_id is None:
            path = f"/workspaces/{segment(workspace_id)}/messages/user"
        else:
            path = f"{self._sessions(workspace_id, session_id)}/messages/user"
        return decode_list(await self._http.send("GET", path), Message)

    async def history(self, workspace_id: str, session_id: str) -> list[HistoryFile]:
        """Return a session's file-history versions, oldest first.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.3 ``history``, decision B.3 (snake_case keys).
        """
        path = f"{self._sessions(workspace_id, session_id)}/history"
        return decode_list(await self._http.send("GET", path), HistoryFile)

    def _sessions(self, workspace_id: str, session_id: str | None = None) -> str:
        path = f"/workspaces/{segment(workspace_id)}/sessions"
        return path if session_id is None else f"{path}/{segment(session_id)}"


def _present_fields(update: SessionUpdate) -> dict[str, object]:
    data = converter.unstructure(update)
    return {key: value for key, value in data.items() if value is not None}
