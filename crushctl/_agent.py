"""Agent routes of ``Client``: prompts, cancel, queue (docs/protocol.md 2.8, 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crushd.proto import (
    AgentInfo,
    AgentInitRequest,
    AgentMessage,
    Attachment,
    SelectedModel,
    Session,
)

from ._http import HTTPSession, decode
from ._sessions import segment

#: ``prompts/list``'s answer: the texts, or ``null`` (upstream) when none.
_PromptList: Any = list[str] | None


class AgentRoutes:
    """The ``/v1/workspaces/{id}/agent`` calls of ``Client``."""

    _http: HTTPSession
    client_id: str

    async def agent_init(self, workspace_id: str, *, interactive: bool = False) -> None:
        """Create the workspace's agent (``POST .../agent/init``); idempotent.

        Args:
            workspace_id: the workspace.
            interactive: an agent for a client that answers questions (it
                gets the question tool); a later interactive init upgrades a
                non-interactive agent, never the reverse.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            HTTPStatusError: 500 with upstream's text when no model or provider
                is configured (``large model not selected``, ...).

        Cancellation:
            If cancelled after sending, the agent may be created anyway.

        Source: docs/protocol.md 2.8 ``agent/init``, decision B.9.
        """
        body = AgentInitRequest(interactive=interactive)
        await self._http.send("POST", self._agent(workspace_id, "/init"), body=body)

    async def agent_update(self, workspace_id: str) -> None:
        """Rebuild the agent's models and tools from the current configuration.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            BadRequestError: 400, ``agent coordinator not initialized``.
            HTTPStatusError: 500, a model or provider cannot be resolved.

        Source: docs/protocol.md 2.8 ``agent/update``.
        """
        await self._http.send("POST", self._agent(workspace_id, "/update"))

    async def agent_info(self, workspace_id: str) -> AgentInfo:
        """Return ``GET .../agent``: busy, ready, the large model and its choice.

        ``is_busy`` is true while any session of the workspace runs a turn;
        everything is zero or false before ``agent_init``.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.8 ``GET /agent``.
        """
        response = await self._http.send("GET", self._agent(workspace_id))
        return decode(response, AgentInfo)

    async def send_prompt(
        self,
        workspace_id: str,
        session_id: str,
        prompt: str,
        *,
        run_id: str = "",
        attachments: Sequence[Attachment] = (),
    ) -> None:
        """Send a prompt (``POST .../agent``); returns at the daemon's 202.

        The run belongs to the workspace: it goes on if this client leaves.
        Follow it on the event stream (open the stream first): ``message``
        events, then one ``run_complete`` echoing ``run_id``. A prompt for a
        busy session is queued.

        Args:
            workspace_id: the workspace.
            session_id: the session (its existence is checked by the run).
            prompt: the prompt text.
            run_id: an id of the caller's choosing, echoed by the turn's
                ``run_complete``; ``""`` sends none (the prompt may then be
                folded into a running turn).
            attachments: files sent along (``Attachment.content`` is base64
                text); a ``text/...`` one may stand in for the prompt.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            BadRequestError: 400, ``agent coordinator not initialized``,
                ``prompt is empty`` or ``session id is missing``.
            ConflictError: 409, ``workspace closing``.

        Cancellation:
            If cancelled after sending, the prompt may be accepted anyway.

        Source: docs/protocol.md 2.8 ``POST /agent``, 6.1, 6.2, decision B.5.
        """
        body = AgentMessage(
            session_id=session_id,
            run_id=run_id,
            prompt=prompt,
            attachments=list(attachments),
            client_id=self.client_id,
        )
        await self._http.send("POST", self._agent(workspace_id), body=body)

    async def cancel(self, workspace_id: str, session_id: str) -> None:
        """Cancel the session's running turn and drop its queued prompts.

        The turn ends with ``run_complete{cancelled: true}``; an idle session
        is left as it is.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the turn may be cancelled anyway.

        Source: docs/protocol.md 2.8, 6.3 ``POST .../cancel``.
        """
        await self._http.send(
            "POST", self._session(workspace_id, session_id, "/cancel")
        )

    async def agent_session(self, workspace_id: str, session_id: str) -> Session:
        """Return the session as the agent sees it: ``id``, ``title``, ``is_busy``.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.8 ``GET /agent/sessions/{sid}``.
        """
        path = self._session(workspace_id, session_id)
        return decode(await self._http.send("GET", path), Session)

    async def queued_prompts(self, workspace_id: str, session_id: str) -> int:
        """Return how many prompts wait behind the session's running turn.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            RequestError: the answer is not a bare integer.

        Source: docs/protocol.md 2.8, 6.2 ``prompts/queued``.
        """
        path = self._session(workspace_id, session_id, "/prompts/queued")
        return decode(await self._http.send("GET", path), int)

    async def list_prompts(self, workspace_id: str, session_id: str) -> list[str]:
        """Return the queued prompts' texts, oldest first (``[]`` for ``null``).

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Source: docs/protocol.md 2.8, 6.2 ``prompts/list``.
        """
        path = self._session(workspace_id, session_id, "/prompts/list")
        prompts = decode(await self._http.send("GET", path), _PromptList)
        return prompts or []

    async def clear_prompts(self, workspace_id: str, session_id: str) -> None:
        """Drop the session's queued prompts.

        Each dropped prompt that had a ``run_id`` gets a cancelled ``run_complete``.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Source: docs/protocol.md 2.8, 6.2 ``prompts/clear``.
        """
        path = self._session(workspace_id, session_id, "/prompts/clear")
        await self._http.send("POST", path)

    async def default_small_model(
        self, workspace_id: str, provider_id: str
    ) -> SelectedModel:
        """Return the provider's default small model (else the large model's choice).

        Raises:
            NotFoundError: 404, ``workspace not found``.
            HTTPStatusError: 500, the provider or its model is unknown.

        Source: docs/protocol.md 2.8 ``agent/default-small-model``.
        """
        path = self._agent(workspace_id, "/default-small-model")
        params = {"provider_id": provider_id}
        response = await self._http.send("GET", path, params=params)
        return decode(response, SelectedModel)

    def _agent(self, workspace_id: str, route: str = "") -> str:
        return f"/workspaces/{segment(workspace_id)}/agent{route}"

    def _session(self, workspace_id: str, session_id: str, route: str = "") -> str:
        return self._agent(workspace_id, f"/sessions/{segment(session_id)}{route}")
