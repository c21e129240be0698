"""``GET /v1/metrics``: every family of issue 15 section 1, after real activity.

A workspace with an SSE and a WebSocket stream, events published, a resync,
a pending permission request and a failed request, served on a real unix
socket; the scrape is parsed with prometheus-client's own parser.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.lowlevel
from prometheus_client.parser import text_string_to_metric_families
from trio.testing import MockClock
from trio_websocket import wrap_client_stream

from crushd.agent import AGENT_STATS, TimedPermissions
from crushd.agent.tools import PermissionAsk
from crushd.server import ServerContext, create_app
from crushd.workspace import Workspace

from .conftest import Harness, uds_http

ASK = PermissionAsk("bash", "execute", ".", "Run ls")

FAMILIES = (
    "crushd_workspaces",
    "crushd_clients",
    "crushd_streams",
    "crushd_events_published",
    "crushd_events_delivered",
    "crushd_flush_window_stretches",
    "crushd_replay_log_lag_events",
    "crushd_resyncs",
    "crushd_http_requests",
    "crushd_http_request_duration_seconds",
    "crushd_agent_runs",
    "crushd_agent_run_duration_seconds",
    "crushd_queued_prompts",
    "crushd_permission_requests_pending",
    "crushd_permission_oldest_pending_age_seconds",
    "crushd_permission_wait_seconds",
    "crushd_provider_errors",
    "crushd_tool_calls",
    "process_cpu_seconds",
    "process_resident_memory_bytes",
)


def parse(text: str) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """family -> {(sample name, sorted labels): value}."""
    out: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for family in text_string_to_metric_families(text):
        samples = out.setdefault(family.name, {})
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(
    families: dict[str, Any], family: str, name: str = "", **labels: str
) -> float:
    key = (name or family, tuple(sorted(labels.items())))
    return float(families[family][key])


def total(families: dict[str, Any], family: str, **labels: str) -> float:
    """A counter's ``_total`` sample."""
    return value(families, family, f"{family}_total", **labels)


@pytest.fixture
def idle_clock() -> MockClock:
    """Virtual time that jumps after 20 ms of real idleness (store threads)."""
    return MockClock(autojump_threshold=0.02)


