"""``POST /v1/debug/workspaces/{id}/publish``: only with the flag, only on unix."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio
from quart_trio import QuartTrio

from crushd.server import ServerContext, bind_tcp, bind_unix, create_app, serve_app
from crushd.server.http import Access, add_routes
from crushd.server.routes import ROUTES
from crushd.server.routes._debug import (
    MAX_PAYLOAD_BYTES,
    MAX_PUBLISH_BYTES,
    MAX_PUBLISH_COUNT,
)
from crushd.workspace import EventLog

from .conftest import Harness

TOKEN = "debug-token"

# One SSE frame of a debug event, exactly the shape other peers' benchmarks parse.
FRAME = re.compile(
    rb'id: (\d+)\ndata: \{"type":"debug","payload":\{"type":"created",'
    rb'"payload":\{"seq":(\d+),"t":([0-9.e+-]+),"pad":"(x*)"\}\}\}\n\n'
)


def debug_app(h: Harness, token: str | None = None) -> QuartTrio:
    """The harness's registry behind an app with debug endpoints on."""
    ctx = ServerContext(h.registry, heartbeat_seconds=15, debug_endpoints=True)
    return create_app(ctx, token=token)


def event_log(h: Harness, ws: str) -> EventLog:
    log = h.registry.get(ws).workspace.log
    assert isinstance(log, EventLog)
    return log


async def create(h: Harness, path: Path) -> str:
    status, body = await h.json(
        "POST", "/v1/workspaces", {"path": str(path), "client_id": str(uuid.uuid4())}
    )
    assert status == 200
    return str(body["id"])


async def publish(app: QuartTrio, ws: str, body: Any) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, str) else {"json": body}
    response = await app.test_client().post(
        f"/v1/debug/workspaces/{ws}/publish", **kwargs
    )
    return response.status_code, json.loads(await response.get_data())


async def test_debug_route_absent_without_flag(harness: Harness, project: Path) -> None:
    """Without debug_endpoints the publish path is not routed at all: a JSON 404."""
    ws = await create(harness, project)
    status, body = await publish(harness.app, ws, {"count": 1})
    assert (status, body) == (404, {"message": "404 page not found"})
    assert event_log(harness, ws).head == 0


async def test_add_routes_adds_no_debug_route_when_off(harness: Harness) -> None:
    """add_routes leaves the url map untouched by DEBUG routes when the flag is off."""
    debug_routes = [r for r in ROUTES if r.access is Access.DEBUG]
    assert debug_routes
    app = QuartTrio("t")
    before = len(list(app.url_map.iter_rules()))
    ctx = ServerContext(harness.registry, heartbeat_seconds=15)
    add_routes(app, ctx, debug_routes)
    assert len(list(app.url_map.iter_rules())) == before
    add_routes(app, attrs.evolve(ctx, debug_endpoints=True), debug_routes)
    assert len(list(app.url_map.iter_rules())) == before + len(debug_routes)


async def test_debug_publish_events_have_the_exact_shape(
    harness: Harness, project: Path
) -> None:
    """count events are published with seq 0..count-1, a publish time and the pad."""
    ws = await create(harness, project)
    app = debug_app(harness)
    before = time.time()
    status, body = await publish(app, ws, {"count": 3, "payload_bytes": 5})
    after = time.time()
    assert (status, body) == (200, {"first_id": 1, "last_id": 3})
    chunk = event_log(harness, ws).read_sse(0).data
    frames = FRAME.findall(chunk)
    assert b"".join(m.group(0) for m in FRAME.finditer(chunk)) == chunk
    assert [(int(i), int(s), pad) for i, s, _, pad in frames] == [
        (1, 0, b"xxxxx"),
        (2, 1, b"xxxxx"),
        (3, 2, b"xxxxx"),
    ]
    times = [float(t) for _, _, t, _ in frames]
    assert before <= times[0] <= times[1] <= times[2] <= after


