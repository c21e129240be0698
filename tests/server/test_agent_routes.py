"""Agent routes before and after agent/init: statuses, texts and shapes.

The runs themselves are tested in tests/agent/ (fake provider) and end to end
in tests/e2e/test_agent_replay.py (recorded model traffic).
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from crushd.config import ConfigSources
from crushd.server import MAX_BODY_BYTES

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


PROVIDER = {
    "type": "openai-compat",
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": "not-needed-here",
    "models": [{"id": "m1", "context_window": 1000, "default_max_tokens": 100}],
}


@pytest.fixture
async def ws(harness: Harness, project: Path) -> str:
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    assert status == 200
    return str(body["id"])


def configure(sources: ConfigSources) -> None:
    sources.global_file.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "providers": {"local": PROVIDER},
        "models": {"large": {"provider": "local", "model": "m1"}},
    }
    sources.global_file.write_text(json.dumps(document))


async def test_before_init_the_agent_routes_answer_as_upstream(
    harness: Harness, ws: str
) -> None:
    """No agent yet: info is all zero, the queue empty, a prompt is a 400."""
    base = f"/v1/workspaces/{ws}"
    sid = f"{base}/agent/sessions/{new_id()}"
    status, info = await harness.json("GET", f"{base}/agent")
    assert (status, info["is_busy"], info["is_ready"]) == (200, False, False)
    prompt = {"session_id": new_id(), "prompt": "hi"}
    assert await harness.json("POST", f"{base}/agent", prompt) == (
        400,
        {"message": "agent coordinator not initialized"},
    )
    assert (await harness.json("POST", f"{sid}/cancel"))[0] == 200
    assert await harness.json("GET", f"{sid}/prompts/queued") == (200, 0)
    assert await harness.json("GET", f"{sid}/prompts/list") == (200, None)
    assert (await harness.json("POST", f"{sid}/prompts/clear"))[0] == 200
    assert (await harness.json("POST", f"{base}/agent/update"))[0] == 400


async def test_init_without_a_model_is_a_500_with_upstream_text(
    harness: Harness, ws: str
) -> None:
    """agent/init with nothing configured fails naming what is missing."""
    status, body = await harness.json("POST", f"/v1/workspaces/{ws}/agent/init")
    assert status == 500
    assert "model" in body["message"]


async def test_prompt_validation_after_init(
    harness: Harness, config_sources: ConfigSources, project: Path
) -> None:
    """Prompt checks in upstream's order; bad base64 or delivery is a 400."""
    configure(config_sources)
    status, created = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    base = f"/v1/workspaces/{created['id']}"
    assert (await harness.json("POST", f"{base}/agent/init", {}))[0] == 200
    assert (await harness.json("POST", f"{base}/agent/init"))[0] == 200  # idempotent
    sid = new_id()
    cases = [
        ({"session_id": sid, "prompt": ""}, "prompt is empty"),
        ({"session_id": "", "prompt": "hi"}, "session id is missing"),
        ({"session_id": sid, "prompt": "hi", "delivery": "later"}, "invalid delivery"),
        (
            {
                "session_id": sid,
                "prompt": "hi",
                "attachments": [{"mime_type": "text/plain", "content": "%%%"}],
            },
            "failed to decode request",
        ),
    ]
    for body, text in cases:
        status, answer = await harness.json("POST", f"{base}/agent", body)
        assert status == 400, body
        assert text in answer["message"]
    text_only = {
        "session_id": "",
        "prompt": "",
        "attachments": [
            {"mime_type": "text/plain", "content": base64.b64encode(b"x").decode()}
        ],
    }
    status, answer = await harness.json("POST", f"{base}/agent", text_only)
    assert (status, answer["message"]) == (400, "session id is missing")
    unknown = await harness.json("GET", f"{base}/agent/sessions/{new_id()}")
    assert unknown == (404, {"message": "session not found"})


async def test_default_small_model_falls_back_to_the_large_one(
    harness: Harness, config_sources: ConfigSources, project: Path
) -> None:
    """An unknown provider gets the configured large model (upstream)."""
    configure(config_sources)
    status, created = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    path = f"/v1/workspaces/{created['id']}/agent/default-small-model?provider_id=x"
    status, model = await harness.json("GET", path)
    assert (status, model["provider"], model["model"]) == (200, "local", "m1")


async def test_prompt_route_answers_on_the_hot_path(
    harness: Harness, config_sources: ConfigSources, project: Path
) -> None:
    """404 before the body, 400 for bad JSON, 413 over the limit, a bare 202."""
    configure(config_sources)
    created = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": new_id()}
    )
    base = f"/v1/workspaces/{created[1]['id']}"
    prompt = {"session_id": new_id(), "prompt": "hi"}
    gone = await harness.json("POST", "/v1/workspaces/nope/agent", prompt)
    assert gone == (404, {"message": "workspace not found"})
    assert (await harness.json("POST", f"{base}/agent/init"))[0] == 200
    bad = await harness.json("POST", f"{base}/agent", b"{not json")
    assert bad == (400, {"message": "failed to decode request"})
    huge = await harness.json("POST", f"{base}/agent", b" " * (MAX_BODY_BYTES + 1))
    assert huge[0] == 413
    answer = await harness.client.open(f"{base}/agent", method="POST", json=prompt)
    assert answer.status_code == 202
    assert await answer.get_data() == b""
    view: Any = harness.app.view_functions["send_prompt"]
    assert view.func.__name__ == "_unreachable"  # quart never serves it
