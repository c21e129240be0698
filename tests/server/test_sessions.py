"""Session routes: CRUD, presence counts, events on the log, messages and history."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from crushd.proto import Message, Part

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def ws(harness: Harness, project: Path) -> str:
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    assert status == 200
    return str(body["id"])


def events(harness: Harness, ws: str) -> list[dict[str, Any]]:
    log = harness.registry.get(ws).workspace.log
    batch = log.read_ws(0)
    return [json.loads(frame) for frame in batch.frames]


async def test_session_list_starts_empty(harness: Harness, ws: str) -> None:
    """A new workspace lists no sessions: []."""
    assert await harness.json("GET", f"/v1/workspaces/{ws}/sessions") == (200, [])


async def test_session_create_publishes_created(harness: Harness, ws: str) -> None:
    """POST /sessions honours title and publishes one session/created event."""
    status, session = await harness.json(
        "POST", f"/v1/workspaces/{ws}/sessions", {"title": "hello"}
    )
    assert status == 200
    assert session["title"] == "hello"
    assert session["is_busy"] is False
    assert session["attached_clients"] == 0
    (event,) = events(harness, ws)
    assert event["type"] == "session"
    assert event["payload"] == {"type": "created", "payload": session}


async def test_session_get_unknown_is_404(harness: Harness, ws: str) -> None:
    """An unknown session id answers 404 session not found (decision B.4)."""
    path = f"/v1/workspaces/{ws}/sessions/{new_id()}"
    assert await harness.json("GET", path) == (404, {"message": "session not found"})
    assert (await harness.json("PUT", path, {"title": "x"}))[0] == 404
    assert (await harness.json("DELETE", path))[0] == 404


async def test_session_update_is_partial(harness: Harness, ws: str) -> None:
    """PUT changes only the fields sent, takes the path id, publishes updated."""
    _, session = await harness.json(
        "POST", f"/v1/workspaces/{ws}/sessions", {"title": "a"}
    )
    path = f"/v1/workspaces/{ws}/sessions/{session['id']}"
    status, updated = await harness.json("PUT", path, {"prompt_tokens": 7, "cost": 0.5})
    assert status == 200
    assert (updated["title"], updated["prompt_tokens"], updated["cost"]) == (
        "a",
        7,
        0.5,
    )
    status, updated = await harness.json(
        "PUT",
        path,
        {
            "todos": [
                {"content": "c", "status": "in_progress", "active_form": "doing c"}
            ]
        },
    )
    assert updated["prompt_tokens"] == 7
    assert updated["todos"][0]["status"] == "in_progress"
    assert [e["payload"]["type"] for e in events(harness, ws)] == [
        "created",
        "updated",
        "updated",
    ]


async def test_session_update_rejects_bad_input(harness: Harness, ws: str) -> None:
    """A mismatched body id or unknown todo status answers 400, changing nothing."""
    _, session = await harness.json(
        "POST", f"/v1/workspaces/{ws}/sessions", {"title": "a"}
    )
    path = f"/v1/workspaces/{ws}/sessions/{session['id']}"
    assert (await harness.json("PUT", path, {"id": new_id(), "title": "b"}))[0] == 400
    bad_todo = {"todos": [{"content": "c", "status": "later"}]}
    assert (await harness.json("PUT", path, bad_todo))[0] == 400
    assert (await harness.json("PUT", path, {"title": 5}))[0] == 400
    assert (await harness.json("GET", path))[1]["title"] == "a"


async def test_session_delete(harness: Harness, ws: str) -> None:
    """DELETE removes the session and publishes session/deleted."""
    _, session = await harness.json(
        "POST", f"/v1/workspaces/{ws}/sessions", {"title": "a"}
    )
    path = f"/v1/workspaces/{ws}/sessions/{session['id']}"
    assert (await harness.json("DELETE", path))[0] == 200
    assert (await harness.json("GET", path))[0] == 404
    assert events(harness, ws)[-1]["payload"]["type"] == "deleted"


async def test_session_children_are_not_listed(harness: Harness, ws: str) -> None:
    """Child sessions are gettable but not listed at top level; unknown parent 404."""
    base = f"/v1/workspaces/{ws}/sessions"
    _, parent = await harness.json("POST", base, {"title": "p"})
    _, child = await harness.json(
        "POST", base, {"title": "c", "parent_session_id": parent["id"]}
    )
    assert child["parent_session_id"] == parent["id"]
    _, listed = await harness.json("GET", base)
    assert [s["id"] for s in listed] == [parent["id"]]
    assert (await harness.json("GET", f"{base}/{child['id']}"))[0] == 200
    orphan = {"title": "o", "parent_session_id": new_id()}
    assert (await harness.json("POST", base, orphan))[0] == 404


async def test_session_list_newest_update_first(harness: Harness, ws: str) -> None:
    """The list is ordered by updated_at, most recent first."""
    base = f"/v1/workspaces/{ws}/sessions"
    _, first = await harness.json("POST", base, {"title": "first"})
    _, second = await harness.json("POST", base, {"title": "second"})
    _, listed = await harness.json("GET", base)
    assert {s["id"] for s in listed} == {first["id"], second["id"]}
    stamps = [s["updated_at"] for s in listed]
    assert stamps == sorted(stamps, reverse=True)


async def test_session_list_includes_attached_clients(
    harness: Harness, ws: str
) -> None:
    """attached_clients counts streaming clients on the session only."""
    base = f"/v1/workspaces/{ws}/sessions"
    _, session = await harness.json("POST", base, {"title": "s"})
    viewer, other, holder = new_id(), new_id(), new_id()
    harness.registry.attach(ws, viewer)
    harness.registry.attach(ws, other)
    harness.registry.set_current_session(ws, viewer, session["id"])
    await harness.json(
        "POST",
        "/v1/workspaces",
        {"path": harness.registry.get(ws).key, "client_id": holder},
    )
    _, listed = await harness.json("GET", base)
    assert listed[0]["attached_clients"] == 1
    _, got = await harness.json("GET", f"{base}/{session['id']}")
    assert got["attached_clients"] == 1
    assert got["is_busy"] is False


async def test_messages_and_history_routes(harness: Harness, ws: str) -> None:
    """messages lists ascending, messages/user descending, history is []."""
    base = f"/v1/workspaces/{ws}"
    _, session = await harness.json("POST", f"{base}/sessions", {"title": "s"})
    store = harness.registry.get(ws).workspace.messages
    for index, role in enumerate(["user", "assistant", "user"]):
        await store.create(
            Message(
                id=f"m{index}",
                role=role,
                session_id=session["id"],
                parts=[Part(type="text", data={"text": str(index)})],
                created_at=100 + index,
                updated_at=100 + index,
            )
        )
    sid = session["id"]
    _, everything = await harness.json("GET", f"{base}/sessions/{sid}/messages")
    assert [m["id"] for m in everything] == ["m0", "m1", "m2"]
    _, users = await harness.json("GET", f"{base}/sessions/{sid}/messages/user")
    assert [m["id"] for m in users] == ["m2", "m0"]
    _, all_users = await harness.json("GET", f"{base}/messages/user")
    assert [m["id"] for m in all_users] == ["m2", "m0"]
    assert await harness.json("GET", f"{base}/sessions/{sid}/history") == (200, [])
    _, got = await harness.json("GET", f"{base}/sessions/{sid}")
    assert got["message_count"] == 3


class BusyAgent:
    """A stand-in agent: busy for the sessions in ``busy``."""

    def __init__(self, *busy: str) -> None:
        self.busy = set(busy)

    def is_busy(self, session_id: str) -> bool:
        return session_id in self.busy

    async def serve(self, *, task_status: Any = None) -> None:
        raise AssertionError("not served in these tests")


async def test_session_is_busy_is_real_in_list_and_get(
    harness: Harness, ws: str
) -> None:
    """is_busy comes from the workspace's agent; idle sessions stay false."""
    base = f"/v1/workspaces/{ws}/sessions"
    _, busy = await harness.json("POST", base, {"title": "busy"})
    _, idle = await harness.json("POST", base, {"title": "idle"})
    workspace = harness.registry.get(ws).workspace
    workspace.agent = BusyAgent(busy["id"])
    _, listed = await harness.json("GET", base)
    assert {s["id"]: s["is_busy"] for s in listed} == {
        busy["id"]: True,
        idle["id"]: False,
    }
    assert (await harness.json("GET", f"{base}/{busy['id']}"))[1]["is_busy"] is True
    assert (await harness.json("GET", f"{base}/{idle['id']}"))[1]["is_busy"] is False
    _, updated = await harness.json("PUT", f"{base}/{busy['id']}", {"title": "t"})
    assert updated["is_busy"] is True


async def test_messages_route_flushes_streaming_updates_first(
    harness: Harness, ws: str
) -> None:
    """GET messages shows a debounced delta the flusher has not written yet."""
    base = f"/v1/workspaces/{ws}"
    _, session = await harness.json("POST", f"{base}/sessions", {"title": "s"})
    service = harness.registry.get(ws).workspace.messages
    message = Message(id="a", role="assistant", session_id=session["id"])
    await service.create(message)
    text = [Part(type="text", data={"text": "streamed"})]
    service.update_soon(
        Message(id="a", role="assistant", session_id=session["id"], parts=text)
    )
    _, listed = await harness.json("GET", f"{base}/sessions/{session['id']}/messages")
    assert listed[0]["parts"] == [{"type": "text", "data": {"text": "streamed"}}]
