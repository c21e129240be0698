"""Tests for crushd/workspace/_permissions.py: prompts shared by every client.

Twins of upstream's ``internal/permission/permission_test.go`` (skip mode,
allowed tools, sequential properties, seed 000's ``ResolveIdempotency``),
plus crushd's additions: FIFO, cancellation closing the dialog for
everyone, per-session skip, attribution. Time is virtual (``autojump_clock``);
waits are ``wait_all_tasks_blocked``, never the clock.
"""

from __future__ import annotations

import attrs
import pytest
import trio.testing

from crushd.config import Config
from crushd.proto import (
    PermissionGrant,
    PermissionNotification,
    PermissionRequest,
)
from crushd.workspace._permissions import InvalidPermissionAction, PermissionService

from ._permission_helpers import (
    ROOT,
    Harness,
    Outcomes,
    Sink,
    ask,
    bounded,
    requester,
)


async def test_permissions_skip_mode_allows_silently(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With the yolo flag every request is allowed and nothing is published."""
    sink = Sink()
    service = PermissionService(sink, ROOT, Config, skip=True)
    assert await service.request("s", "c", ask("bash", "execute"))
    assert service.skip()
    assert sink.events == []


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (["bash", "view"], True),
        (["bash:execute", "edit:create"], True),
        (["view", "ls"], False),
        (["bash:read", "edit:create"], False),
        ([], False),
    ],
)
async def test_permissions_allowed_tools(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
    allowed: list[str],
    expected: bool,
) -> None:
    """A tool or tool:action in allowed_tools is allowed silently; else it asks."""
    harness.allowed.extend(allowed)
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(
            requester(harness.service, outcomes), "s", "c", ask("bash", "execute")
        )
        await trio.testing.wait_all_tasks_blocked()
        if not expected:
            assert len(harness.sink.requests()) == 1
            assert harness.service.resolve(harness.sink.requests()[0].id, "deny")
    assert outcomes["c"] is expected
    assert (harness.sink.events == []) is expected


async def test_permissions_allowed_tools_follow_the_current_config(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """allowed_tools is read per request: a config change applies to the next one."""
    harness.allowed.append("edit")
    assert await harness.service.request("s", "c1", ask("edit", "write"))
    harness.allowed.clear()
    async with bounded() as nursery:
        nursery.start_soon(harness.service.request, "s", "c2", ask("edit", "write"))
        await trio.testing.wait_all_tasks_blocked()
        assert [r.tool_call_id for r in harness.service.pending()] == ["c2"]
        harness.service.resolve(harness.service.pending()[0].id, "allow")


async def test_permissions_request_publishes_asking_then_request(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """Asking is {granted:false, denied:false}, then a request with a fresh id."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(requester(harness.service, outcomes), "s1", "call-1", ask())
        await trio.testing.wait_all_tasks_blocked()
        (kind, asking), (_, request) = harness.sink.events
        assert kind == "permission_notification"
        assert asking == PermissionNotification("call-1")
        assert isinstance(request, PermissionRequest)
        assert request == PermissionRequest(
            id=request.id,
            session_id="s1",
            tool_call_id="call-1",
            tool_name="tool",
            description="tool act",
            action="act",
            params={"k": "v"},
            path="/tmp/x",
        )
        assert len(request.id) == 36
        assert harness.service.pending() == [request]
        assert harness.service.resolve(request.id, "allow", "client-b")
    assert outcomes["call-1"] is True
    assert harness.sink.events[-1] == (
        "permission_notification",
        PermissionNotification("call-1", granted=True, resolved_by="client-b"),
    )
    assert harness.service.pending() == []


async def test_permissions_sequential_persistent_grant(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """After allow_session the same (session, tool, action, folder) is allowed."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(
            requester(harness.service, outcomes),
            "s1",
            "c1",
            ask("file_tool", "read", "/tmp/test.txt"),
        )
        await trio.testing.wait_all_tasks_blocked()
        assert harness.service.resolve(harness.sink.requests()[0].id, "allow_session")
    assert outcomes["c1"] is True
    before = len(harness.sink.events)
    assert await harness.service.request(
        "s1", "c2", ask("file_tool", "read", "/tmp/test.txt")
    )
    assert harness.sink.events[before:] == [
        ("permission_notification", PermissionNotification("c2")),
        ("permission_notification", PermissionNotification("c2", granted=True)),
    ]
    assert len(harness.sink.requests()) == 1


async def test_permissions_sequential_temporary_grants(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """allow is for one request only: the next identical one asks again."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    for call_id, action in [("c1", "allow"), ("c2", "deny")]:
        async with bounded() as nursery:
            nursery.start_soon(run, "s2", call_id, ask("file_tool", "write"))
            await trio.testing.wait_all_tasks_blocked()
            assert harness.service.resolve(harness.service.pending()[0].id, action)
    assert outcomes == {"c1": True, "c2": False}
    assert len(harness.sink.requests()) == 2


async def test_permissions_concurrent_requests_fifo(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """Requests are shown one at a time in arrival order; outcomes reach callers."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    specs = [
        ("concurrent1", "tool1", "allow"),
        ("concurrent2", "tool2", "allow_session"),
        ("concurrent3", "tool3", "deny"),
    ]
    async with bounded() as nursery:
        for session, tool, _ in specs:
            nursery.start_soon(
                run, session, tool, ask(tool, "action", f"/tmp/{tool}.txt")
            )
            await trio.testing.wait_all_tasks_blocked()
        for session, tool, action in specs:
            (pending,) = harness.service.pending()
            assert (pending.session_id, pending.tool_name) == (session, tool)
            assert harness.service.resolve(pending.id, action)
            await trio.testing.wait_all_tasks_blocked()
    assert outcomes == {"tool1": True, "tool2": True, "tool3": False}
    assert [r.tool_name for r in harness.sink.requests()] == ["tool1", "tool2", "tool3"]
    assert await harness.service.request(
        "concurrent2", "again", ask("tool2", "action", "/tmp/tool2.txt")
    )


async def test_permissions_concurrent_grants_resolve_once(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """Two grants race: one resolves, one notification, nothing left pending."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(
            requester(harness.service, outcomes), "race-session", "race-call", ask()
        )
        await trio.testing.wait_all_tasks_blocked()
        pending = harness.sink.requests()[0]
        answers: list[bool] = []

        async def grant() -> None:
            answers.append(harness.service.grant(PermissionGrant(pending, "allow")))

        async with bounded() as racers:
            racers.start_soon(grant)
            racers.start_soon(grant)
    assert sorted(answers) == [False, True]
    assert outcomes["race-call"] is True
    assert harness.sink.resolutions() == [
        PermissionNotification("race-call", granted=True)
    ]
    assert harness.service.pending() == []
    assert not harness.service.grant(PermissionGrant(pending, "allow"))


async def test_permissions_grant_after_deny_is_a_no_op(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """A grant after a deny returns False, changes nothing and publishes nothing."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(
            requester(harness.service, outcomes), "deny-first", "df-call", ask()
        )
        await trio.testing.wait_all_tasks_blocked()
        pending = harness.sink.requests()[0]
        assert harness.service.grant(PermissionGrant(pending, "deny"))
        assert not harness.service.grant(PermissionGrant(pending, "allow"))
    assert outcomes["df-call"] is False
    assert harness.sink.resolutions() == [
        PermissionNotification("df-call", denied=True)
    ]


async def test_permissions_losing_allow_session_records_nothing(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """A deny wins, a later allow_session loses, the next identical one still asks."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    async with bounded() as nursery:
        nursery.start_soon(run, "race-persist", "rp-call", ask())
        await trio.testing.wait_all_tasks_blocked()
        pending = harness.sink.requests()[0]
        assert harness.service.grant(PermissionGrant(pending, "deny"))
        assert not harness.service.grant(PermissionGrant(pending, "allow_session"))
    async with bounded() as nursery:
        nursery.start_soon(run, "race-persist", "rp-call-2", ask())
        await trio.testing.wait_all_tasks_blocked()
        (follow_up,) = harness.service.pending()
        assert follow_up.session_id == "race-persist"
        assert harness.service.resolve(follow_up.id, "deny")
    assert outcomes == {"rp-call": False, "rp-call-2": False}


async def test_permissions_unknown_id_is_a_no_op(
    autojump_clock: trio.testing.MockClock, harness: Harness
) -> None:
    """Every decision on an unknown id returns False and publishes nothing."""
    bogus = PermissionRequest(
        id="does-not-exist", tool_call_id="ghost", tool_name="tool"
    )
    for action in ("allow", "allow_session", "deny"):
        assert not harness.service.grant(PermissionGrant(bogus, action))
    assert harness.sink.events == []


@pytest.mark.parametrize("action", ["", "ALLOW", "allow_once", "grant"])
async def test_permissions_invalid_action(
    autojump_clock: trio.testing.MockClock, harness: Harness, action: str
) -> None:
    """An unknown action is 400 `invalid permission action`, even for unknown ids."""
    with pytest.raises(InvalidPermissionAction) as caught:
        harness.service.resolve("does-not-exist", action)
    assert (caught.value.status, caught.value.message) == (
        400,
        "invalid permission action",
    )
    assert harness.sink.events == []


async def test_permissions_allow_session_key_is_the_pending_requests(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """Only the id selects; a grant body naming another path cannot widen the grant."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    async with bounded() as nursery:
        nursery.start_soon(run, "s", "c1", ask(path="/tmp/a"))
        await trio.testing.wait_all_tasks_blocked()
        forged = attrs.evolve(harness.sink.requests()[0], path="/", tool_name="bash")
        assert harness.service.grant(PermissionGrant(forged, "allow_session"))
    assert outcomes["c1"] is True
    assert await harness.service.request("s", "c2", ask(path="/tmp/a"))
    async with bounded() as nursery:
        nursery.start_soon(run, "s", "c3", ask("bash", "act", "/"))
        await trio.testing.wait_all_tasks_blocked()
        assert [r.tool_call_id for r in harness.service.pending()] == ["c3"]
        nursery.cancel_scope.cancel()


async def test_permissions_grant_recorded_while_queued_applies(
    autojump_clock: trio.testing.MockClock,
    harness: Harness,
) -> None:
    """An allow_session decided while an identical request waits in line approves it."""
    outcomes: Outcomes = {}
    run = requester(harness.service, outcomes)
    async with bounded() as nursery:
        nursery.start_soon(run, "s", "c1", ask())
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(run, "s", "c2", ask())
        await trio.testing.wait_all_tasks_blocked()
        assert [r.tool_call_id for r in harness.service.pending()] == ["c1"]
        assert harness.service.resolve(harness.service.pending()[0].id, "allow_session")
    assert outcomes == {"c1": True, "c2": True}
    assert len(harness.sink.requests()) == 1
    assert harness.sink.notifications()[-1] == PermissionNotification(
        "c2", granted=True
    )
