"""Permission and question routes: any client answers, exactly one wins.

The routes of ``crushd/server/routes/_permissions.py`` over a real workspace:
a tool's ``permissions.request`` (or the question tool's ``questions.ask``)
runs in a task, the routes decide it, the event log shows what every client
saw (docs/protocol.md 2.6, 2.7, 6.5, 6.6; docs/agent.md 3.4). The services'
own rules are tested in tests/workspace/; the full flow with a model in
tests/e2e/test_permission_flow.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from crushd.agent.tools import PermissionAsk
from crushd.proto import QuestionItem, QuestionResponse
from crushd.workspace import Workspace

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps after 20 ms of real idleness (store threads)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


@attrs.frozen
class Open:
    """A workspace held by an attached client, and its route prefix."""

    id: str
    workspace: Workspace
    base: str

    async def post(
        self, harness: Harness, route: str, body: Any = None
    ) -> tuple[int, Any]:
        return await harness.json("POST", f"{self.base}/{route}", body)

    async def get(self, harness: Harness, route: str) -> tuple[int, Any]:
        return await harness.json("GET", f"{self.base}/{route}")

    def payloads(self, kind: str) -> list[dict[str, Any]]:
        """The payloads of every ``kind`` event published so far."""
        frames = [json.loads(f) for f in self.workspace.log.read_ws(0).frames]
        return [f["payload"]["payload"] for f in frames if f["type"] == kind]

    def resolutions(self) -> list[dict[str, Any]]:
        """The permission notifications that decide (not the "asking" ones)."""
        notes = self.payloads("permission_notification")
        return [n for n in notes if n["granted"] or n["denied"]]


@pytest.fixture
async def ws(
    harness: Harness, project: Path, idle_clock: trio.testing.MockClock
) -> Open:
    client_id = new_id()
    body = {"path": str(project), "client_id": client_id}
    status, created = await harness.json("POST", "/v1/workspaces", body)
    assert status == 200, created
    # A stream claim: the workspace stays without a grace timer to jump to.
    harness.registry.attach(created["id"], client_id)
    workspace = harness.registry.get(created["id"]).workspace
    return Open(created["id"], workspace, f"/v1/workspaces/{created['id']}")


@attrs.define
class Asked:
    """A tool's permission request running in a task, and its outcome."""

    call_id: str
    granted: bool | None = None
    done: trio.Event = attrs.field(factory=trio.Event)


WRITE = PermissionAsk(
    "write", "write", "config.json", "Create file config.json", {"file_path": "x"}
)


async def ask(
    nursery: trio.Nursery, ws: Open, session_id: str = "s1", ask: PermissionAsk = WRITE
) -> Asked:
    """Start a request as a tool would; return once it waits (or is decided)."""
    asked = Asked(new_id())

    async def run() -> None:
        permissions = ws.workspace.permissions
        asked.granted = await permissions.request(session_id, asked.call_id, ask)
        asked.done.set()

    nursery.start_soon(run)
    await trio.testing.wait_all_tasks_blocked()
    return asked


async def pending(harness: Harness, ws: Open) -> list[dict[str, Any]]:
    status, listed = await ws.get(harness, "permissions")
    assert status == 200
    assert isinstance(listed, list)
    return listed


async def the_pending(harness: Harness, ws: Open) -> dict[str, Any]:
    (request,) = await pending(harness, ws)
    assert isinstance(request, dict)
    return request


def grant_body(request: dict[str, Any], action: str = "allow") -> dict[str, Any]:
    return {"permission": request, "action": action}


# -- permissions/grant ---------------------------------------------------------