async def test_debug_publish_payload_bytes_defaults_to_zero(
    harness: Harness, project: Path
) -> None:
    """Without payload_bytes the pad is empty; ids continue from the head."""
    ws = await create(harness, project)
    app = debug_app(harness)
    await publish(app, ws, {"count": 2})
    status, body = await publish(app, ws, {"count": 1})
    assert (status, body) == (200, {"first_id": 3, "last_id": 3})
    chunk = event_log(harness, ws).read_sse(2).data
    assert FRAME.fullmatch(chunk) is not None
    assert b'"seq":0,' in chunk
    assert b'"pad":""' in chunk


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "failed to decode request"),
        ("{nope", "failed to decode request"),
        ("[1]", "failed to decode request: expected a JSON object"),
        ({}, f"count must be an integer in 1..{MAX_PUBLISH_COUNT}"),
        ({"count": 0}, f"count must be an integer in 1..{MAX_PUBLISH_COUNT}"),
        ({"count": MAX_PUBLISH_COUNT + 1}, "count must be an integer in 1.."),
        ({"count": "5"}, "count must be an integer in 1.."),
        ({"count": True}, "count must be an integer in 1.."),
        ({"count": 1.0}, "count must be an integer in 1.."),
        ({"count": 1, "payload_bytes": -1}, "payload_bytes must be an integer in 0.."),
        (
            {"count": 1, "payload_bytes": MAX_PAYLOAD_BYTES + 1},
            "payload_bytes must be an integer in 0..",
        ),
        (
            {"count": 65, "payload_bytes": MAX_PAYLOAD_BYTES},
            f"count * payload_bytes must be <= {MAX_PUBLISH_BYTES}",
        ),
    ],
)
async def test_debug_publish_rejects_bad_body(
    harness: Harness, project: Path, body: Any, message: str
) -> None:
    """A malformed or out-of-range body is a 400 with a message; nothing published."""
    ws = await create(harness, project)
    status, answer = await publish(debug_app(harness), ws, body)
    assert status == 400
    assert answer["message"].startswith(message)
    assert event_log(harness, ws).head == 0


async def test_debug_publish_unknown_workspace_is_404(harness: Harness) -> None:
    """Publishing into a workspace that does not exist is the usual JSON 404."""
    status, body = await publish(debug_app(harness), str(uuid.uuid4()), {"count": 1})
    assert (status, body) == (404, {"message": "workspace not found"})


async def test_debug_publish_refused_on_tcp_scope(
    harness: Harness, project: Path
) -> None:
    """A request that passed the TCP token checks is still refused with 403."""
    ws = await create(harness, project)
    client = debug_app(harness, TOKEN).test_client()
    response = await client.post(
        f"/v1/debug/workspaces/{ws}/publish",
        json={"count": 1},
        headers={"Authorization": f"Bearer {TOKEN}", "Host": "127.0.0.1:8080"},
        scope_base={"server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 4000)},
    )
    assert response.status_code == 403
    assert json.loads(await response.get_data()) == {
        "message": "debug endpoints are served on unix sockets only"
    }
    assert event_log(harness, ws).head == 0


@pytest.fixture
async def listeners(
    harness: Harness, nursery: trio.Nursery
) -> AsyncIterator[tuple[Path, int]]:
    """Serve a debug app on a real unix socket and a real loopback TCP port."""
    folder = Path(tempfile.mkdtemp(prefix="crushd-d-", dir="/tmp"))
    unix, tcp = bind_unix(folder / "s.sock"), bind_tcp("127.0.0.1", 0)
    port = int(tcp.url.rsplit(":", 1)[1])
    stop = trio.Event()
    await nursery.start(
        lambda task_status: serve_app(
            debug_app(harness, TOKEN),
            [unix, tcp],
            shutdown_trigger=stop.wait,
            task_status=task_status,
            graceful_timeout_seconds=2.0,
            keep_alive_seconds=5.0,
            send_timeout_seconds=2,
            max_connections=512,
            max_unauthenticated=64,
        )
    )
    yield folder / "s.sock", port
    harness.registry.close()
    stop.set()
    shutil.rmtree(folder, ignore_errors=True)


async def test_debug_publish_over_real_listeners(
    harness: Harness, project: Path, listeners: tuple[Path, int]
) -> None:
    """Through hypercorn the unix socket publishes, the TCP listener answers 403."""
    path, port = listeners
    ws = await create(harness, project)
    url = f"/v1/debug/workspaces/{ws}/publish"
    unix = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(transport=unix, base_url="http://crushd") as client:
        response = await client.post(url, json={"count": 2, "payload_bytes": 1})
    assert (response.status_code, response.json()) == (
        200,
        {"first_id": 1, "last_id": 2},
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post(url, json={"count": 1}, headers=headers)
    assert response.status_code == 403
    assert event_log(harness, ws).head == 2
