"""The hot routes served over plain ASGI: routing parity, body limits, streams."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from crushd.errors import InternalError
from crushd.server import MAX_BODY_BYTES, ServerContext, create_app
from crushd.server.http import BODY_TIMEOUT_SECONDS, HotMatcher
from crushd.server.routes import ROUTES

from .conftest import Harness

#: Router endpoints of the hot routes (their handlers' names), by short name.
HOT_ENDPOINTS = {
    "create_workspace": "create",
    "release_workspace": "release",
    "events": "events",
    "send_prompt": "send_prompt",
}
HOT_MATCHER = HotMatcher(ROUTES)


def match_hot_route(method: str, path: str) -> tuple[str, str | None] | None:
    """The matcher's answer as ``(endpoint, workspace id or None)``."""
    found = HOT_MATCHER.match(method, path)
    if found is None:
        return None
    route, segments = found
    return route.handler.__name__, segments.get("workspace_id")


Receive = Callable[[], Awaitable[dict[str, Any]]]


def http_scope(method: str, path: str, query: bytes = b"", **headers: str) -> Any:
    """A unix-socket HTTP scope (no ``server``), as hypercorn builds it."""
    pairs = [
        (name.replace("_", "-").encode(), v.encode()) for name, v in headers.items()
    ]
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"crushd"), *pairs],
        "client": None,
        "server": None,
    }


def scripted(*messages: dict[str, Any]) -> Receive:
    """A ``receive`` that returns ``messages`` in turn, then blocks forever."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def body_then_disconnect(body: bytes, gone: trio.Event) -> Receive:
    """A ``receive`` giving the whole ``body``, then ``http.disconnect`` once
    ``gone`` is set."""
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


def recorder() -> tuple[list[dict[str, Any]], Callable[[Any], Awaitable[None]]]:
    """A ``send`` that appends every message to the returned list."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return sent, send


async def call(h: Harness, scope: Any, receive: Receive) -> list[dict[str, Any]]:
    """Run the app's ASGI callable (middleware included); return what it sent."""
    sent, send = recorder()
    asgi: Any = h.app.asgi_app
    await asgi(scope, receive, send)
    return sent


def answer(sent: list[dict[str, Any]]) -> tuple[int, Any]:
    """The status and decoded JSON body of a complete plain response."""
    start, body = sent
    assert start["type"] == "http.response.start"
    assert (body["type"], body["more_body"]) == ("http.response.body", False)
    return start["status"], json.loads(body["body"]) if body["body"] else None


@functools.cache
def router() -> MapAdapter:
    """The real app's url map (over a registry routing never calls)."""
    return create_app(
        ServerContext(registry=MagicMock(), heartbeat_seconds=15)
    ).url_map.bind("crushd")


_HEADS = ["", "/v1", "/v1/workspaces", "/v1/workspaces/", "/v1//workspaces/", "/v2/x/"]
_IDS = ["", "x", "a%2Fb", "events", "a b", "ws"]
_TAILS = ["", "/", "/events", "/events/", "//events", "/events//", "/ws", "/events/x"]
_TAILS += ["/agent", "/agent/", "//agent", "/agent/init", "/agentx"]


@settings(max_examples=1500, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE", "PUT", "OPTIONS"]),
    head=st.sampled_from(_HEADS),
    ident=st.sampled_from(_IDS),
    tail=st.sampled_from(_TAILS),
)
def test_hot_matcher_agrees_with_the_router(
    method: str, head: str, ident: str, tail: str
) -> None:
    """A request goes to a hot route exactly when the router sends it to that rule."""
    path = (head + ident + tail) or "/"
    try:
        endpoint, args = router().match(path, method)
    except HTTPException:
        endpoint, args = None, {}
    expected = None
    if endpoint in HOT_ENDPOINTS:
        expected = (endpoint, args.get("workspace_id"))
    assert match_hot_route(method, path) == expected


async def test_declared_views_answer_500_if_ever_reached(harness: Harness) -> None:
    """The url-map stand-ins of the hot routes raise a 500 error, never serve."""
    for endpoint, name in HOT_ENDPOINTS.items():
        view: Any = harness.app.view_functions[endpoint]
        with pytest.raises(InternalError, match=f"hot route {name}"):
            await view(workspace_id="x")


async def test_declared_content_length_over_limit_is_413_unread(
    harness: Harness,
) -> None:
    """A Content-Length over the limit answers 413 before any body is read."""
    scope = http_scope("POST", "/v1/workspaces", content_length=str(MAX_BODY_BYTES + 1))
    sent = await call(harness, scope, scripted())
    assert answer(sent) == (413, {"message": "request body too large"})


