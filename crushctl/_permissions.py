"""Permission, question and shell routes of ``Client`` (docs/protocol.md 2.6-2.8)."""

from __future__ import annotations

from collections.abc import Sequence

from crushd.proto import (
    PERMISSION_ACTIONS,
    PermissionGrant,
    PermissionRequest,
    PermissionSkip,
    QuestionAnswer,
    QuestionResponse,
    Resolved,
)

from ._http import HTTPSession, decode, decode_list
from ._prompt_models import ShellRequest, ShellResult
from ._sessions import segment


class PermissionRoutes:
    """The ``permissions``, ``questions`` and ``shell`` calls of ``Client``."""

    _http: HTTPSession
    client_id: str

    async def pending_permissions(self, workspace_id: str) -> list[PermissionRequest]:
        """Return the workspace's pending permission requests, oldest first.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md C.5 ``GET /workspaces/{id}/permissions``.
        """
        response = await self._http.send("GET", self._ws(workspace_id, "/permissions"))
        return decode_list(response, PermissionRequest)

    async def grant_permission(
        self, workspace_id: str, permission: PermissionRequest, action: str
    ) -> bool:
        """Decide a pending request; return whether this call resolved it.

        The first decision wins across every client; a later one (or an
        unknown id) answers ``False``, which is no error. The daemon records
        this client's id as the decider (``resolved_by`` in the notification).

        Args:
            workspace_id: the workspace.
            permission: the request as listed or received (only ``id``
                selects it; the other fields key an ``allow_session`` grant).
            action: ``allow``, ``allow_session`` or ``deny``.

        Raises:
            ValueError: ``action`` is none of those.
            BadRequestError: 400, the daemon refused the body.
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the request may be decided anyway.

        Source: docs/protocol.md 2.6 ``permissions/grant``; docs/agent.md 3.4.
        """
        if action not in PERMISSION_ACTIONS:
            raise ValueError(f"invalid permission action: {action!r}")
        path = self._ws(workspace_id, "/permissions/grant")
        body = PermissionGrant(permission=permission, action=action)
        params = {"client_id": self.client_id}
        response = await self._http.send("POST", path, params=params, body=body)
        return decode(response, Resolved).resolved

    async def permission_skip(self, workspace_id: str, session_id: str = "") -> bool:
        """Return whether prompts are skipped (the workspace's, or one session's).

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Source: docs/protocol.md 2.6 ``GET permissions/skip``; docs/agent.md 3.4.
        """
        params = {"session_id": session_id} if session_id else None
        path = self._ws(workspace_id, "/permissions/skip")
        response = await self._http.send("GET", path, params=params)
        return decode(response, PermissionSkip).skip

    async def set_permission_skip(
        self, workspace_id: str, skip: bool, *, session_id: str = ""
    ) -> None:
        """Turn auto-approve on or off: for ``session_id`` only, else the workspace.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the toggle may be changed anyway.

        Source: docs/protocol.md 2.6 ``POST permissions/skip``; docs/agent.md 3.4.
        """
        body = PermissionSkip(skip=skip, session_id=session_id)
        path = self._ws(workspace_id, "/permissions/skip")
        await self._http.send("POST", path, body=body)

    async def answer_questions(
        self,
        workspace_id: str,
        batch_id: str,
        responses: Sequence[QuestionResponse],
    ) -> bool:
        """Answer the pending question batch; return whether this call resolved it.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the batch may be answered anyway.

        Source: docs/protocol.md 2.7 ``questions/answer``, 6.6.
        """
        body = QuestionAnswer(batch_request_id=batch_id, responses=list(responses))
        path = self._ws(workspace_id, "/questions/answer")
        return decode(await self._http.send("POST", path, body=body), Resolved).resolved

    async def cancel_questions(self, workspace_id: str) -> bool:
        """Cancel the pending question batch; ``False`` when none was pending.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Source: docs/protocol.md 2.7 ``questions/cancel``, 6.6.
        """
        path = self._ws(workspace_id, "/questions/cancel")
        return decode(await self._http.send("POST", path), Resolved).resolved

    async def shell(
        self, workspace_id: str, session_id: str, command: str, *, term_width: int = 0
    ) -> ShellResult:
        """Run a bang shell ``command`` in the workspace folder; wait for its end.

        The daemon stores the result in the session as a user message with a
        ``shell_command`` part. Long commands outlast the 5 s read timeout,
        so this call waits without one.

        Args:
            workspace_id: the workspace.
            session_id: the session the result is stored in.
            command: the shell command line.
            term_width: the terminal's columns (``COLUMNS``); 0 sends none.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            HTTPStatusError: 500, the command could not be started.

        Cancellation:
            Closing the request makes the daemon kill the command's process group.

        Source: docs/protocol.md 2.8 ``POST .../shell``.
        """
        path = self._ws(workspace_id, f"/agent/sessions/{segment(session_id)}/shell")
        body = ShellRequest(command=command, term_width=term_width)
        response = await self._http.send("POST", path, body=body, read_timeout=False)
        return decode(response, ShellResult)

    def _ws(self, workspace_id: str, route: str) -> str:
        return f"/workspaces/{segment(workspace_id)}{route}"
