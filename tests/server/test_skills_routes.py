"""Skills routes: list, read, errors, skills_event on change, isolation."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

from tests.skills._support import skill_text, write_skill

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


def project_skills(project: Path) -> Path:
    return project / ".agents" / "skills"


async def create(harness: Harness, path: Path) -> dict[str, Any]:
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(path), "client_id": new_id()}
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def skills_events(harness: Harness, ws: str) -> list[dict[str, Any]]:
    """Every skills_event in the workspace's log, as sent on the wire."""
    log = harness.registry.get(ws).workspace.log
    frames = [json.loads(f) for f in log.read_ws(0).frames]
    return [f["payload"] for f in frames if f["type"] == "skills_event"]


async def test_workspace_carries_the_skills_snapshot(
    harness: Harness, project: Path
) -> None:
    """Create and get answer Workspace.skills: one state per SKILL.md found."""
    good = write_skill(project_skills(project), "my-skill")
    bad = write_skill(project_skills(project), "broken", "---\nname: broken\n---\n")
    body = await create(harness, project)
    expected = [
        {
            "name": "broken",
            "path": str(bad),
            "state": 1,
            "error": "description is required",
        },
        {"name": "my-skill", "path": str(good), "state": 0},
    ]
    assert body["skills"] == expected
    status, got = await harness.json("GET", f"/v1/workspaces/{body['id']}")
    assert (status, got["skills"]) == (200, expected)


async def test_workspace_without_skills_omits_the_field(
    harness: Harness, project: Path
) -> None:
    """No skill anywhere: the skills field is left out (omitempty)."""
    assert "skills" not in await create(harness, project)


async def test_list_skills(harness: Harness, project: Path) -> None:
    """GET /skills lists the visible skills with id, label, source, invocability."""
    path = write_skill(
        project_skills(project),
        "my-skill",
        skill_text("my-skill", "Mine.", "user-invocable: true\n"),
    )
    ws = (await create(harness, project))["id"]
    assert await harness.json("GET", f"/v1/workspaces/{ws}/skills") == (
        200,
        [
            {
                "id": str(path),
                "name": "my-skill",
                "description": "Mine.",
                "label": "project:my-skill",
                "source": "project",
                "user_invocable": True,
            }
        ],
    )


async def test_list_skills_includes_global_ones(
    harness: Harness, project: Path, isolated_skills: Path
) -> None:
    """A skill in $CRUSH_SKILLS_DIR is listed with source user."""
    write_skill(isolated_skills, "global-skill")
    ws = (await create(harness, project))["id"]
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert [(s["name"], s["source"]) for s in listed] == [("global-skill", "user")]


async def test_list_skills_is_empty_list(harness: Harness, project: Path) -> None:
    """No skills: GET /skills answers []."""
    ws = (await create(harness, project))["id"]
    assert await harness.json("GET", f"/v1/workspaces/{ws}/skills") == (200, [])


async def test_read_skill(harness: Harness, project: Path) -> None:
    """POST /skills/read answers base64 of SKILL.md and the skill's result."""
    path = write_skill(project_skills(project), "my-skill")
    ws = (await create(harness, project))["id"]
    status, body = await harness.json(
        "POST", f"/v1/workspaces/{ws}/skills/read", {"skill_id": str(path)}
    )
    assert status == 200
    assert base64.b64decode(body["content"]) == path.read_bytes()
    assert body["result"] == {
        "name": "my-skill",
        "description": "Does a thing.",
        "source": "project",
        "builtin": False,
    }


async def test_read_skill_bad_bodies_are_400(harness: Harness, project: Path) -> None:
    """Empty, malformed, wrongly typed or empty-id bodies answer 400."""
    ws = (await create(harness, project))["id"]
    path = f"/v1/workspaces/{ws}/skills/read"
    decode = {"message": "failed to decode request"}
    assert await harness.json("POST", path, "") == (400, decode)
    assert await harness.json("POST", path, "{nope") == (400, decode)
    status, body = await harness.json("POST", path, {"skill_id": 5})
    assert status == 400
    assert body["message"].startswith("failed to decode request: ")
    assert (await harness.json("POST", path, {}))[0] == 400
    assert await harness.json("POST", path, {"skill_id": ""}) == (
        400,
        {"message": "skill_id is required"},
    )