async def scrape(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def pending_permission(workspace: Workspace, nursery: trio.Nursery) -> None:
    """A tool's ask through the agent's timed gate, left on screen."""
    gate = TimedPermissions(workspace.permissions)
    nursery.start_soon(gate.request, "s1", "call-1", ASK)
    with trio.fail_after(5):
        while not workspace.permissions.pending():
            await trio.lowlevel.checkpoint()


async def test_metrics_has_every_family_after_activity(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    """Streams, events, a resync, a pending ask and a 404 all show in one scrape."""
    client_id = str(uuid.uuid4())
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    assert status == 200
    ws = body["id"]
    workspace = harness.registry.get(ws).workspace
    for index in range(3):
        workspace.log.publish("session", "created", {"id": f"s{index}"})
    workspace.log.read_sse(10_000)  # a garbage cursor: one resync
    await pending_permission(workspace, nursery)
    resource = f"/v1/workspaces/{ws}/ws?client_id={client_id}"
    socket = await trio.open_unix_socket(str(server))
    connection = await wrap_client_stream(nursery, socket, "crushd", resource)
    await connection.send_message(json.dumps({"last_event_id": 0}))
    with trio.fail_after(5):
        await connection.get_message()  # accepted and streaming
    url = f"/v1/workspaces/{ws}/events?client_id={client_id}"
    async with (
        uds_http(server, read_timeout=5) as client,
        client.stream("GET", url) as sse,
    ):
        assert sse.status_code == 200
        missing = await client.post(f"/v1/workspaces/{uuid.uuid4()}/permissions/grant")
        assert missing.status_code == 404
        families = await scrape(client)
    await connection.aclose()
    assert set(FAMILIES) <= set(families)
    assert value(families, "crushd_workspaces") == 1
    assert value(families, "crushd_clients") == 1
    assert value(families, "crushd_streams", kind="sse") == 1
    assert value(families, "crushd_streams", kind="websocket") == 1
    published = value(
        families, "crushd_events_published", "crushd_events_published_total"
    )
    assert published >= 5  # three sessions, the ask's notification and request
    assert total(families, "crushd_events_delivered") >= 1  # the WebSocket's first
    assert total(families, "crushd_flush_window_stretches") == 0
    assert total(families, "crushd_resyncs") == 1
    lag = value(families, "crushd_replay_log_lag_events", workspace_id=ws)
    assert lag == workspace.log.head
    assert value(families, "crushd_permission_requests_pending") == 1
    assert value(families, "crushd_permission_oldest_pending_age_seconds") >= 0
    assert value(families, "crushd_queued_prompts") == 0
    route = "/v1/workspaces/<workspace_id>/permissions/grant"
    labels = {"method": "POST", "route": route}
    assert total(families, "crushd_http_requests", status="404", **labels) == 1
    count = "crushd_http_request_duration_seconds_count"
    assert value(families, "crushd_http_request_duration_seconds", count, **labels) == 1
    sse_labels = {"method": "GET", "route": "/v1/workspaces/<workspace_id>/events"}
    # The open SSE stream is counted at its 200 head, before it ends.
    assert total(families, "crushd_http_requests", status="200", **sse_labels) == 1
    assert total(families, "process_cpu_seconds") > 0


async def test_metrics_age_and_wait_of_a_permission_ask(
    harness: Harness, project: Path, nursery: trio.Nursery, idle_clock: MockClock
) -> None:
    """The oldest ask's age grows with the clock; its answer is one wait observed."""
    client_id = str(uuid.uuid4())
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": client_id}
    )
    assert status == 200
    harness.registry.attach(body["id"], client_id)  # no grace timer to jump to
    workspace = harness.registry.get(body["id"]).workspace
    waits_before = AGENT_STATS.permission_wait.count
    quick_before = dict(AGENT_STATS.permission_wait.cumulative())[15.0]
    await pending_permission(workspace, nursery)
    await trio.sleep(30)
    text = await (await harness.client.get("/v1/metrics")).get_data(as_text=True)
    age = value(parse(text), "crushd_permission_oldest_pending_age_seconds")
    assert 30 <= age < 60
    (request,) = workspace.permissions.pending()
    assert workspace.permissions.resolve(request.id, "allow")
    await trio.sleep(1)
    families = parse(await (await harness.client.get("/v1/metrics")).get_data(True))
    assert value(families, "crushd_permission_oldest_pending_age_seconds") == 0
    waits = "crushd_permission_wait_seconds_count"
    assert value(families, "crushd_permission_wait_seconds", waits) == waits_before + 1
    bucket = "crushd_permission_wait_seconds_bucket"
    quick = value(families, "crushd_permission_wait_seconds", bucket, le="15.0")
    assert quick == quick_before  # the ~30 s wait is not in the 15 s bucket


async def test_metrics_needs_the_token_on_tcp(harness: Harness) -> None:
    """Over TCP the scrape is refused without the bearer token, served with it."""
    ctx = ServerContext(harness.registry, heartbeat_seconds=15)
    app = create_app(ctx, token="tok")
    client = app.test_client()
    tcp = {"server": ("127.0.0.1", 7777), "client": ("127.0.0.1", 40000)}
    host = {"Host": "127.0.0.1:7777"}
    refused = await client.get("/v1/metrics", headers=host, scope_base=tcp)
    assert refused.status_code == 401
    good = {**host, "Authorization": "Bearer tok"}
    served = await client.get("/v1/metrics", headers=good, scope_base=tcp)
    assert served.status_code == 200
    families = parse(await served.get_data(as_text=True))
    # The refusal itself is counted, under its route template.
    labels = {"method": "GET", "route": "/v1/metrics", "status": "401"}
    assert total(families, "crushd_http_requests", **labels) == 1


async def test_each_app_has_its_own_registry(harness: Harness) -> None:
    """Two apps over one registry scrape independently (no global registry)."""
    apps = [create_app(ServerContext(harness.registry, heartbeat_seconds=15))]
    apps.append(create_app(ServerContext(harness.registry, heartbeat_seconds=15)))
    await apps[0].test_client().get("/v1/health")
    texts = [
        await (await a.test_client().get("/v1/metrics")).get_data(True) for a in apps
    ]
    health = {"method": "GET", "route": "/v1/health", "status": "200"}
    key = ("crushd_http_requests_total", tuple(sorted(health.items())))
    assert key in parse(texts[0])["crushd_http_requests"]
    assert key not in parse(texts[1])["crushd_http_requests"]
