"""Tests for crushd/workspace/_permissions.py: cancellation, skip, folders, wire.

Cancelling a waiting tool closes its dialog for every client exactly once;
per-session skip approves only that session; the request's path is a folder;
the notifications encode as upstream's keys plus crushd's optional ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.config import Config
from crushd.proto import PermissionNotification
from crushd.workspace import EventLog
from crushd.workspace._permissions import PermissionService

from ._permission_helpers import (
    ROOT,
    Harness,
    Outcomes,
    Sink,
    ask,
    bounded,
    requester,
)


async def test_permissions_cancel_closes_the_dialog(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """A cancelled wait withdraws the request and publishes denied+cancelled once."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(requester(harness.service, outcomes), "s", "c1", ask())
        await trio.testing.wait_all_tasks_blocked()
        pending = harness.service.pending()[0]
        nursery.cancel_scope.cancel()
    assert outcomes["c1"] == "cancelled"
    assert harness.service.pending() == []
    assert harness.sink.resolutions() == [
        PermissionNotification("c1", denied=True, cancelled=True)
    ]
    assert not harness.service.resolve(pending.id, "allow")
    assert len(harness.sink.resolutions()) == 1


async def test_permissions_cancel_racing_a_grant_publishes_once(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """A grant then a cancel before the tool wakes: only the grant is published."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(requester(harness.service, outcomes), "s", "c1", ask())
        await trio.testing.wait_all_tasks_blocked()
        assert harness.service.resolve(harness.service.pending()[0].id, "allow", "b")
        nursery.cancel_scope.cancel()
    # The decision was delivered first; the run's next checkpoint ends the tool.
    assert outcomes["c1"] is True
    assert harness.sink.resolutions() == [
        PermissionNotification("c1", granted=True, resolved_by="b")
    ]


async def test_permissions_cancel_while_queued_publishes_nothing(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """A request cancelled while in line leaves no trace; the next one is shown."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    scopes: dict[str, trio.CancelScope] = {}

    async def run_in_scope(call_id: str) -> None:
        with trio.CancelScope() as scope:
            scopes[call_id] = scope
            await run("s", call_id, ask())

    async with bounded() as nursery:
        for call_id in ("c1", "c2", "c3"):
            nursery.start_soon(run_in_scope, call_id)
            await trio.testing.wait_all_tasks_blocked()
        scopes["c2"].cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert harness.service.resolve(harness.service.pending()[0].id, "allow")
        await trio.testing.wait_all_tasks_blocked()
        assert [r.tool_call_id for r in harness.service.pending()] == ["c3"]
        assert harness.service.resolve(harness.service.pending()[0].id, "deny")
    assert outcomes == {"c1": True, "c2": "cancelled", "c3": False}
    assert [n.tool_call_id for n in harness.sink.notifications()] == [
        "c1",
        "c1",
        "c3",
        "c3",
    ]


async def test_permissions_session_skip_is_per_session(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """Per-session skip approves that session only; the workspace flag is separate."""
    harness.service.set_skip(True, session_id="headless")
    assert harness.service.skip("headless")
    assert not harness.service.skip()
    assert not harness.service.skip("other")
    assert await harness.service.request("headless", "c1", ask())
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(requester(harness.service, outcomes), "other", "c2", ask())
        await trio.testing.wait_all_tasks_blocked()
        assert [r.session_id for r in harness.service.pending()] == ["other"]
        harness.service.resolve(harness.service.pending()[0].id, "deny")
    assert outcomes["c2"] is False
    harness.service.set_skip(False, session_id="headless")
    assert not harness.service.skip("headless")
    harness.service.set_skip(True)
    assert harness.service.skip()
    assert harness.service.skip("anyone")
    harness.service.set_skip(False, session_id="")
    assert not harness.service.skip()


async def test_permissions_skip_applies_to_queued_requests(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """A request in line when skip is turned on is approved silently at its turn."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    async with bounded() as nursery:
        nursery.start_soon(run, "s", "c1", ask())
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(run, "headless", "c2", ask())
        await trio.testing.wait_all_tasks_blocked()
        harness.service.set_skip(True, "headless")
        harness.service.resolve(harness.service.pending()[0].id, "allow")
    assert outcomes == {"c1": True, "c2": True}
    assert {n.tool_call_id for n in harness.sink.notifications()} == {"c1"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("file.txt", "{root}"),
        ("sub/file.txt", "{root}/sub"),
        ("sub", "{root}/sub"),
        ("sub/", "{root}/sub"),
        (".", "{root}"),
        ("", "{root}"),
        ("missing/file.txt", "{root}/missing/file.txt"),
        ("{root}/sub/file.txt", "{root}/sub"),
        ("/nonexistent/x", "/nonexistent/x"),
    ],
)
async def test_permissions_request_path_is_a_folder(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, given: str, expected: str
) -> None:
    """A file becomes its folder, a folder stays, an unknown path is kept."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "sub" / "file.txt").write_text("x")
    sink = Sink()
    service = PermissionService(sink, tmp_path, Config)
    async with bounded() as nursery:
        nursery.start_soon(
            service.request, "s", "c", ask(path=given.format(root=tmp_path))
        )
        await trio.testing.wait_all_tasks_blocked()
        (request,) = service.pending()
        assert request.path == expected.format(root=tmp_path)
        nursery.cancel_scope.cancel()


async def test_permissions_wire_frames(autojump_clock: trio.testing.MockClock) -> None:
    """Notifications encode upstream's keys; resolved_by and cancelled only when set."""
    log = EventLog("ws", 64)
    service = PermissionService(log, ROOT, Config)
    async with bounded() as nursery:
        nursery.start_soon(service.request, "s", "c1", ask())
        await trio.testing.wait_all_tasks_blocked()
        service.resolve(service.pending()[0].id, "allow", "client-a")
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(service.request, "s", "c2", ask())
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    frames = [json.loads(f) for f in log.read_ws(0).frames]
    inner = [(f["type"], f["payload"]["type"], f["payload"]["payload"]) for f in frames]
    request_payload = inner[1][2]
    assert inner == [
        (
            "permission_notification",
            "created",
            {"tool_call_id": "c1", "granted": False, "denied": False},
        ),
        ("permission_request", "created", request_payload),
        (
            "permission_notification",
            "created",
            {
                "tool_call_id": "c1",
                "granted": True,
                "denied": False,
                "resolved_by": "client-a",
            },
        ),
        (
            "permission_notification",
            "created",
            {"tool_call_id": "c2", "granted": False, "denied": False},
        ),
        ("permission_request", "created", inner[4][2]),
        (
            "permission_notification",
            "created",
            {"tool_call_id": "c2", "granted": False, "denied": True, "cancelled": True},
        ),
    ]
    assert sorted(request_payload) == sorted(
        [
            "id",
            "session_id",
            "tool_call_id",
            "tool_name",
            "description",
            "action",
            "params",
            "path",
        ]
    )
    assert request_payload["params"] == {"k": "v"}