async def test_read_unknown_skill_is_404(harness: Harness, project: Path) -> None:
    """An id that is no visible skill answers 404 skill not found (decision B.4)."""
    bad = write_skill(project_skills(project), "bad", "---\nname: bad\n---\n")
    ws = (await create(harness, project))["id"]
    for skill_id in ("/etc/passwd", str(bad)):
        assert await harness.json(
            "POST", f"/v1/workspaces/{ws}/skills/read", {"skill_id": skill_id}
        ) == (404, {"message": f"skill not found: {skill_id}"})


async def test_skills_routes_unknown_workspace_is_404(harness: Harness) -> None:
    """Both routes answer 404 workspace not found for an unknown id."""
    ws = new_id()
    missing = (404, {"message": "workspace not found"})
    assert await harness.json("GET", f"/v1/workspaces/{ws}/skills") == missing
    body = {"skill_id": "/x"}
    assert (
        await harness.json("POST", f"/v1/workspaces/{ws}/skills/read", body) == missing
    )


async def test_skills_event_once_per_change(harness: Harness, project: Path) -> None:
    """A rescan with new states publishes one skills_event; an unchanged one none."""
    ws = (await create(harness, project))["id"]
    await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert skills_events(harness, ws) == []
    path = write_skill(project_skills(project), "new-skill")
    await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert skills_events(harness, ws) == [
        {
            "type": "updated",
            "payload": {
                "states": [{"name": "new-skill", "path": str(path), "state": 0}]
            },
        }
    ]
    _, got = await harness.json("GET", f"/v1/workspaces/{ws}")
    assert [s["name"] for s in got["skills"]] == ["new-skill"]


async def test_skills_event_reports_breakage_and_removal(
    harness: Harness, project: Path
) -> None:
    """Breaking a skill publishes its error; removing all publishes states null."""
    path = write_skill(project_skills(project), "s")
    ws = (await create(harness, project))["id"]
    path.write_text("---\nname: s\n---\n")
    await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    path.unlink()
    await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    first, second = skills_events(harness, ws)
    assert first["payload"]["states"][0]["error"] == "description is required"
    assert second == {"type": "updated", "payload": {"states": None}}


async def test_read_rescans_first(harness: Harness, project: Path) -> None:
    """A skill added after the last scan can be read at once (and is announced)."""
    ws = (await create(harness, project))["id"]
    path = write_skill(project_skills(project), "late")
    status, _ = await harness.json(
        "POST", f"/v1/workspaces/{ws}/skills/read", {"skill_id": str(path)}
    )
    assert status == 200
    assert len(skills_events(harness, ws)) == 1


async def test_workspaces_never_see_each_others_skills(
    harness: Harness, tmp_path: Path
) -> None:
    """Two workspaces in one daemon: own skills only, own skills_event only.

    Port of seed 000 TestBackend_WorkspaceSkillsIsolation.
    """
    project_a, project_b = tmp_path / "a", tmp_path / "b"
    write_skill(project_skills(project_a), "wsa-only-skill")
    write_skill(project_skills(project_b), "wsb-only-skill")
    ws_a, ws_b = await create(harness, project_a), await create(harness, project_b)
    assert [s["name"] for s in ws_a["skills"]] == ["wsa-only-skill"]
    assert [s["name"] for s in ws_b["skills"]] == ["wsb-only-skill"]
    a_service = harness.registry.get(ws_a["id"]).workspace.skills
    b_service = harness.registry.get(ws_b["id"]).workspace.skills
    assert a_service is not b_service

    write_skill(project_skills(project_a), "wsa-marker")
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws_a['id']}/skills")
    assert [s["name"] for s in listed] == ["wsa-marker", "wsa-only-skill"]
    (event,) = skills_events(harness, ws_a["id"])
    assert "wsa-marker" in json.dumps(event)
    assert skills_events(harness, ws_b["id"]) == []
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws_b['id']}/skills")
    assert [s["name"] for s in listed] == ["wsb-only-skill"]
    _, got_b = await harness.json("GET", f"/v1/workspaces/{ws_b['id']}")
    assert [s["name"] for s in got_b["skills"]] == ["wsb-only-skill"]


