"""The agent end to end: a real daemon runs recorded conversations.

The model side is the replay server (``tests/replay``) serving the recordings
in ``tests/fixtures/llm``; everything else is real: ``crushd serve`` on a
socket, the provider configured in upstream's shape, the tools on the files
of a temp project, clients on the wire. Checks: the fixture's own (every
recorded agent turn served and none beyond, the tool results sent back, the
final text), the event invariants of a turn, and the multi-client promises:
watchers see the same events in the same order, the prompting client may
leave, another client may cancel (docs/agent.md sections 1.4, 1.10, 7.8).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
import trio

from crushd.proto import Event

from ..replay import (
    AGENT,
    TITLE,
    ReplayServer,
    event_problems,
    final_text,
    fixture_problems,
    request_problems,
    unanswered_tool_calls,
)
from ._agent_helpers import completed, joined, payload, start_scenario
from .conftest import Daemon, DaemonFactory
from .test_multiclient import PROMPT

pytestmark = [
    pytest.mark.e2e,
]

#: The recordings this module replays.
SCENARIOS = [
    "simple_test",
    "read_a_file",
    "glob_tool",
    "ls_tool",
    "update_a_file",
    "bash_tool",
    "write_tool",
]

#: What the title job names a session when no title call gives one: in every
#: shipped recording each title attempt stops on length or finds no answer.
UNTITLED = "Untitled Session"


def titled(session_id: str, title: str) -> Callable[[Event], bool]:
    def wanted(event: Event) -> bool:
        payload = event.payload
        return (
            event.type == "session"
            and isinstance(payload, dict)
            and (payload.get("id"), payload.get("title")) == (session_id, title)
        )

    return wanted


def the_run(events: Sequence[Event], first: int, last: int) -> list[tuple[object, ...]]:
    """The events with ids from ``first`` to ``last``, as comparable tuples."""
    return [
        (e.id, e.type, e.event_type, e.payload) for e in events if first <= e.id <= last
    ]


# -- the recordings ------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
async def test_a_recorded_conversation_runs_to_its_recorded_answer(
    daemons: DaemonFactory, project: Path, replay: ReplayServer, name: str
) -> None:
    """The fixture's checks, the turn's event order, and two identical watchers."""
    daemon, scenario = await start_scenario(daemons, project, replay, name)
    run_id = str(uuid.uuid4())
    async with (
        joined(daemon, project, yolo=True) as a,
        joined(daemon, project, yolo=True) as b,
    ):
        await a.init_agent()
        session = await a.client.create_session(a.workspace_id, "New Session")
        await a.prompt(session.id, scenario.prompt, run_id)
        done = await a.watcher.until(completed(run_id))
        await b.watcher.until(completed(run_id))
        await a.watcher.until(titled(session.id, UNTITLED))
        messages = await a.client.messages(a.workspace_id, session.id)
        after = await a.client.session(a.workspace_id, session.id)
    assert fixture_problems(scenario, messages, replay.requests(name), project) == []
    assert unanswered_tool_calls(messages) == []
    assert event_problems(a.watcher.events, session.id, run_id) == []
    assert payload(done).get("text") == final_text(messages)
    assert payload(done).get("message_id") == messages[-1].id
    assert not payload(done).get("error")
    assert not payload(done).get("cancelled")
    assert (after.is_busy, after.title) == (False, UNTITLED)
    user_created = next(e for e in a.watcher.events if e.type == "message")
    seen_by_a = the_run(a.watcher.events, user_created.id, done.id)
    assert seen_by_a == the_run(b.watcher.events, user_created.id, done.id)
    assert all(not r.body.get("tools") for r in replay.requests(name, TITLE))


# -- several clients -----------------------------------------------------------


async def test_the_run_goes_on_when_the_prompting_client_leaves(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """A prompts and leaves mid-answer; B sees the run finish as recorded."""
    daemon, scenario = await start_scenario(daemons, project, replay, "ls_tool")
    hold = replay.hold("ls_tool", purpose=AGENT, position=0, after_events=2)
    run_id = str(uuid.uuid4())
    async with joined(daemon, project, yolo=True) as b:
        async with joined(daemon, project, yolo=True) as a:
            await a.init_agent()
            session = await a.client.create_session(a.workspace_id, "New Session")
            await a.prompt(session.id, scenario.prompt, run_id)
            with trio.fail_after(PROMPT):
                await hold.reached.wait()
            await a.client.delete_workspace(a.workspace_id)
        hold.release()
        done = await b.watcher.until(completed(run_id))
        messages = await b.client.messages(b.workspace_id, session.id)
        delivered = await _metric(daemon, "crushd_events_delivered_total")
    assert delivered >= len(b.watcher.events)  # the daemon's streams count
    assert not hold.disconnected.is_set()
    assert not payload(done).get("cancelled")
    assert event_problems(b.watcher.events, session.id, run_id) == []
    assert (
        fixture_problems(scenario, messages, replay.requests("ls_tool"), project) == []
    )


async def test_a_cancel_from_another_client_ends_the_run(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """B cancels A's run mid-answer: run_complete{cancelled}, no error, call aborted."""
    daemon, scenario = await start_scenario(daemons, project, replay, "simple_test")
    hold = replay.hold("simple_test", purpose=AGENT, position=0, after_events=2)
    run_id = str(uuid.uuid4())
    async with (
        joined(daemon, project, yolo=True) as a,
        joined(daemon, project, yolo=True) as b,
    ):
        await a.init_agent()
        session = await a.client.create_session(a.workspace_id, "New Session")
        await a.prompt(session.id, scenario.prompt, run_id)
        with trio.fail_after(PROMPT):
            await hold.reached.wait()
        await b.cancel(session.id)
        done_a = await a.watcher.until(completed(run_id))
        done_b = await b.watcher.until(completed(run_id))
        with trio.fail_after(PROMPT):
            await hold.disconnected.wait()  # the model call was aborted
        messages = await a.client.messages(a.workspace_id, session.id)
        after = await a.client.session(a.workspace_id, session.id)
    assert payload(done_a) == payload(done_b)
    assert payload(done_a).get("cancelled") is True
    assert not payload(done_a).get("error")
    notices = [payload(e) for e in a.watcher.events if e.type == "agent_event"]
    assert [n for n in notices if n.get("type") == "error"] == []
    finish = [p.data for p in messages[-1].parts if p.type == "finish"]
    assert (messages[-1].role, finish[0]["reason"]) == ("assistant", "canceled")
    assert unanswered_tool_calls(messages) == []
    assert not after.is_busy
    assert len(replay.requests("simple_test", AGENT)) == 1


# -- crushctl ------------------------------------------------------------------


async def test_crushctl_run_prints_the_final_answer(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """`crushctl run PROMPT --cwd DIR` streams the answer and exits 0."""
    daemon, scenario = await start_scenario(daemons, project, replay, "glob_tool")
    command = [sys.executable, "-m", "crushctl", "--host", daemon.host.url]
    with trio.fail_after(PROMPT):
        result = await trio.run_process(
            [*command, "run", scenario.prompt, "--cwd", str(project)],
            env=daemons.env(),
            stdin=subprocess.DEVNULL,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr.decode()
    assert scenario.agent_turns[-1].content in result.stdout.decode()
    assert request_problems(scenario, replay.requests("glob_tool")) == []


async def _metric(daemon: Daemon, name: str) -> float:
    """One unlabelled sample of the daemon's ``GET /v1/metrics``."""
    transport = httpx.AsyncHTTPTransport(uds=str(daemon.socket_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://crushd") as http:
        text = (await http.get("/v1/metrics")).text
    samples = (line.rpartition(" ") for line in text.splitlines())
    return next(float(value) for key, _, value in samples if key == name)
