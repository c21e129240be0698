"""HTTP status codes and shapes of the system and workspace routes, in process."""

from __future__ import annotations

import uuid
from pathlib import Path

from crushd.server import MAX_BODY_BYTES

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


async def create(
    h: Harness, path: Path, client_id: str | None = None
) -> dict[str, object]:
    status, body = await h.json(
        "POST",
        "/v1/workspaces",
        {"path": str(path), "client_id": client_id or new_id()},
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def test_health_is_empty_200(harness: Harness) -> None:
    """GET /v1/health answers 200 with an empty body and no Content-Type."""
    response = await harness.client.get("/v1/health")
    assert response.status_code == 200
    assert await response.get_data() == b""


async def test_version_has_upstream_keys(harness: Harness) -> None:
    """GET /v1/version carries version, commit, build_id, go_version and platform."""
    status, body = await harness.json("GET", "/v1/version")
    assert status == 200
    assert set(body) == {"version", "commit", "build_id", "go_version", "platform"}
    assert body["go_version"].startswith("python ")


async def test_config_is_an_object(harness: Harness) -> None:
    """GET /v1/config returns the daemon's (redacted) config as a JSON object."""
    status, body = await harness.json("GET", "/v1/config")
    assert status == 200
    assert isinstance(body, dict)


async def test_unknown_path_is_json_404(harness: Harness) -> None:
    """An unknown path answers 404 with a JSON message."""
    status, body = await harness.json("GET", "/v1/nope")
    assert (status, body) == (404, {"message": "404 page not found"})


async def test_wrong_method_is_json_405_with_allow(harness: Harness) -> None:
    """A known path with the wrong method answers 405 JSON and an Allow header."""
    response = await harness.client.delete("/v1/health")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert (await response.get_json())["message"] == "method not allowed"


async def test_body_over_limit_is_413(harness: Harness) -> None:
    """A request body over 10 MiB answers 413 and the daemon keeps serving."""
    big = b"x" * (MAX_BODY_BYTES + 1)
    status, body = await harness.json("POST", "/v1/workspaces", big)
    assert status == 413
    assert body["message"] == "request body too large"
    assert (await harness.client.get("/v1/health")).status_code == 200


async def test_malformed_json_is_400(harness: Harness) -> None:
    """Malformed JSON and an empty body both answer 400 failed to decode request."""
    for raw in ("{nope", "", "[1, 2]"):
        status, body = await harness.json("POST", "/v1/workspaces", raw or b"")
        assert status == 400
        assert body["message"].startswith("failed to decode request")


async def test_type_mismatch_is_400_with_detail(harness: Harness) -> None:
    """A string where a bool is expected answers 400 naming the field."""
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": "/x", "client_id": new_id(), "yolo": "yes"}
    )
    assert status == 400
    assert body["message"].startswith("failed to decode request")
    assert "$.yolo" in body["message"]


async def test_control_unknown_command_is_400(harness: Harness) -> None:
    """POST /v1/control with an unknown command answers 400 unknown command."""
    status, body = await harness.json("POST", "/v1/control", {"command": "dance"})
    assert (status, body) == (400, {"message": "unknown command"})


async def test_control_shutdown_is_idle_gated(harness: Harness, project: Path) -> None:
    """Shutdown is refused with 409 while a workspace lives, accepted when idle."""
    workspace = await create(harness, project)
    for command in ("shutdown", "shutdown_if_idle"):
        status, body = await harness.json("POST", "/v1/control", {"command": command})
        assert (status, body) == (409, {"message": "server is hosting live workspaces"})
    for claim in harness.registry.roster(str(workspace["id"])):
        harness.registry.release(str(workspace["id"]), claim.client_id)
    status, _ = await harness.json("POST", "/v1/control", {"command": "shutdown"})
    assert status == 200
    assert len(harness.idle_calls) == 1


async def test_control_shutdown_force_is_not_idle_gated(
    harness: Harness, project: Path
) -> None:
    """shutdown_force (crushd's addition) stops a daemon hosting a workspace."""
    await create(harness, project)
    status, _ = await harness.json("POST", "/v1/control", {"command": "shutdown_force"})
    assert status == 200
    assert len(harness.idle_calls) == 1
    assert harness.registry.closing