async def test_config_change_rescans_with_new_skills_paths(
    harness: Harness, project: Path, tmp_path: Path
) -> None:
    """Setting options.skills_paths publishes config_changed, then skills_event."""
    extra = tmp_path / "team-skills"
    path = write_skill(extra, "team-skill")
    ws = (await create(harness, project))["id"]
    body = {"scope": 1, "key": "options.skills_paths", "value": [str(extra)]}
    status, _ = await harness.json("POST", f"/v1/workspaces/{ws}/config/set", body)
    assert status == 200
    log = harness.registry.get(ws).workspace.log
    kinds = [json.loads(f)["type"] for f in log.read_ws(0).frames]
    assert kinds == ["config_changed", "skills_event"]
    (event,) = skills_events(harness, ws)
    assert event["payload"]["states"] == [
        {"name": "team-skill", "path": str(path), "state": 0}
    ]
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert [(s["name"], s["source"]) for s in listed] == [("team-skill", "user")]


async def test_project_config_skills_paths_apply_at_create(
    harness: Harness, project: Path
) -> None:
    """A crush.json with options.skills_paths (relative) is used by the first scan."""
    write_skill(project / "tools" / "skills", "tool-skill")
    (project / "crush.json").write_text(
        json.dumps({"options": {"skills_paths": ["tools/skills"]}})
    )
    body = await create(harness, project)
    assert [s["name"] for s in body["skills"]] == ["tool-skill"]
    _, listed = await harness.json("GET", f"/v1/workspaces/{body['id']}/skills")
    assert [(s["name"], s["source"]) for s in listed] == [("tool-skill", "project")]


async def test_disabled_skills_are_neither_listed_nor_readable(
    harness: Harness, project: Path
) -> None:
    """options.disabled_skills hides a skill from list and read; its state stays."""
    kept = write_skill(project_skills(project), "kept")
    hidden = write_skill(project_skills(project), "hidden")
    (project / "crush.json").write_text(
        json.dumps({"options": {"disabled_skills": ["hidden"]}})
    )
    body = await create(harness, project)
    assert sorted(s["name"] for s in body["skills"]) == ["hidden", "kept"]
    ws = body["id"]
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert [s["name"] for s in listed] == ["kept"]
    read = f"/v1/workspaces/{ws}/skills/read"
    status, answer = await harness.json("POST", read, {"skill_id": str(hidden)})
    assert (status, answer) == (404, {"message": f"skill not found: {hidden}"})
    assert (await harness.json("POST", read, {"skill_id": str(kept)}))[0] == 200


async def test_enabling_a_skill_by_config_lists_it_without_a_skills_event(
    harness: Harness, project: Path
) -> None:
    """Clearing disabled_skills lists the skill again; no state changed, no event."""
    write_skill(project_skills(project), "hidden")
    (project / "crush.json").write_text(
        json.dumps({"options": {"disabled_skills": ["hidden"]}})
    )
    ws = (await create(harness, project))["id"]
    body = {"scope": 1, "key": "options.disabled_skills", "value": []}
    status, _ = await harness.json("POST", f"/v1/workspaces/{ws}/config/set", body)
    assert status == 200
    _, listed = await harness.json("GET", f"/v1/workspaces/{ws}/skills")
    assert [s["name"] for s in listed] == ["hidden"]
    assert skills_events(harness, ws) == []
