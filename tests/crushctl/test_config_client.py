"""Client config, providers and project calls: request shapes against MockTransport."""

from __future__ import annotations

import json
from typing import Any

import httpx

from crushctl import Client
from crushd.proto import parse_host


class Recorder:
    """Answers every request with ``answer``; records method, path and body."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.seen: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, body))
        if self.answer is None:
            return httpx.Response(200)
        return httpx.Response(200, json=self.answer)


def client(recorder: Recorder) -> Client:
    transport = httpx.MockTransport(recorder)
    return Client(parse_host("unix:///tmp/x.sock"), transport=transport, token="")


async def test_reads_decode_plain_json() -> None:
    """config, server_config and providers return the JSON as sent."""
    recorder = Recorder({"options": {"debug": True}})
    async with client(recorder) as c:
        assert await c.config("w1") == {"options": {"debug": True}}
        assert await c.server_config() == {"options": {"debug": True}}
    recorder.answer = [{"id": "p", "models": []}]
    async with client(recorder) as c:
        assert await c.providers("w1") == [{"id": "p", "models": []}]
    assert [path for _, path, _ in recorder.seen] == [
        "/v1/workspaces/w1/config",
        "/v1/config",
        "/v1/workspaces/w1/providers",
    ]


async def test_mutations_send_the_protocol_bodies() -> None:
    """Each mutation POSTs its route with the docs/protocol.md 2.10 body."""
    recorder = Recorder()
    async with client(recorder) as c:
        await c.set_config("w1", "options.debug", True)
        await c.set_config("w1", "options.debug", [1], scope=0)
        await c.remove_config("w1", "providers.x")
        await c.set_model("w1", "large", {"provider": "p", "model": "m"}, scope=0)
        await c.set_compact_mode("w1", True)
        await c.set_provider_key("w1", "openai", "sk")
        await c.init_project("w1")
    prefix = "/v1/workspaces/w1/"
    assert [(m, p.removeprefix(prefix), b) for m, p, b in recorder.seen] == [
        ("POST", "config/set", {"scope": 1, "key": "options.debug", "value": True}),
        ("POST", "config/set", {"scope": 0, "key": "options.debug", "value": [1]}),
        ("POST", "config/remove", {"scope": 1, "key": "providers.x"}),
        (
            "POST",
            "config/model",
            {
                "scope": 0,
                "model_type": "large",
                "model": {"provider": "p", "model": "m"},
            },
        ),
        ("POST", "config/compact", {"scope": 1, "enabled": True}),
        (
            "POST",
            "config/provider-key",
            {"scope": 1, "provider_id": "openai", "kind": "string", "api_key": "sk"},
        ),
        ("POST", "project/init", None),
    ]


async def test_project_reads() -> None:
    """needs_init and init_prompt decode their one-field answers."""
    async with client(Recorder({"needs_init": True})) as c:
        assert await c.needs_init("w1") is True
    async with client(Recorder({"prompt": "write AGENTS.md"})) as c:
        assert await c.init_prompt("w1") == "write AGENTS.md"