async def test_create_after_shutdown_is_503(harness: Harness, project: Path) -> None:
    """Once shutting down, POST /v1/workspaces answers 503 server is shutting down."""
    status, _ = await harness.json(
        "POST", "/v1/control", {"command": "shutdown_if_idle"}
    )
    assert status == 200
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    assert (status, body) == (503, {"message": "server is shutting down"})


async def test_post_workspaces_rejects_missing_path(harness: Harness) -> None:
    """A create without a path answers 400 path is required."""
    status, body = await harness.json("POST", "/v1/workspaces", {"client_id": new_id()})
    assert (status, body) == (400, {"message": "path is required"})


async def test_post_workspaces_rejects_missing_client_id(
    harness: Harness, project: Path
) -> None:
    """A create without client_id answers 400 mentioning client_id."""
    status, body = await harness.json("POST", "/v1/workspaces", {"path": str(project)})
    assert status == 400
    assert "client_id" in body["message"]


async def test_post_workspaces_rejects_malformed_client_id(
    harness: Harness, project: Path
) -> None:
    """A create with a malformed client_id answers 400 invalid client_id: detail."""
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": "not-a-uuid"}
    )
    assert status == 400
    assert body["message"].startswith("invalid client_id: ")


async def test_post_workspaces_rejects_relative_path(harness: Harness) -> None:
    """A relative path answers 400 path must be absolute (decision B.16)."""
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": "proj", "client_id": new_id()}
    )
    assert (status, body) == (400, {"message": "path must be absolute"})


async def test_post_workspaces_shape_and_join(harness: Harness, project: Path) -> None:
    """A create answers the workspace; a second client at the same path joins it."""
    first = await create(harness, project)
    assert first["path"] == str(project)
    assert first["data_dir"] == str(project / ".crush")
    assert "client_id" not in first
    second = await create(harness, project)
    assert second["id"] == first["id"]
    assert len(harness.registry.roster(str(first["id"]))) == 2
    status, listed = await harness.json("GET", "/v1/workspaces")
    assert status == 200
    assert [w["id"] for w in listed] == [first["id"]]


async def test_post_workspaces_channels_mismatch_is_409(
    harness: Harness, project: Path
) -> None:
    """Joining with a different channels list answers 409 (B.5), upstream text."""
    await create(harness, project)
    status, body = await harness.json(
        "POST",
        "/v1/workspaces",
        {"path": str(project), "client_id": new_id(), "channels": ["server:x"]},
    )
    assert status == 409
    assert body["message"].startswith("requested channels differ")


async def test_get_unknown_workspace_is_404(harness: Harness) -> None:
    """GET of an unknown workspace answers 404 workspace not found."""
    status, body = await harness.json("GET", f"/v1/workspaces/{new_id()}")
    assert (status, body) == (404, {"message": "workspace not found"})


async def test_delete_workspace_rejects_missing_client_id(harness: Harness) -> None:
    """DELETE /workspaces/{id} without client_id answers 400 client_id is required."""
    status, body = await harness.json("DELETE", "/v1/workspaces/abc")
    assert (status, body) == (400, {"message": "client_id is required"})


async def test_delete_workspace_rejects_malformed_client_id(harness: Harness) -> None:
    """DELETE /workspaces/{id}?client_id=nope answers 400 not a valid UUID."""
    status, body = await harness.json("DELETE", "/v1/workspaces/abc?client_id=nope")
    assert (status, body) == (400, {"message": "client_id is not a valid UUID"})


async def test_delete_workspace_is_idempotent(harness: Harness, project: Path) -> None:
    """Releasing the only hold tears the workspace down; unknown ids answer 200."""
    client_id = new_id()
    workspace = await create(harness, project, client_id)
    path = f"/v1/workspaces/{workspace['id']}?client_id={client_id}"
    assert (await harness.json("DELETE", path))[0] == 200
    assert (await harness.json("GET", f"/v1/workspaces/{workspace['id']}"))[0] == 404
    assert (await harness.json("DELETE", path))[0] == 200


