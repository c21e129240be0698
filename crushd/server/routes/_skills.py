"""Skills routes: list and read a workspace's skills (docs/protocol.md 2.11)."""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from crushd.errors import BadRequest
from crushd.proto import ReadSkillRequest

from ..http import ServerContext, decode_body, json_response
from ._live import live_workspace
from ._rules import View, add_rules

_WS = "/v1/workspaces/<workspace_id>"


def register_skill_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add ``GET .../skills`` and ``POST .../skills/read``.

    Both rescan first (as upstream re-discovers on each call), so a skill
    added or fixed on disk shows at once, and a change of the states also
    reaches every stream as ``skills_event``. docs/protocol.md has no separate
    rescan route, so none is invented.

    Errors: 404 unknown workspace; 400 ``failed to decode request`` for a
    bad body and ``skill_id is required`` for an empty id; 500 ``skill not
    found: <id>`` for an id that is no visible skill (upstream status).
    """
    registry = ctx.registry

    async def list_skills(workspace_id: str) -> Response:
        skills = live_workspace(registry, workspace_id)[1].skills
        await skills.rescan()
        return json_response(skills.list())

    async def read_skill(workspace_id: str) -> Response:
        skills = live_workspace(registry, workspace_id)[1].skills
        body = await decode_body(ReadSkillRequest)
        if not body.skill_id:
            raise BadRequest("skill_id is required")
        await skills.rescan()
        return json_response(await skills.read(body.skill_id))

    rules: list[tuple[str, View, str]] = [
        (f"{_WS}/skills", list_skills, "GET"),
        (f"{_WS}/skills/read", read_skill, "POST"),
    ]
    add_rules(app, rules)
