"""``watch`` and ``run`` after the daemon's shutdown marker (docs/protocol.md C.11).

``watch`` says once that the daemon stopped and waits for it (no retry
notices); ``run`` exits 1 at once: the daemon cancelled its run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio.testing

from crushctl import Stopped
from crushctl.cli._run import STOPPED_ERROR
from crushctl.cli._watch import STOPPED_NOTICE, item_json, item_notice
from tests.crushctl._agent_fakes import PROMPT, WS, AgentDaemon

from .test_cli_run import hanging, run
from .test_cli_watch import SESSION, Body, Daemon, frame, watch

MARKER = {"workspace_id": "w1", "reason": "shutdown"}
SHUTDOWN = frame(3, "workspace_closed", "deleted", MARKER)


def stopped_then_retired() -> Daemon:
    """A stream that ends with the marker, then 409 (retired) to end the watch."""
    return Daemon([Body([SESSION, SHUTDOWN]), 409], workspace_ids=["w1"])


async def test_watch_says_stopped_once_and_no_retry_notices(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the marker: one 'daemon stopped' notice, no 'connection lost' line."""
    assert await watch(stopped_then_retired()) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ['#2 session created id=s1 title="hello"']
    assert captured.err.splitlines() == [
        "crushctl: watching workspace w1 (/proj)",
        f"crushctl: {STOPPED_NOTICE}",
        "crushctl: client has been retired",
    ]


async def test_watch_json_has_a_stopped_line(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: the marker becomes ``{"type":"stopped",...}``."""
    assert await watch(stopped_then_retired(), "--json") == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["type"] for line in lines] == ["connected", "session", "stopped"]
    assert lines[2] == {"type": "stopped", **MARKER}


def test_stopped_notice_and_json() -> None:
    """The notice tells the user what happens next and how to leave."""
    stopped = Stopped("w1", "shutdown")
    assert item_notice(stopped) == (
        "daemon stopped; waiting for it to come back (Ctrl-C to quit)"
    )
    assert item_json(stopped) == {"type": "stopped", **MARKER}


def stopping(prompt: dict[str, Any]) -> list[bytes]:
    return [*hanging(prompt), frame(3, "workspace_closed", "deleted", MARKER)]


async def test_run_exits_1_when_the_daemon_is_stopped(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run was cancelled by the shutdown: exit 1, one line, no cancel request."""
    daemon = AgentDaemon(stopping, 503)
    daemon.hang = False
    assert await run(daemon, PROMPT) == 1
    captured = capsys.readouterr()
    assert captured.out == "Work\n"
    assert captured.err == f"crushctl: {STOPPED_ERROR}\n"
    assert STOPPED_ERROR == "the daemon was stopped; the run was cancelled"
    assert not daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")
    assert len(daemon.sent("GET", f"{WS}/events")) == 1