async def test_current_session_errors(harness: Harness, project: Path) -> None:
    """current-session: 400 bad ids or body, 404 unknown workspace, 409 hold-only."""
    client_id = new_id()
    ws = (await create(harness, project, client_id))["id"]
    base = f"/v1/workspaces/{ws}/current-session"
    body = {"session_id": "S1"}
    cases = [
        (base, body, 400, "client_id is required"),
        (f"{base}?client_id=nope", body, 400, "client_id is not a valid UUID"),
        (f"{base}?client_id={client_id}", "{bad", 400, "failed to decode request"),
        (
            f"/v1/workspaces/{new_id()}/current-session?client_id={client_id}",
            body,
            404,
            "workspace not found",
        ),
        (f"{base}?client_id={client_id}", body, 409, "client not attached"),
        (f"{base}?client_id={new_id()}", body, 409, "client not attached"),
    ]
    for path, payload, status, message in cases:
        got = await harness.json("POST", path, payload)
        assert got == (status, {"message": message}), path


async def test_current_session_for_attached_client(
    harness: Harness, project: Path
) -> None:
    """A client with a live stream can set its current session (200)."""
    client_id = new_id()
    ws = str((await create(harness, project, client_id))["id"])
    harness.registry.attach(ws, client_id)
    path = f"/v1/workspaces/{ws}/current-session?client_id={client_id}"
    assert (await harness.json("POST", path, {"session_id": "S1"}))[0] == 200
    assert harness.registry.roster(ws)[0].current_session_id == "S1"


async def test_events_rejects_bad_client_ids(harness: Harness, project: Path) -> None:
    """The events route: 400 for a missing or malformed client_id, 404 unknown."""
    ws = (await create(harness, project))["id"]
    cases = [
        (f"/v1/workspaces/{ws}/events", 400, "client_id is required"),
        (
            f"/v1/workspaces/{ws}/events?client_id=nope",
            400,
            "client_id is not a valid UUID",
        ),
        (
            f"/v1/workspaces/{new_id()}/events?client_id={new_id()}",
            404,
            "workspace not found",
        ),
    ]
    for path, status, message in cases:
        assert await harness.json("GET", path) == (status, {"message": message})


async def test_events_rejects_bad_last_event_id(
    harness: Harness, project: Path
) -> None:
    """A Last-Event-ID that is not a non-negative integer answers 400."""
    ws = (await create(harness, project))["id"]
    path = f"/v1/workspaces/{ws}/events?client_id={new_id()}&last_event_id=-3"
    status, body = await harness.json("GET", path)
    assert status == 400
    assert "Last-Event-ID" in body["message"]


async def test_retire_client(harness: Harness, project: Path) -> None:
    """DELETE /v1/clients/{id} tears down its workspace and later creates get 409."""
    client_id = new_id()
    ws = (await create(harness, project, client_id))["id"]
    assert (await harness.json("DELETE", "/v1/clients/nope"))[0] == 400
    assert (await harness.json("DELETE", f"/v1/clients/{client_id}"))[0] == 200
    assert (await harness.json("GET", f"/v1/workspaces/{ws}"))[0] == 404
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    assert (status, body) == (409, {"message": "client has been retired"})
    path = f"/v1/workspaces/{new_id()}/events?client_id={client_id}"
    assert (await harness.json("GET", path))[0] == 404


async def test_roster_permissions_and_config(harness: Harness, project: Path) -> None:
    """The roster lists the creator's held claim; permissions is []; config too."""
    client_id = new_id()
    ws = (await create(harness, project, client_id))["id"]
    status, roster = await harness.json("GET", f"/v1/workspaces/{ws}/clients")
    assert status == 200
    assert roster[0]["client_id"] == client_id
    assert roster[0]["held"] is True
    assert roster[0]["streams"] == 0
    assert await harness.json("GET", f"/v1/workspaces/{ws}/permissions") == (200, [])
    status, config = await harness.json("GET", f"/v1/workspaces/{ws}/config")
    assert config["options"]["data_directory"] == str(project / ".crush")


async def test_unsupported_routes_answer_501(harness: Harness, project: Path) -> None:
    """Routes not implemented yet answer 501; with an unknown workspace, 404."""
    ws = (await create(harness, project))["id"]
    summarize = f"/v1/workspaces/{ws}/agent/sessions/{new_id()}/summarize"
    assert await harness.json("POST", summarize, {}) == (
        501,
        {"message": "not supported by crushd"},
    )
    assert (await harness.json("POST", f"/v1/workspaces/{ws}/mcp/auth", {}))[0] == 501
    assert (await harness.json("GET", f"/v1/workspaces/{new_id()}/skills"))[0] == 404
