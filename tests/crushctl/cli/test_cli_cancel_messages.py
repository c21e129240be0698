"""``crushctl cancel`` and ``crushctl messages`` against a scripted daemon."""

from __future__ import annotations

import json

import httpx
import pytest

from crushctl.cli import main_async
from tests.crushctl._agent_fakes import (
    HOST,
    WS,
    AgentDaemon,
    answer,
    finish,
    message,
    text,
    tool_call,
    tool_result,
)


async def command(daemon: AgentDaemon, *argv: str) -> int:
    transport = httpx.MockTransport(daemon)
    return await main_async(["--host", HOST, *argv, "--cwd", "/"], transport=transport)


def busy_daemon(busy: bool) -> AgentDaemon:
    daemon = AgentDaemon()
    sessions = [
        {"id": "s1", "title": "a", "is_busy": busy},
        {"id": "s2", "title": "b", "is_busy": False},
        {"id": "s3", "title": "c", "is_busy": busy},
    ]
    daemon.routes["GET", f"{WS}/sessions"] = answer(body=sessions)
    daemon.routes["GET", f"{WS}/agent"] = answer(body={"is_busy": busy})
    for sid in ("s1", "s2", "s3"):
        daemon.routes["POST", f"{WS}/agent/sessions/{sid}/cancel"] = answer()
    return daemon


def cancelled(daemon: AgentDaemon) -> list[str]:
    paths = [r.url.path for r in daemon.requests if r.url.path.endswith("/cancel")]
    return [path.split("/")[-2] for path in paths]


async def test_cancel_default_cancels_every_busy_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --session, GET /agent and the busy flags pick the sessions."""
    daemon = busy_daemon(busy=True)
    assert await command(daemon, "cancel") == 0
    assert cancelled(daemon) == ["s1", "s3"]
    out = capsys.readouterr().out
    assert out == "cancelled session s1\ncancelled session s3\n"
    assert daemon.sent("DELETE", WS)


async def test_cancel_idle_workspace_does_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing busy: no cancel is sent (the session list is not even read)."""
    daemon = busy_daemon(busy=False)
    assert await command(daemon, "cancel") == 0
    assert cancelled(daemon) == []
    assert not daemon.sent("GET", f"{WS}/sessions")
    assert capsys.readouterr().out == "nothing to cancel: no session is busy\n"


async def test_cancel_one_session_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--session cancels just that one; --json says which."""
    daemon = busy_daemon(busy=True)
    assert await command(daemon, "cancel", "--session", "s2", "--json") == 0
    assert cancelled(daemon) == ["s2"]
    assert not daemon.sent("GET", f"{WS}/agent")
    assert json.loads(capsys.readouterr().out) == {"cancelled": ["s2"]}


TRANSCRIPT = [
    message("u1", "user", text("read main.go"), finish("stop")),
    message(
        "a1",
        "assistant",
        {"type": "reasoning", "data": {"thinking": "The user wants\nthe file."}},
        text("Reading it."),
        tool_call("c1", "view", '{"file_path": "/proj/main.go"}', finished=True),
        finish("tool_use"),
    ),
    message(
        "t1", "tool", tool_result("c1", "view", "\n".join(f"{n}|x" for n in range(8)))
    ),
    message(
        "a2",
        "assistant",
        text("It prints\nhello."),
        finish("error", message="Provider error", details="overloaded"),
    ),
]


async def test_messages_prints_a_readable_transcript(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Roles with model and time, text, thinking on one line, tool calls with
    arguments, results cut to five lines, a failed finish; the latest session
    by default."""
    daemon = AgentDaemon()
    daemon.routes["GET", f"{WS}/sessions"] = answer(body=[{"id": "s1", "title": "t"}])
    daemon.routes["GET", f"{WS}/sessions/s1/messages"] = answer(body=TRANSCRIPT)
    assert await command(daemon, "messages") == 0
    lines = capsys.readouterr().out.splitlines()
    time = lines[0].removeprefix("user ")
    assert lines == [
        f"user {time}",
        "  read main.go",
        "",
        f"assistant openai/gpt-x {time}",
        "  (thinking) The user wants ⏎ the file.",
        "  Reading it.",
        '  → view {"file_path": "/proj/main.go"}',
        "",
        f"tool {time}",
        "  ← view:",
        "    0|x",
        "    1|x",
        "    2|x",
        "    3|x",
        "    4|x",
        "    … 3 more lines",
        "",
        f"assistant openai/gpt-x {time}",
        "  It prints",
        "  hello.",
        "  [error: Provider error: overloaded]",
    ]
    assert time.startswith("(")
    assert time.endswith(")")


async def test_messages_json_and_explicit_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--json prints the raw list; --session picks the session."""
    daemon = AgentDaemon()
    daemon.routes["GET", f"{WS}/sessions/s9/messages"] = answer(body=TRANSCRIPT[:1])
    assert await command(daemon, "messages", "--session", "s9", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "u1"
    assert not daemon.sent("GET", f"{WS}/sessions")


async def test_messages_without_sessions_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A workspace without sessions has no transcript to show."""
    assert await command(AgentDaemon(), "messages") == 1
    assert capsys.readouterr().err == "crushctl: the workspace has no sessions\n"
