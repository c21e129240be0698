"""Permission prompts shared by every client, end to end, without yolo.

A real daemon runs the ``write_tool`` recording against the replay model
server; the write asks permission and every attached client sees the same
``permission_request``. Whoever answers first decides (``resolved:true``),
every later answer hears ``resolved:false``, exactly one resolution
notification names the decider, and the tool runs once. A deny ends the turn;
a cancel closes the prompt for everyone; a client attaching late receives the
pending request first (TestE2E_PermissionFlowCrossClient and its variants;
docs/protocol.md 2.6, 6.5, C.4; docs/agent.md 3.1-3.4).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
import trio

from crushd.proto import Event, Message, PermissionRequest, from_json

from ..replay import (
    AGENT,
    ReplayServer,
    Scenario,
    event_problems,
    fixture_problems,
    result_for,
    unanswered_tool_calls,
)
from ._agent_helpers import Joined, completed, joined, payload, start_scenario
from .conftest import DaemonFactory
from .test_multiclient import PROMPT

pytestmark = [pytest.mark.e2e]

SCENARIO = "write_tool"
#: The file the recording's write creates.
WRITTEN = "config.json"


@attrs.frozen
class Started:
    """A prompt of client A, waiting on its write's permission request."""

    scenario: Scenario
    session_id: str
    run_id: str


async def prompt(a: Joined, scenario: Scenario) -> Started:
    await a.client.agent_init(a.workspace_id)
    session = await a.client.create_session(a.workspace_id, "New Session")
    run_id = str(uuid.uuid4())
    await a.client.send_prompt(
        a.workspace_id, session.id, scenario.prompt, run_id=run_id
    )
    return Started(scenario, session.id, run_id)


def notifications(events: Sequence[Event], call_id: str) -> list[dict[str, object]]:
    """The ``permission_notification`` payloads of one tool call, in order."""
    return [
        payload(e)
        for e in events
        if e.type == "permission_notification" and payload(e)["tool_call_id"] == call_id
    ]


def requests_in(events: Sequence[Event]) -> list[object]:
    """The payloads of every ``permission_request`` received."""
    return [e.payload for e in events if e.type == "permission_request"]


def resolutions(events: Sequence[Event], call_id: str) -> list[dict[str, object]]:
    """Those that decide (the "asking" one has neither flag)."""
    return [n for n in notifications(events, call_id) if n["granted"] or n["denied"]]


def recorded_content(scenario: Scenario) -> str:
    """What the recorded write call puts in the file."""
    (call,) = scenario.agent_turns[0].tool_calls
    assert call.name == "write"
    return str(json.loads(call.arguments)["content"])


def finish_reason(message: Message) -> object:
    (finish,) = [p.data for p in message.parts if p.type == "finish"]
    return finish["reason"]


