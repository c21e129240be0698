"""Client agent calls: request shapes and answers against MockTransport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from crushctl import BadRequestError, Client, RequestError
from crushd.proto import (
    AgentInfo,
    Attachment,
    CatalogModel,
    SelectedModel,
    Session,
    parse_host,
)

CLIENT = "6f1a2b3c-0000-4000-8000-00000000000c"


class Recorder:
    """Answers every request with ``status`` and ``answer``; records what came."""

    def __init__(self, answer: object = None, status: int = 200) -> None:
        self.answer = answer
        self.status = status
        self.seen: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, body))
        if self.answer is None:
            return httpx.Response(self.status)
        return httpx.Response(self.status, json=self.answer)


def client(recorder: Recorder) -> Client:
    transport = httpx.MockTransport(recorder)
    host = parse_host("unix:///tmp/x.sock")
    return Client(host, transport=transport, token="", client_id=CLIENT)


async def test_send_prompt_posts_the_agent_message() -> None:
    """POST /agent carries session, prompt, client id; run_id and attachments
    only when given; the 202 is a success."""
    recorder = Recorder(status=202)
    attachment = Attachment("/p/a.txt", "a.txt", "text/plain", "aGk=")
    async with client(recorder) as c:
        await c.send_prompt("w1", "s1", "hello")
        await c.send_prompt("w1", "s/1", "hi", run_id="r1", attachments=[attachment])
    assert recorder.seen == [
        (
            "POST",
            "/v1/workspaces/w1/agent",
            {"session_id": "s1", "prompt": "hello", "client_id": CLIENT},
        ),
        (
            "POST",
            "/v1/workspaces/w1/agent",
            {
                "session_id": "s/1",
                "prompt": "hi",
                "client_id": CLIENT,
                "run_id": "r1",
                "attachments": [
                    {
                        "file_path": "/p/a.txt",
                        "file_name": "a.txt",
                        "mime_type": "text/plain",
                        "content": "aGk=",
                    }
                ],
            },
        ),
    ]


async def test_send_prompt_refused_raises_the_daemon_text() -> None:
    """A 400 (agent not initialised) is a BadRequestError with upstream's text."""
    recorder = Recorder({"message": "agent coordinator not initialized"}, status=400)
    async with client(recorder) as c:
        with pytest.raises(BadRequestError, match="agent coordinator not initialized"):
            await c.send_prompt("w1", "s1", "hello")


async def test_control_routes_use_upstream_paths() -> None:
    """init, update, cancel and prompts/clear POST the docs/protocol.md 2.8 paths."""
    recorder = Recorder()
    async with client(recorder) as c:
        await c.agent_init("w1")
        await c.agent_init("w1", interactive=True)
        await c.agent_update("w1")
        await c.cancel("w1", "s1")
        await c.clear_prompts("w1", "s1")
    assert recorder.seen == [
        ("POST", "/v1/workspaces/w1/agent/init", {"interactive": False}),
        ("POST", "/v1/workspaces/w1/agent/init", {"interactive": True}),
        ("POST", "/v1/workspaces/w1/agent/update", None),
        ("POST", "/v1/workspaces/w1/agent/sessions/s1/cancel", None),
        ("POST", "/v1/workspaces/w1/agent/sessions/s1/prompts/clear", None),
    ]


async def test_reads_decode_their_answers() -> None:
    """GET /agent is an AgentInfo; agent/sessions/{sid} a Session; queued a
    bare integer; prompts/list a list of strings; default-small-model a
    SelectedModel."""
    info = {
        "is_busy": True,
        "is_ready": True,
        "model": {"id": "gpt-x", "context_window": 128000},
        "model_cfg": {"model": "gpt-x", "provider": "openai"},
    }
    async with client(Recorder(info)) as c:
        assert await c.agent_info("w1") == AgentInfo(
            is_busy=True,
            is_ready=True,
            model=CatalogModel(id="gpt-x", context_window=128000),
            model_cfg=SelectedModel(model="gpt-x", provider="openai"),
        )
    async with client(Recorder({"id": "s1", "title": "t", "is_busy": True})) as c:
        assert await c.agent_session("w1", "s1") == Session(
            id="s1", title="t", is_busy=True
        )
    async with client(Recorder(3)) as c:
        assert await c.queued_prompts("w1", "s1") == 3
    async with client(Recorder(["a", "b"])) as c:
        assert await c.list_prompts("w1", "s1") == ["a", "b"]
    recorder = Recorder({"model": "mini", "provider": "openai"})
    async with client(recorder) as c:
        small = await c.default_small_model("w1", "openai")
    assert small == SelectedModel(model="mini", provider="openai")
    assert recorder.seen[0][1] == "/v1/workspaces/w1/agent/default-small-model"


async def test_list_prompts_null_is_empty() -> None:
    """Upstream answers null for no queued prompts: that is an empty list."""
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"null\n"))
    host = parse_host("unix:///tmp/x.sock")
    async with Client(host, transport=transport, token="") as c:
        assert await c.list_prompts("w1", "s1") == []


async def test_queued_prompts_bad_answer_is_a_request_error() -> None:
    """A non-integer answer to prompts/queued is a RequestError, not a crash."""
    async with client(Recorder({"count": 1})) as c:
        with pytest.raises(RequestError, match="invalid response"):
            await c.queued_prompts("w1", "s1")
