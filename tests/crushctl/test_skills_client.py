"""Client skills calls: request shapes, decoding and errors against MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from crushctl import BadRequestError, Client, HTTPStatusError, NotFoundError
from crushd.proto import ReadSkillResponse, SkillInfo, SkillResult, parse_host

INFO = {
    "id": "/p/.agents/skills/a/SKILL.md",
    "name": "a",
    "description": "A.",
    "label": "project:a",
    "source": "project",
    "user_invocable": True,
}


def client(handler: httpx.MockTransport) -> Client:
    return Client(parse_host("unix:///tmp/x.sock"), transport=handler, token="")


async def test_skills_lists_infos() -> None:
    """skills() GETs /workspaces/{id}/skills and decodes SkillInfo (null is [])."""
    seen: list[str] = []
    bodies = iter([[INFO], None])

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.raw_path.decode()}")
        return httpx.Response(200, content=json.dumps(next(bodies)).encode())

    async with client(httpx.MockTransport(handle)) as c:
        assert await c.skills("w 1") == [SkillInfo(**INFO)]  # type: ignore[arg-type]
        assert await c.skills("w1") == []
    assert seen == ["GET /v1/workspaces/w%201/skills", "GET /v1/workspaces/w1/skills"]


async def test_read_skill_posts_the_id() -> None:
    """read_skill() POSTs {"skill_id"} and decodes the content and result."""
    sent: list[object] = []
    answer = {
        "content": "LS0t",
        "result": {
            "name": "a",
            "description": "A.",
            "source": "user",
            "builtin": False,
        },
    }

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, json.loads(request.content)))
        return httpx.Response(200, json=answer)

    async with client(httpx.MockTransport(handle)) as c:
        got = await c.read_skill("w1", "/s/a/SKILL.md")
    assert got == ReadSkillResponse("LS0t", SkillResult("a", "A.", "user"))
    assert sent == [("/v1/workspaces/w1/skills/read", {"skill_id": "/s/a/SKILL.md"})]


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFoundError), (400, BadRequestError), (500, HTTPStatusError)],
)
async def test_skill_errors_map_to_crushctl_errors(
    status: int, error: type[Exception]
) -> None:
    """Error statuses become the matching crushctl error with the daemon's message."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "skill not found: x"})

    async with client(httpx.MockTransport(handle)) as c:
        with pytest.raises(error, match="skill not found: x"):
            await c.read_skill("w1", "x")
