"""Client permission, question and shell calls: request shapes and answers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from crushctl import (
    Client,
    RequestError,
    ShellResult,
)
from crushd.proto import (
    PermissionRequest,
    QuestionResponse,
    parse_host,
)

CLIENT = "6f1a2b3c-0000-4000-8000-00000000000c"
WS = "/v1/workspaces/w1"
REQUEST: dict[str, Any] = {
    "id": "p1",
    "session_id": "s1",
    "tool_call_id": "c1",
    "tool_name": "write",
    "description": "Create hello.txt",
    "action": "write",
    "params": {"file_path": "/proj/hello.txt", "new_content": "hi"},
    "path": "/proj",
}


class Recorder:
    """Answers every request with ``answer``; records method, path, query, body."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str], Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        query = dict(request.url.params)
        self.seen.append((request.method, request.url.path, query, body))
        if self.answer is None:
            return httpx.Response(200)
        return httpx.Response(200, json=self.answer)


def client(recorder: Recorder) -> Client:
    transport = httpx.MockTransport(recorder)
    host = parse_host("unix:///tmp/x.sock")
    return Client(host, transport=transport, token="", client_id=CLIENT)


async def test_pending_permissions_decodes_requests_and_null() -> None:
    """GET .../permissions: an array of requests (params kept as sent); null is []."""
    async with client(Recorder([REQUEST])) as c:
        pending = await c.pending_permissions("w1")
    assert pending == [PermissionRequest(**REQUEST)]
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"null"))
    host = parse_host("unix:///tmp/x.sock")
    async with Client(host, transport=transport, token="") as c:
        assert await c.pending_permissions("w1") == []


async def test_grant_sends_the_request_the_action_and_who_decides() -> None:
    """POST permissions/grant?client_id=: the whole request (params present
    even when null) and the action; the answer's resolved is returned."""
    recorder = Recorder({"resolved": True})
    bare = PermissionRequest(id="p9")
    async with client(recorder) as c:
        assert await c.grant_permission("w1", PermissionRequest(**REQUEST), "allow")
        recorder.answer = {"resolved": False}
        assert not await c.grant_permission("w1", bare, "deny")
    first, second = recorder.seen
    assert first == (
        "POST",
        f"{WS}/permissions/grant",
        {"client_id": CLIENT},
        {"permission": REQUEST, "action": "allow"},
    )
    assert second[3]["permission"]["params"] is None
    assert second[3]["action"] == "deny"


async def test_grant_refuses_an_unknown_action_before_sending() -> None:
    """Only allow, allow_session and deny exist; nothing is sent otherwise."""
    recorder = Recorder({"resolved": True})
    async with client(recorder) as c:
        with pytest.raises(ValueError, match="invalid permission action"):
            await c.grant_permission("w1", PermissionRequest(id="p1"), "maybe")
    assert recorder.seen == []


async def test_grant_with_a_bad_answer_is_a_request_error() -> None:
    """An answer that is not {"resolved": bool} is a RequestError, not a crash."""
    async with client(Recorder({"resolved": "yes"})) as c:
        with pytest.raises(RequestError):
            await c.grant_permission("w1", PermissionRequest(id="p1"), "allow")


async def test_skip_get_and_set_for_the_workspace_or_one_session() -> None:
    """GET/POST permissions/skip; a session id goes in the query (GET) or the
    body (POST), and is left out when empty."""
    recorder = Recorder({"skip": True})
    async with client(recorder) as c:
        assert await c.permission_skip("w1")
        assert await c.permission_skip("w1", "s1")
        recorder.answer = None
        await c.set_permission_skip("w1", True, session_id="s1")
        await c.set_permission_skip("w1", False)
    path = f"{WS}/permissions/skip"
    assert recorder.seen == [
        ("GET", path, {}, None),
        ("GET", path, {"session_id": "s1"}, None),
        ("POST", path, {}, {"skip": True, "session_id": "s1"}),
        ("POST", path, {}, {"skip": False}),
    ]


async def test_questions_answer_and_cancel() -> None:
    """questions/answer carries the batch id and one response per question
    (empty fields left out); questions/cancel has no body; both say resolved."""
    recorder = Recorder({"resolved": True})
    responses = [
        QuestionResponse(request_id="q1", yes=True),
        QuestionResponse(request_id="q2", selected_ids=["a", "b"]),
        QuestionResponse(request_id="q3", fill_in_text="blue"),
    ]
    async with client(recorder) as c:
        assert await c.answer_questions("w1", "b1", responses)
        recorder.answer = {"resolved": False}
        assert not await c.cancel_questions("w1")
    assert recorder.seen[0][3] == {
        "batch_request_id": "b1",
        "responses": [
            {"request_id": "q1", "yes": True},
            {"request_id": "q2", "selected_ids": ["a", "b"]},
            {"request_id": "q3", "fill_in_text": "blue"},
        ],
    }
    assert recorder.seen[1] == ("POST", f"{WS}/questions/cancel", {}, None)


async def test_shell_posts_the_command_and_width_without_a_read_timeout() -> None:
    """POST .../agent/sessions/{sid}/shell {command, term_width}; the answer is
    output and exit code; the read waits as long as the command runs."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"output": "a\n", "exit_code": 2})

    host = parse_host("unix:///tmp/x.sock")
    transport = httpx.MockTransport(handle)
    async with Client(host, transport=transport, token="", client_id=CLIENT) as c:
        result = await c.shell("w1", "s1", "ls -la", term_width=120)
        await c.shell("w1", "s1", "true")
    assert result == ShellResult(output="a\n", exit_code=2)
    assert seen[0].url.path == f"{WS}/agent/sessions/s1/shell"
    assert json.loads(seen[0].content) == {"command": "ls -la", "term_width": 120}
    assert json.loads(seen[1].content) == {"command": "true"}
    assert seen[0].extensions["timeout"]["read"] is None
