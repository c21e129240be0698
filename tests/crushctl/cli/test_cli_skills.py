"""``crushctl skills`` and the watch summary of skills_event, against MockTransport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from crushctl.cli import main_async
from crushctl.cli._skills import skill_rows, skills_summary
from crushd.proto import Event, SkillInfo, SkillState

HOST = "unix:///tmp/crushctl-test.sock"
GOOD = {
    "id": "/p/.agents/skills/my-skill/SKILL.md",
    "name": "my-skill",
    "description": "Does a thing.",
    "label": "project:my-skill",
    "source": "project",
    "user_invocable": False,
}
STATES = [
    {"name": "my-skill", "path": GOOD["id"], "state": 0},
    {
        "name": "",
        "path": "/p/.agents/skills/broken/SKILL.md",
        "state": 1,
        "error": "invalid YAML front matter: oops",
    },
]


class Fake:
    """crushd's skills routes; records the requests."""

    def __init__(
        self, skills: list[dict[str, object]], states: list[dict[str, object]]
    ) -> None:
        self.requests: list[str] = []
        self.skills = skills
        self.workspace = {"id": "w1", "path": "/p", "skills": states}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        routes: dict[str, object] = {
            "POST /v1/workspaces": self.workspace,
            "GET /v1/workspaces/w1": self.workspace,
            "GET /v1/workspaces/w1/skills": self.skills,
        }
        body = routes.get(self.requests[-1])
        return (
            httpx.Response(200, json=body) if body is not None else httpx.Response(200)
        )


async def run(fake: Fake, *argv: str) -> int:
    return await main_async(
        ["--host", HOST, *argv], transport=httpx.MockTransport(fake)
    )


async def test_skills_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table lists each skill with its source, then each error with its file."""
    fake = Fake([GOOD], STATES)
    assert await run(fake, "skills", "--cwd", str(tmp_path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "SOURCE", "STATE", "DESCRIPTION"]
    assert lines[1].split() == ["my-skill", "project", "ok", "Does", "a", "thing."]
    assert lines[2].split()[:3] == ["broken", "-", "error"]
    assert lines[2].endswith(
        "invalid YAML front matter: oops (/p/.agents/skills/broken/SKILL.md)"
    )
    # Listing rescans first, then the states are read, then the hold is released.
    assert fake.requests == [
        "POST /v1/workspaces",
        "GET /v1/workspaces/w1/skills",
        "GET /v1/workspaces/w1",
        "DELETE /v1/workspaces/w1",
    ]


async def test_skills_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No skills and no errors: says so."""
    assert await run(Fake([], []), "skills", "--cwd", str(tmp_path)) == 0
    assert capsys.readouterr().out == "no skills\n"


async def test_skills_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the workspace id, the skills and every state."""
    assert (
        await run(Fake([GOOD], STATES), "--json", "skills", "--cwd", str(tmp_path)) == 0
    )
    assert json.loads(capsys.readouterr().out) == {
        "workspace_id": "w1",
        "skills": [GOOD],
        "states": STATES,
    }


def test_skill_rows_clip_long_and_multiline_descriptions() -> None:
    """Descriptions are cut to one line of at most 60 characters."""
    long = SkillInfo("i", "a", "x" * 80, source="user")
    multi = SkillInfo("j", "b", "first\nsecond", source="user")
    short = SkillInfo("k", "c", "", source="user")
    rows = skill_rows([long, multi, short], [])
    assert rows[0][3] == "x" * 59 + "…"
    assert rows[1][3] == "first…"
    assert rows[2][3] == ""


def test_skill_rows_name_errors_by_folder_or_path() -> None:
    """A nameless error row is named by its folder; a folder-level error by its path."""
    states = [
        SkillState("", "/s/bad/SKILL.md", 1, "e1"),
        SkillState("", "/", 1, "e2"),
        SkillState("named", "/s/x/SKILL.md", 1, "e3"),
        SkillState("fine", "/s/fine/SKILL.md", 0),
    ]
    assert [row[0] for row in skill_rows([], states)] == ["bad", "/", "named"]


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"states": None}, "0 skills"),
        ({"states": [{"name": "a", "path": "/a", "state": 0}]}, "1 skill: a"),
        (
            {"states": [{"name": n, "path": "/x", "state": 0} for n in "abcdefg"]},
            "7 skills: a, b, c, d, e and 2 more",
        ),
        (
            {"states": STATES},
            "1 skill: my-skill; 1 error: broken (invalid YAML front matter: oops)",
        ),
        (
            {"states": [STATES[1], {**STATES[1], "name": "z"}]},
            "0 skills; 2 errors: broken (invalid YAML front matter: oops)",
        ),
        ("garbage", "0 skills"),
    ],
)
def test_skills_summary(payload: object, text: str) -> None:
    """A skills_event payload reads as counts, names and the first error."""
    assert skills_summary(payload) == text


def test_watch_line_for_skills_event() -> None:
    """crushctl watch prints a skills_event as its summary, not raw JSON."""
    from crushctl.cli._watch import event_line

    event = Event("skills_event", "updated", {"states": STATES[:1]}, id=7)
    assert event_line(event) == "#7 skills_event updated 1 skill: my-skill"
