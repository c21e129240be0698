"""Skills routes of ``Client`` (docs/protocol.md 2.11)."""

from __future__ import annotations

from crushd.proto import ReadSkillRequest, ReadSkillResponse, SkillInfo

from ._http import HTTPSession, decode, decode_list
from ._sessions import segment


class SkillRoutes:
    """The ``/v1/workspaces/{id}/skills`` calls of ``Client``."""

    _http: HTTPSession

    async def skills(self, workspace_id: str) -> list[SkillInfo]:
        """Return the workspace's visible skills.

        crushd rescans the skill folders first, so the answer reflects the
        disk now; if the discovery states changed, every stream of the
        workspace also gets a ``skills_event``.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; at most a rescan happened on the daemon.

        Source: docs/protocol.md 2.11 ``GET /skills``.
        """
        path = f"/workspaces/{segment(workspace_id)}/skills"
        return decode_list(await self._http.send("GET", path), SkillInfo)

    async def read_skill(self, workspace_id: str, skill_id: str) -> ReadSkillResponse:
        """Read one skill's ``SKILL.md`` (``content`` is base64 of its bytes).

        Args:
            workspace_id: the workspace.
            skill_id: a ``SkillInfo.id`` from ``skills``.

        Raises:
            NotFoundError: 404, ``workspace not found`` or ``skill not found:
                <id>`` (decision B.4).
            BadRequestError: 400, an empty ``skill_id``.
            HTTPStatusError: 500, the file could not be read.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.11 ``POST /skills/read``.
        """
        path = f"/workspaces/{segment(workspace_id)}/skills/read"
        body = ReadSkillRequest(skill_id=skill_id)
        response = await self._http.send("POST", path, body=body)
        return decode(response, ReadSkillResponse)