async def test_non_ascii_digit_content_length_is_not_a_crash(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A Content-Length of "\xb2" (isdigit, yet not int) is ignored, not a 500."""
    scope = http_scope("POST", "/v1/workspaces")
    scope["headers"].append((b"content-length", b"\xb2"))
    body = {"type": "http.request", "body": b"{}", "more_body": False}
    sent = await call(harness, scope, scripted(body))
    assert answer(sent) == (400, {"message": "path is required"})
    assert "Traceback" not in caplog.text


async def test_streamed_body_over_limit_is_413(harness: Harness) -> None:
    """A chunked body that grows past the limit answers 413 and builds nothing."""
    chunk = {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}
    receive = scripted(*[chunk] * 11)
    sent = await call(harness, http_scope("POST", "/v1/workspaces"), receive)
    assert answer(sent) == (413, {"message": "request body too large"})
    assert harness.registry.workspaces() == []


async def test_slow_body_is_408_after_the_body_timeout(
    harness: Harness, autojump_clock: trio.testing.MockClock
) -> None:
    """A body that stops arriving answers 408 after BODY_TIMEOUT_SECONDS."""
    start = trio.current_time()
    partial = {"type": "http.request", "body": b'{"path"', "more_body": True}
    sent = await call(harness, http_scope("POST", "/v1/workspaces"), scripted(partial))
    assert answer(sent) == (408, {"message": "request timeout"})
    assert trio.current_time() - start == pytest.approx(BODY_TIMEOUT_SECONDS)


async def test_disconnect_while_reading_the_body_answers_nothing(
    harness: Harness, project: Path
) -> None:
    """A client gone mid-body gets no response and no workspace is created."""
    body = json.dumps({"path": str(project), "client_id": str(uuid.uuid4())})
    partial = {"type": "http.request", "body": body.encode()[:5], "more_body": True}
    receive = scripted(partial, {"type": "http.disconnect"})
    assert await call(harness, http_scope("POST", "/v1/workspaces"), receive) == []
    assert harness.registry.workspaces() == []


async def test_create_body_in_chunks_joins(harness: Harness, project: Path) -> None:
    """A create whose JSON arrives in several chunks is decoded whole."""
    data = json.dumps({"path": str(project), "client_id": str(uuid.uuid4())}).encode()
    chunks = [
        {"type": "http.request", "body": data[:10], "more_body": True},
        {"type": "http.request", "body": data[10:], "more_body": False},
    ]
    sent = await call(harness, http_scope("POST", "/v1/workspaces/"), scripted(*chunks))
    status, wire = answer(sent)
    assert status == 200
    assert wire["path"] == str(project)
    assert sent[0]["headers"] == [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(sent[1]["body"])).encode()),
    ]


async def test_head_on_events_streams_and_detaches_on_disconnect(
    harness: Harness, project: Path
) -> None:
    """HEAD on the events route attaches like GET; the disconnect detaches it."""
    client_id = str(uuid.uuid4())
    created = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    ws = created[1]["id"]
    gone = trio.Event()
    receive = body_then_disconnect(b"", gone)
    query = f"client_id={client_id}".encode()
    scope = http_scope("HEAD", f"/v1/workspaces/{ws}/events", query)
    sent, send = recorder()
    async with trio.open_nursery() as nursery:
        asgi: Any = harness.app.asgi_app
        nursery.start_soon(asgi, scope, receive, send)
        await trio.testing.wait_all_tasks_blocked()
        assert sent[0]["status"] == 200
        assert (b"content-type", b"text/event-stream") in sent[0]["headers"]
        assert harness.registry.roster(ws)[0].streams == 1
        gone.set()
    assert harness.registry.roster(ws)[0].streams == 0


class _StuckRegistry:
    """A registry whose create never finishes (records its cancellation)."""

    def __init__(self) -> None:
        self.ended = trio.Event()

    async def create(self, request: object) -> object:
        try:
            await trio.sleep_forever()
        finally:
            self.ended.set()


async def test_disconnect_during_create_cancels_it_and_answers_nothing(
    project: Path,
) -> None:
    """A client gone while its create runs cancels the create; nothing is sent."""
    registry = _StuckRegistry()
    app: Any = create_app(ServerContext(registry=registry, heartbeat_seconds=15))  # type: ignore[arg-type]
    data = json.dumps({"path": str(project), "client_id": str(uuid.uuid4())})
    gone = trio.Event()
    receive = body_then_disconnect(data.encode(), gone)
    sent, send = recorder()
    with trio.fail_after(5):  # a create that ignores the disconnect never ends
        async with trio.open_nursery() as nursery:
            scope = http_scope("POST", "/v1/workspaces")
            nursery.start_soon(app.asgi_app, scope, receive, send)
            await trio.testing.wait_all_tasks_blocked()
            assert not registry.ended.is_set()
            gone.set()
    assert registry.ended.is_set()
    assert sent == []
