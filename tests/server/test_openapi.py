"""``GET /v1/openapi.json`` and ``/v1/docs/``: a valid document of every route.

The document is generated from ``ROUTES``; these tests check that it is a
valid OpenAPI 3.1 document, that it names every route of the table, that the
table's ``request``/``response`` agree with what each handler does, and that
real answers of the daemon validate against the documented schemas.
"""

from __future__ import annotations

import inspect
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from crushd import __version__
from crushd.server.http import (
    WEBSOCKET,
    Route,
    TextBody,
    openapi_document,
    openapi_path,
)
from crushd.server.routes import ROUTES
from crushd.server.routes import _docs as docs

from .conftest import Harness


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps after 20 ms of real idleness (store threads)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


async def fetch_document(harness: Harness) -> dict[str, Any]:
    status, document = await harness.json("GET", "/v1/openapi.json")
    assert status == 200
    assert isinstance(document, dict)
    return document


def response_schema(
    document: dict[str, Any], method: str, path: str, status: str = "200"
) -> dict[str, Any]:
    """The JSON schema of an answer, with the components to resolve ``$ref``s."""
    operation = document["paths"][openapi_path(path)][method.lower()]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def check(document: dict[str, Any], method: str, path: str, body: object) -> None:
    OAS31Validator(response_schema(document, method, path)).validate(body)


async def test_the_document_is_valid_openapi(harness: Harness) -> None:
    """openapi-spec-validator accepts the served document (OpenAPI 3.1)."""
    document = await fetch_document(harness)
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == __version__


async def test_every_route_of_the_table_is_in_the_document(harness: Harness) -> None:
    """Each (method, path) of ROUTES is one operation; there are no others."""
    document = await fetch_document(harness)
    listed = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    wanted = {
        ("GET" if r.method == WEBSOCKET else r.method, openapi_path(r.path))
        for r in ROUTES
    }
    assert listed == wanted
    assert len(wanted) == len(ROUTES)
    assert ("GET", "/v1/workspaces/{workspace_id}/sessions/{session_id}") in listed


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_the_table_states_what_each_handler_reads_and_answers(route: Route) -> None:
    """A handler that decodes a body has ``request``; one answering JSON ``response``.

    This is what keeps the document complete: a new route must say its bodies.
    """
    source = inspect.getsource(route.handler)
    if "decode_body(" in source or "decode_json(" in source:
        assert route.request is not None
    answers_json = "json_response(" in source or "json_body(" in source
    if answers_json:
        assert route.response is not None
        assert not isinstance(route.response, TextBody)


async def test_every_operation_documents_the_error_body(harness: Harness) -> None:
    """Every operation answers ``{"message": str}`` for 4XX and 5XX."""
    document = await fetch_document(harness)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for item in document["paths"].values():
        for operation in item.values():
            for status in ("4XX", "5XX"):
                content = operation["responses"][status]["content"]
                assert content["application/json"]["schema"] == error
    schema = document["components"]["schemas"]["ErrorBody"]
    assert schema["required"] == ["message"]