async def test_a_grant_from_b_decides_a_prompt_of_a_once(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """Both see the request; B's grant wins, A's loses; one write, one note."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    async with (
        joined(daemon, project, yolo=False) as a,
        joined(daemon, project, yolo=False) as b,
    ):
        started = await prompt(a, scenario)
        event_a, request = await a.request()
        event_b, seen_by_b = await b.request()
        assert (event_a.id, event_a.payload) == (event_b.id, event_b.payload)
        assert (request.tool_name, request.action) == ("write", "write")
        assert request.session_id == started.session_id
        assert await b.client.pending_permissions(b.workspace_id) == [request]
        assert await b.grant(seen_by_b) is True
        assert await a.grant(request) is False
        done = await a.watcher.until(completed(started.run_id))
        await b.watcher.until(completed(started.run_id))
        messages = await a.client.messages(a.workspace_id, started.session_id)
        left = await a.client.pending_permissions(a.workspace_id)
        history = await a.client.history(a.workspace_id, started.session_id)
    assert not payload(done).get("cancelled")
    assert not payload(done).get("error")
    written, written_text = project / WRITTEN, recorded_content(scenario)
    assert written.read_text(encoding="utf-8") == written_text
    # Written once: upstream's empty first version, then the one write.
    versions = [(h.path, h.content, h.version) for h in history]
    assert versions == [(str(written), "", 0), (str(written), written_text, 1)]
    assert (
        fixture_problems(scenario, messages, replay.requests(SCENARIO), project) == []
    )
    assert unanswered_tool_calls(messages) == []
    assert event_problems(a.watcher.events, started.session_id, started.run_id) == []
    assert left == []
    for watcher in (a.watcher, b.watcher):
        assert requests_in(watcher.events) == [event_a.payload]
        (resolution,) = resolutions(watcher.events, request.tool_call_id)
        assert resolution["granted"] is True
        assert resolution["resolved_by"] == b.client.client_id


async def test_a_deny_first_ends_the_turn_and_writes_nothing(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """B denies: the tool result says so, the turn ends, a later grant loses."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    async with (
        joined(daemon, project, yolo=False) as a,
        joined(daemon, project, yolo=False) as b,
    ):
        started = await prompt(a, scenario)
        _, request = await b.request()
        assert await b.grant(request, "deny") is True
        assert await a.grant(request) is False
        done = await a.watcher.until(completed(started.run_id))
        messages = await a.client.messages(a.workspace_id, started.session_id)
        history = await a.client.history(a.workspace_id, started.session_id)
    assert not payload(done).get("cancelled")
    assert not payload(done).get("error")
    assert not (project / WRITTEN).exists()
    assert history == []
    result = result_for(messages, ["write"])
    assert result is not None
    assert result["content"] == "User denied permission"
    assert result["is_error"] is True
    assert [m.role for m in messages] == ["user", "assistant", "tool"]
    assert finish_reason(messages[1]) == "end_turn"
    assert unanswered_tool_calls(messages) == []
    assert len(replay.requests(SCENARIO, AGENT)) == 1  # no turn after the deny
    (resolution,) = resolutions(a.watcher.events, request.tool_call_id)
    assert (resolution["denied"], resolution["granted"]) == (True, False)
    assert resolution["resolved_by"] == b.client.client_id


async def test_a_cancel_while_pending_closes_the_prompt_for_everyone(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """A cancels: both see denied+cancelled, then run_complete{cancelled}."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    async with (
        joined(daemon, project, yolo=False) as a,
        joined(daemon, project, yolo=False) as b,
    ):
        started = await prompt(a, scenario)
        _, request = await a.request()
        await b.request()
        await a.client.cancel(a.workspace_id, started.session_id)
        done_a = await a.watcher.until(completed(started.run_id))
        done_b = await b.watcher.until(completed(started.run_id))
        assert await b.grant(request) is False
        left = await a.client.pending_permissions(a.workspace_id)
        messages = await a.client.messages(a.workspace_id, started.session_id)
        history = await a.client.history(a.workspace_id, started.session_id)
    assert payload(done_a) == payload(done_b)
    assert payload(done_a).get("cancelled") is True
    assert not payload(done_a).get("error")
    assert not (project / WRITTEN).exists()
    assert (left, history) == ([], [])
    assert unanswered_tool_calls(messages) == []
    for watcher, done in ((a.watcher, done_a), (b.watcher, done_b)):
        (closed,) = resolutions(watcher.events, request.tool_call_id)
        assert (closed["denied"], closed["cancelled"], closed["granted"]) == (
            True,
            True,
            False,
        )
        assert "resolved_by" not in closed
        note = next(
            e
            for e in watcher.events
            if e.type == "permission_notification" and payload(e) == closed
        )
        assert note.id < done.id


async def test_a_client_attaching_while_pending_gets_the_request_first(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """C attaches (no Last-Event-ID) while A's prompt waits: the request first."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    async with joined(daemon, project, yolo=False) as a:
        started = await prompt(a, scenario)
        _, request = await a.request()
        async with joined(daemon, project, yolo=False) as c:
            with trio.fail_after(PROMPT):
                first = await anext(c.watcher.stream)
            c.watcher.events.append(first)
            assert first.type == "permission_request"
            assert from_json(first.payload, PermissionRequest) == request
            assert await c.grant(request) is True
            await c.watcher.until(completed(started.run_id))
        done = await a.watcher.until(completed(started.run_id))
    assert not payload(done).get("cancelled")
    written = project / WRITTEN
    assert written.read_text(encoding="utf-8") == recorded_content(scenario)
    assert requests_in(c.watcher.events) == [first.payload]  # not live again
    (resolution,) = resolutions(a.watcher.events, request.tool_call_id)
    assert resolution["resolved_by"] == c.client.client_id
