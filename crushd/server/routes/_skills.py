"""Skills routes: list and read a workspace's skills (docs/protocol.md 2.11).

Both rescan first (as upstream re-discovers on each call), so a skill added
or fixed on disk shows at once, and a change of the states also reaches every
stream as ``skills_event``. docs/protocol.md has no separate rescan route, so
none is invented.
"""

from __future__ import annotations

from quart import Response

from crushd.errors import BadRequest
from crushd.proto import ReadSkillRequest

from ..http import ServerContext, decode_body, json_response
from ._live import workspace_of


async def list_skills(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../skills``; 404 unknown workspace."""
    skills = workspace_of(ctx, workspace_id).skills
    await skills.rescan()
    return json_response(skills.list())


async def read_skill(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../skills/read`` with ``{"skill_id"}``.

    Errors: 404 unknown workspace; 400 ``failed to decode request`` for a
    bad body and ``skill_id is required`` for an empty id; 404 ``skill not
    found: <id>`` for an id that is no visible skill (decision B.4).
    """
    skills = workspace_of(ctx, workspace_id).skills
    body = await decode_body(ReadSkillRequest)
    if not body.skill_id:
        raise BadRequest("skill_id is required")
    await skills.rescan()
    return json_response(await skills.read(body.skill_id))