async def test_streams_additions_and_unserved_routes_are_marked(
    harness: Harness,
) -> None:
    """SSE is text/event-stream, ws a 101, C routes marked, 501 routes say so."""
    document = await fetch_document(harness)
    base = "/v1/workspaces/{workspace_id}"
    events = document["paths"][f"{base}/events"]["get"]
    assert list(events["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {"name": "client_id", "in": "query", "required": True} | {
        "schema": {"type": "string"}
    } in events["parameters"]
    ws = document["paths"][f"{base}/ws"]["get"]
    assert "101" in ws["responses"]
    assert ws["x-crushd-addition"] == "C.9"
    assert "docs/protocol.md C.9" in ws["description"]
    lsps = document["paths"][f"{base}/lsps"]["get"]
    assert "501" in lsps["responses"]
    assert "200" not in lsps["responses"]
    prompt = document["paths"][f"{base}/agent"]["post"]
    assert "202" in prompt["responses"]
    assert prompt["requestBody"]["required"] is True


async def test_real_answers_validate_against_the_document(
    harness: Harness, project: Path, idle_clock: trio.testing.MockClock
) -> None:
    """Answers of health, version, create, sessions, roster, grant fit their schemas."""
    document = await fetch_document(harness)
    health = await harness.client.get("/v1/health")
    assert "content" not in document["paths"]["/v1/health"]["get"]["responses"]["200"]
    assert await health.get_data() == b""
    status, version = await harness.json("GET", "/v1/version")
    check(document, "GET", "/v1/version", version)
    client_id = str(uuid.uuid4())
    body = {"path": str(project), "client_id": client_id}
    status, created = await harness.json("POST", "/v1/workspaces", body)
    assert status == 200
    check(document, "POST", "/v1/workspaces", created)
    base = f"/v1/workspaces/{created['id']}"
    status, session = await harness.json("POST", f"{base}/sessions", {"title": "t"})
    check(document, "POST", "/v1/workspaces/<workspace_id>/sessions", session)
    await answers_of_a_workspace(harness, document, base)


async def answers_of_a_workspace(
    harness: Harness, document: dict[str, Any], base: str
) -> None:
    ws = "/v1/workspaces/<workspace_id>"
    for method, suffix, body in [
        ("GET", "/sessions", None),
        ("GET", "", None),
        ("GET", "/clients", None),
        ("GET", "/agent", None),
        ("GET", "/permissions/skip", None),
        ("GET", "/project/needs-init", None),
        ("POST", "/permissions/grant", {"permission": {"id": "x"}, "action": "allow"}),
    ]:
        status, answer = await harness.json(method, base + suffix, body)
        assert status == 200, (suffix, answer)
        check(document, method, ws + suffix, answer)
    status, error = await harness.json("GET", f"{base}/sessions/nope")
    assert status == 404
    OAS31Validator(response_schema(document, "GET", ws, "4XX")).validate(error)


async def test_a_wrong_answer_does_not_validate(harness: Harness) -> None:
    """The schemas constrain: a session without ``id`` or with a string count fails."""
    document = await fetch_document(harness)
    path = "/v1/workspaces/<workspace_id>/sessions"
    validator = OAS31Validator(response_schema(document, "GET", path))
    good: dict[str, object] = {
        "id": "s",
        "title": "t",
        "parent_session_id": "",
        "message_count": 0,
    }
    assert not validator.is_valid([good])
    full: dict[str, object] = dict.fromkeys(("prompt_tokens", "completion_tokens"), 0)
    full["cost"] = 0.5
    full |= {"summary_message_id": "", "created_at": 1, "updated_at": 1}
    full |= {"is_busy": False, "attached_clients": 0}
    assert validator.is_valid([good | full])
    assert not validator.is_valid([good | full | {"message_count": "1"}])
    assert not validator.is_valid(
        [{k: v for k, v in (good | full).items() if k != "id"}]
    )


async def test_the_document_is_built_once_per_app(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request builds it; later ones get the same bytes, not a rebuild."""
    calls: list[int] = []
    real = openapi_document

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(docs, "openapi_document", counting)  # the name it calls
    first = await (await harness.client.get("/v1/openapi.json")).get_data()
    second = await (await harness.client.get("/v1/openapi.json")).get_data()
    assert first == second
    assert calls == [1]
    assert json.loads(first)["paths"]


@pytest.mark.parametrize("path", ["/v1/docs/", "/v1/docs"])
async def test_the_docs_page_is_self_contained(harness: Harness, path: str) -> None:
    """HTML with inline script, no remote asset, a CSP that forbids loading any."""
    response = await harness.client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = await response.get_data(as_text=True)
    assert 'fetch("/v1/openapi.json")' in page
    assert "://" not in page
    assert " src=" not in page
    assert "<link" not in page
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