async def test_grant_resolves_a_pending_request_exactly_once(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """First grant {"resolved": true}, the second and an unknown id false."""
    asked = await ask(nursery, ws)
    request = await the_pending(harness, ws)
    assert request == ws.payloads("permission_request")[0]
    assert (request["tool_call_id"], request["session_id"]) == (asked.call_id, "s1")
    first = await ws.post(harness, "permissions/grant", grant_body(request))
    again = await ws.post(harness, "permissions/grant", grant_body(request, "deny"))
    unknown = grant_body({**request, "id": new_id()})
    assert first == (200, {"resolved": True})
    assert again == (200, {"resolved": False})
    assert await ws.post(harness, "permissions/grant", unknown) == (
        200,
        {"resolved": False},
    )
    await asked.done.wait()
    assert asked.granted is True
    resolution = {"tool_call_id": asked.call_id, "granted": True, "denied": False}
    assert ws.resolutions() == [resolution]


async def test_deny_resolves_it_as_denied(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """A deny wins like a grant; the tool hears False, clients see denied."""
    asked = await ask(nursery, ws)
    request = await the_pending(harness, ws)
    answer = await ws.post(harness, "permissions/grant", grant_body(request, "deny"))
    assert answer == (200, {"resolved": True})
    await asked.done.wait()
    assert asked.granted is False
    assert [(n["granted"], n["denied"]) for n in ws.resolutions()] == [(False, True)]


async def test_the_resolution_names_the_client_that_decided(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """?client_id= becomes resolved_by; without it the key is left out."""
    decider = new_id()
    asked = await ask(nursery, ws)
    body = grant_body(await the_pending(harness, ws))
    route = f"permissions/grant?client_id={decider}"
    assert await ws.post(harness, route, body) == (200, {"resolved": True})
    await asked.done.wait()
    second = await ask(nursery, ws, "s2")
    body = grant_body(await the_pending(harness, ws))
    assert await ws.post(harness, "permissions/grant", body) == (
        200,
        {"resolved": True},
    )
    await second.done.wait()
    named = [n.get("resolved_by") for n in ws.resolutions()]
    assert named == [decider, None]


async def test_grant_refuses_bad_input_and_leaves_the_request_pending(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """Bad client_id, unknown action, malformed bodies: 400s that decide nothing."""
    asked = await ask(nursery, ws)
    request = await the_pending(harness, ws)
    cases: list[tuple[str, Any, str]] = [
        ("?client_id=nope", grant_body(request), "client_id is not a valid UUID"),
        ("", grant_body(request, "always"), "invalid permission action"),
        ("", grant_body(request, ""), "invalid permission action"),
        ("", "{not json", "failed to decode request"),
        ("", "", "failed to decode request"),
        ("", "[]", "failed to decode request"),
        ("", {"permission": 5, "action": "allow"}, "failed to decode request"),
        ("", {"permission": None, "action": "allow"}, "failed to decode request"),
    ]
    for query, body, text in cases:
        status, answer = await ws.post(harness, f"permissions/grant{query}", body)
        assert status == 400, (query, body)
        assert text in answer["message"], (query, body)
    assert await pending(harness, ws) == [request]
    assert ws.resolutions() == []
    assert not asked.done.is_set()


async def test_grant_accepts_absent_or_any_params(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """Only permission.id selects the request: params may be absent or a string."""
    for params in (None, "raw tool input"):
        asked = await ask(nursery, ws)
        request = await the_pending(harness, ws)
        permission = {"id": request["id"]}
        if params is not None:
            permission["params"] = params
        body = {"permission": permission, "action": "allow"}
        assert await ws.post(harness, "permissions/grant", body) == (
            200,
            {"resolved": True},
        )
        await asked.done.wait()
        assert asked.granted is True


async def test_unknown_workspace_is_404_on_every_route(harness: Harness) -> None:
    base = f"/v1/workspaces/{new_id()}"
    routes: list[tuple[str, str, Any]] = [
        ("GET", "permissions", None),
        ("GET", "permissions/skip", None),
        ("POST", "permissions/skip", {"skip": True}),
        ("POST", "permissions/grant", grant_body({"id": new_id()})),
        ("POST", "questions/answer", {"responses": []}),
        ("POST", "questions/cancel", None),
    ]
    for method, route, body in routes:
        answer = await harness.json(method, f"{base}/{route}", body)
        assert answer == (404, {"message": "workspace not found"}), route


async def test_pending_lists_the_waiting_request_then_nothing(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """GET permissions: [] before, the request while waiting, [] after."""
    assert await pending(harness, ws) == []
    asked = await ask(nursery, ws)
    request = await the_pending(harness, ws)
    assert request["session_id"] == "s1"
    assert request["tool_name"] == "write"
    assert request["params"] == {"file_path": "x"}
    await ws.post(harness, "permissions/grant", grant_body(request))
    assert await pending(harness, ws) == []
    await asked.done.wait()


# -- permissions/skip ----------------------------------------------------------


async def test_skip_for_the_workspace_approves_every_prompt(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """POST skip true: GET says so, requests pass silently; false undoes it."""
    assert await ws.get(harness, "permissions/skip") == (200, {"skip": False})
    assert await ws.post(harness, "permissions/skip", {"skip": True}) == (200, None)
    assert await ws.get(harness, "permissions/skip") == (200, {"skip": True})
    assert await ws.get(harness, "permissions/skip?session_id=s1") == (
        200,
        {"skip": True},
    )
    asked = await ask(nursery, ws)
    assert asked.granted is True
    assert ws.payloads("permission_request") == []
    assert await ws.post(harness, "permissions/skip", {"skip": False}) == (200, None)
    assert await ws.get(harness, "permissions/skip") == (200, {"skip": False})
    waiting = await ask(nursery, ws)
    assert not waiting.done.is_set()
    assert len(await pending(harness, ws)) == 1


async def test_skip_for_one_session_leaves_the_others_asking(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """session_id: that session passes, another session and the toggle do not."""
    body = {"skip": True, "session_id": "s1"}
    assert await ws.post(harness, "permissions/skip", body) == (200, None)
    assert await ws.get(harness, "permissions/skip?session_id=s1") == (
        200,
        {"skip": True},
    )
    assert await ws.get(harness, "permissions/skip?session_id=s2") == (
        200,
        {"skip": False},
    )
    assert await ws.get(harness, "permissions/skip") == (200, {"skip": False})
    mine = await ask(nursery, ws, "s1")
    assert mine.granted is True
    other = await ask(nursery, ws, "s2")
    assert not other.done.is_set()
    assert [r["session_id"] for r in await pending(harness, ws)] == ["s2"]
    off = {"skip": False, "session_id": "s1"}
    assert await ws.post(harness, "permissions/skip", off) == (200, None)
    assert await ws.get(harness, "permissions/skip?session_id=s1") == (
        200,
        {"skip": False},
    )


async def test_skip_refuses_a_malformed_body(harness: Harness, ws: Open) -> None:
    for body in ("", "{", {"skip": "yes"}, "[true]"):
        status, answer = await ws.post(harness, "permissions/skip", body)
        assert (status, answer["message"][:24]) == (400, "failed to decode request")
    assert await ws.get(harness, "permissions/skip") == (200, {"skip": False})


# -- questions -----------------------------------------------------------------


YES_NO = QuestionItem(type="yes_no", question="Proceed?", description="Deletes it.")


@attrs.define
class Questioned:
    """The question tool waiting in a task, and what it got back."""

    responses: list[QuestionResponse] | None = None
    done: trio.Event = attrs.field(factory=trio.Event)


async def question(nursery: trio.Nursery, ws: Open) -> tuple[Questioned, str]:
    """Start a one-question batch; return its waiter and the batch id."""
    questioned = Questioned()

    async def run() -> None:
        questions = ws.workspace.questions
        questioned.responses = await questions.ask("s1", new_id(), [YES_NO])
        questioned.done.set()

    nursery.start_soon(run)
    await trio.testing.wait_all_tasks_blocked()
    (batch,) = ws.payloads("question_batch_request")[-1:]
    return questioned, str(batch["id"])


def answer_body(batch_id: str) -> dict[str, Any]:
    return {
        "batch_request_id": batch_id,
        "responses": [{"request_id": "q1", "yes": True, "notes": {"k": "v"}}],
    }


async def test_answer_resolves_the_batch_once_and_a_stale_id_loses(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """A stale batch id false; the right one true (with resolved_by); again false."""
    decider = new_id()
    questioned, batch_id = await question(nursery, ws)
    stale = await ws.post(harness, "questions/answer", answer_body(new_id()))
    assert stale == (200, {"resolved": False})
    route = f"questions/answer?client_id={decider}"
    assert await ws.post(harness, route, answer_body(batch_id)) == (
        200,
        {"resolved": True},
    )
    assert await ws.post(harness, route, answer_body(batch_id)) == (
        200,
        {"resolved": False},
    )
    await questioned.done.wait()
    assert questioned.responses == [
        QuestionResponse(request_id="q1", yes=True, notes={"k": "v"})
    ]
    (note,) = ws.payloads("question_batch_notification")
    assert note == {"batch_id": batch_id, "session_id": "s1", "resolved_by": decider}


async def test_answer_without_a_batch_id_takes_the_pending_one(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """Upstream's client sends no batch id: whatever is pending is answered."""
    assert await ws.post(harness, "questions/answer", {"responses": []}) == (
        200,
        {"resolved": False},
    )
    questioned, _ = await question(nursery, ws)
    assert await ws.post(harness, "questions/answer", {"responses": []}) == (
        200,
        {"resolved": True},
    )
    await questioned.done.wait()
    assert questioned.responses == []


async def test_cancel_with_no_body_closes_the_batch_once(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """Empty body: true, the tool hears None; again false; cancelled note."""
    assert await ws.post(harness, "questions/cancel") == (200, {"resolved": False})
    questioned, batch_id = await question(nursery, ws)
    assert await ws.post(harness, "questions/cancel") == (200, {"resolved": True})
    assert await ws.post(harness, "questions/cancel") == (200, {"resolved": False})
    await questioned.done.wait()
    assert questioned.responses is None
    (note,) = ws.payloads("question_batch_notification")
    assert note == {"batch_id": batch_id, "session_id": "s1", "cancelled": True}


async def test_cancel_with_a_batch_id_cancels_only_that_batch(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """A stale id is false and leaves the batch; its own id cancels it."""
    decider = new_id()
    questioned, batch_id = await question(nursery, ws)
    stale = {"batch_request_id": new_id()}
    assert await ws.post(harness, "questions/cancel", stale) == (
        200,
        {"resolved": False},
    )
    assert not questioned.done.is_set()
    route = f"questions/cancel?client_id={decider}"
    own = {"batch_request_id": batch_id}
    assert await ws.post(harness, route, own) == (200, {"resolved": True})
    await questioned.done.wait()
    (note,) = ws.payloads("question_batch_notification")
    assert (note["resolved_by"], note["cancelled"]) == (decider, True)


async def test_question_routes_refuse_bad_input_without_deciding(
    harness: Harness, ws: Open, nursery: trio.Nursery
) -> None:
    """Bad client_id and malformed bodies are 400s; the batch stays open."""
    questioned, batch_id = await question(nursery, ws)
    cases: list[tuple[str, Any, str]] = [
        ("questions/answer?client_id=x", answer_body(batch_id), "client_id"),
        ("questions/cancel?client_id=x", None, "client_id"),
        ("questions/answer", "", "failed to decode request"),
        ("questions/answer", "{", "failed to decode request"),
        ("questions/answer", {"responses": "yes"}, "failed to decode request"),
        ("questions/cancel", "{", "failed to decode request"),
        ("questions/cancel", {"batch_request_id": 7}, "failed to decode request"),
    ]
    for route, body, text in cases:
        status, answer = await ws.post(harness, route, body)
        assert status == 400, (route, body)
        assert text in answer["message"], (route, body)
    assert not questioned.done.is_set()
    assert ws.payloads("question_batch_notification") == []
    assert await ws.post(harness, "questions/cancel") == (200, {"resolved": True})
