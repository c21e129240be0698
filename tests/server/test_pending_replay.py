"""Pending prompts replayed to a stream that attaches late (docs/protocol.md C.4).

A client that attaches without ``Last-Event-ID`` while a permission request
waits receives that request before anything else, as a ``created`` event
without an id (its resume point does not move); a resuming client does not
(it has the event from the log). Real sockets, real workspace services.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import trio
from trio_websocket import wrap_client_stream

from crushd.agent.tools import PermissionAsk
from crushd.workspace import Workspace

from .conftest import Harness, uds_http

ASK = PermissionAsk("bash", "execute", "/tmp", "Run rm x", {"command": "rm x"})


def new_id() -> str:
    return str(uuid.uuid4())


async def open_workspace(harness: Harness, project: Path) -> tuple[str, Workspace]:
    client_id = new_id()
    body = {"path": str(project), "client_id": client_id}
    status, created = await harness.json("POST", "/v1/workspaces", body)
    assert status == 200, created
    harness.registry.attach(created["id"], client_id)  # keeps it open
    return created["id"], harness.registry.get(created["id"]).workspace


async def pending(workspace: Workspace, nursery: trio.Nursery) -> str:
    """Start a permission request in ``nursery``; return its id once pending."""
    nursery.start_soon(workspace.permissions.request, "s1", "call_1", ASK)
    with trio.fail_after(5):
        while not workspace.permissions.pending():
            await trio.sleep(0.01)
    return workspace.permissions.pending()[0].id


async def first_chunk(server: Path, url: str, headers: dict[str, str]) -> bytes:
    async with (
        uds_http(server) as client,
        client.stream("GET", url, headers=headers) as r,
    ):
        assert r.status_code == 200
        with trio.fail_after(5):
            return await anext(r.aiter_raw())


async def read_until_after(server: Path, url: str, workspace: Workspace) -> bytes:
    """Everything the stream sends up to a ``session`` event published after the 200."""
    received = b""
    async with uds_http(server) as client, client.stream("GET", url) as r:
        assert r.status_code == 200
        workspace.log.publish("session", "created", {"id": "after"})
        with trio.fail_after(5):
            async for chunk in r.aiter_raw():
                received += chunk
                if b'"after"' in received:
                    return received
    raise AssertionError("the stream ended")


async def test_a_fresh_sse_attach_gets_the_pending_request_first(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    ws, workspace = await open_workspace(harness, project)
    request_id = await pending(workspace, nursery)
    url = f"/v1/workspaces/{ws}/events?client_id={new_id()}"
    chunk = await first_chunk(server, url, {})
    assert chunk.startswith(b"data: ")  # no id line: the resume point stays
    event = json.loads(chunk.split(b"\n")[0].removeprefix(b"data: "))
    assert event["type"] == "permission_request"
    assert event["payload"]["type"] == "created"
    assert event["payload"]["payload"]["id"] == request_id
    assert event["payload"]["payload"]["tool_call_id"] == "call_1"


async def test_a_resuming_sse_attach_gets_no_replay(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    ws, workspace = await open_workspace(harness, project)
    await pending(workspace, nursery)
    head = workspace.log.head
    workspace.log.publish("session", "created", {"id": "after"})
    url = f"/v1/workspaces/{ws}/events?client_id={new_id()}"
    chunk = await first_chunk(server, url, {"Last-Event-ID": str(head)})
    assert chunk.startswith(b"id: %d\n" % (head + 1))
    assert b"permission_request" not in chunk


async def test_nothing_is_replayed_once_resolved(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    ws, workspace = await open_workspace(harness, project)
    request_id = await pending(workspace, nursery)
    assert workspace.permissions.resolve(request_id, "deny")
    url = f"/v1/workspaces/{ws}/events?client_id={new_id()}"
    received = await read_until_after(server, url, workspace)
    assert b"permission_request" not in received


async def test_a_fresh_websocket_attach_gets_the_pending_request_first(
    harness: Harness, project: Path, server: Path, nursery: trio.Nursery
) -> None:
    ws, workspace = await open_workspace(harness, project)
    request_id = await pending(workspace, nursery)
    resource = f"/v1/workspaces/{ws}/ws?client_id={new_id()}"
    stream = await trio.open_unix_socket(str(server))
    connection = await wrap_client_stream(nursery, stream, "crushd", resource)
    with trio.fail_after(5):
        first = json.loads(await connection.get_message())
    assert "id" not in first
    assert first["type"] == "permission_request"
    assert first["payload"]["payload"]["id"] == request_id
    await connection.aclose()
    await stream.aclose()
