"""``crushctl permissions``, ``grant``, ``deny``, ``answer``, ``shell`` against a
scripted daemon."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from crushctl import CLIENT_ID
from crushctl.cli import main_async
from tests.crushctl._agent_fakes import HOST, WS, AgentDaemon, answer, frame

SECRET = "ghp_abcdefghijklmnop9876"
REQUEST: dict[str, Any] = {
    "id": "3f2a0c1e-1111-4000-8000-000000000001",
    "session_id": "s1",
    "tool_call_id": "c1",
    "tool_name": "bash",
    "description": "List files",
    "action": "execute",
    "params": {"command": "ls", "env": {"GITHUB_TOKEN": SECRET}},
    "path": "/proj",
}
OTHER = {**REQUEST, "id": "3f2b0000-2222-4000-8000-000000000002", "tool_call_id": "c2"}
BATCH: dict[str, Any] = {
    "id": "b1",
    "session_id": "s1",
    "tool_call_id": "c3",
    "questions": [
        {"id": "q1", "type": "yes_no", "question": "Proceed?"},
        {
            "id": "q2",
            "type": "multi_choice",
            "question": "Which?",
            "choices": [{"id": "a", "label": "Alpha"}, {"id": "b", "label": "Beta"}],
        },
        {"id": "q3", "type": "free_text", "question": "Notes?"},
    ],
}
GRANT = f"{WS}/permissions/grant"


async def command(daemon: AgentDaemon, *argv: str) -> int:
    transport = httpx.MockTransport(daemon)
    return await main_async(["--host", HOST, *argv, "--cwd", "/"], transport=transport)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def pending(*requests: dict[str, Any], resolved: bool = True) -> AgentDaemon:
    daemon = AgentDaemon()
    daemon.routes["GET", f"{WS}/permissions"] = answer(body=list(requests))
    daemon.routes["POST", GRANT] = answer(body={"resolved": resolved})
    return daemon


async def test_permissions_lists_pending_requests(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One row per pending request: id, session, what it asks; the workspace
    is released afterwards."""
    daemon = pending(REQUEST)
    assert await command(daemon, "permissions") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "SESSION", "REQUEST"]
    assert out[1].split() == [
        REQUEST["id"],
        "s1",
        "bash",
        "ls",
        "(execute",
        "in",
        "/proj)",
    ]
    assert daemon.sent("DELETE", WS)


async def test_permissions_json_masks_secrets_and_empty_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--json: the requests with their params' secrets masked; none pending: a line."""
    assert await command(pending(REQUEST), "--json", "permissions") == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    listed = json.loads(out)
    assert listed[0]["params"]["env"]["GITHUB_TOKEN"] == "••••9876"
    assert listed[0]["id"] == REQUEST["id"]
    assert await command(pending(), "permissions") == 0
    assert capsys.readouterr().out == "no pending permission requests\n"


@pytest.mark.parametrize(
    ("argv", "action", "said"),
    [
        (["grant", REQUEST["id"]], "allow", "approved"),
        (["grant", "3f2a", "--session"], "allow_session", "approved for the session"),
        (["deny", "3f2a0c1e"], "deny", "denied"),
    ],
)
async def test_grant_and_deny_send_the_pending_request(
    capsys: pytest.CaptureFixture[str], argv: list[str], action: str, said: str
) -> None:
    """The id (or a unique start of it) picks the pending request, which is
    sent whole with the action and this client's id."""
    daemon = pending(REQUEST, OTHER)
    assert await command(daemon, *argv) == 0
    (grant,) = daemon.sent("POST", GRANT)
    assert body(grant) == {"permission": REQUEST, "action": action}
    assert grant.url.params["client_id"] == CLIENT_ID
    out = capsys.readouterr().out
    assert out == f"{said}: bash ls (execute in /proj) [{REQUEST['id']}]\n"


async def test_grant_already_resolved_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """resolved:false (someone else first): "already resolved", exit 1."""
    daemon = pending(REQUEST, resolved=False)
    assert await command(daemon, "grant", REQUEST["id"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"crushctl: permission {REQUEST['id']} already resolved\n"


async def test_grant_of_an_unknown_id_asks_the_daemon_anyway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An id not pending is sent bare (params null); the daemon's false is
    reported; --json prints the outcome before the error."""
    daemon = pending(resolved=False)
    assert await command(daemon, "--json", "deny", "gone") == 1
    assert body(daemon.sent("POST", GRANT)[0]) == {
        "permission": {
            "id": "gone",
            "session_id": "",
            "tool_call_id": "",
            "tool_name": "",
            "description": "",
            "action": "",
            "params": None,
            "path": "",
        },
        "action": "deny",
    }
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "id": "gone",
        "action": "deny",
        "resolved": False,
    }
    assert captured.err == "crushctl: permission gone already resolved\n"


async def test_grant_with_an_ambiguous_start_sends_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A start shared by two pending ids is refused before any grant."""
    daemon = pending(REQUEST, OTHER)
    assert await command(daemon, "grant", "3f2") == 1
    assert "matches several requests" in capsys.readouterr().err
    assert not daemon.sent("POST", GRANT)


async def test_deny_has_no_session_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--session only approves; with deny it is a usage error (2)."""
    assert await command(pending(REQUEST), "deny", "x", "--session") == 2


def replayed(type_: str, payload: object) -> bytes:
    """A pending prompt replayed at attach: no ``id:`` line."""
    envelope = {"type": type_, "payload": {"type": "created", "payload": payload}}
    return b"data: %s\n\n" % json.dumps(envelope).encode()


def asking(resolved: bool = True) -> AgentDaemon:
    """A daemon whose fresh stream starts with the pending batch, then a live event."""
    live = frame(7, "session", "updated", {"id": "s1", "title": "t"})
    daemon = AgentDaemon([replayed("question_batch_request", BATCH), live])
    for route in ("answer", "cancel"):
        daemon.routes["POST", f"{WS}/questions/{route}"] = answer(
            body={"resolved": resolved}
        )
    return daemon


async def test_answer_sends_the_flags_as_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--yes, --choice by id and by label, --text: one answer per question,
    with the pending batch's id."""
    daemon = asking()
    argv = ["answer", "--yes", "--choice", "a", "--choice", "beta", "--text", "none"]
    assert await command(daemon, *argv) == 0
    (sent,) = daemon.sent("POST", f"{WS}/questions/answer")
    assert body(sent) == {
        "batch_request_id": "b1",
        "responses": [
            {"request_id": "q1", "yes": True},
            {"request_id": "q2", "selected_ids": ["a", "b"]},
            {"request_id": "q3", "fill_in_text": "none"},
        ],
    }
    assert capsys.readouterr().out == "answered question batch b1\n"


async def test_answer_without_flags_shows_the_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No answer flags: the questions, their choices and how to answer."""
    daemon = asking()
    assert await command(daemon, "answer") == 0
    out = capsys.readouterr().out
    assert "Q1 [q1] Proceed?" in out
    assert "    b: Beta" in out
    assert "answer with --choice ID (repeatable)" in out
    assert not daemon.sent("POST", f"{WS}/questions/answer")


async def test_answer_cancel_and_losing(capsys: pytest.CaptureFixture[str]) -> None:
    """--cancel cancels; a false answer (someone else first) exits 1."""
    daemon = asking()
    assert await command(daemon, "answer", "--cancel") == 0
    assert daemon.sent("POST", f"{WS}/questions/cancel")
    assert capsys.readouterr().out == "cancelled question batch b1\n"
    argv = ["answer", "--no", "--choice", "2", "--text", "x"]
    assert await command(asking(resolved=False), *argv) == 1
    assert "already answered or cancelled" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--yes", "--text", "x"], "question q2 is not answered: give --choice"),
        (["--yes", "--choice", "zeta"], "no pending question has the choice 'zeta'"),
    ],
)
async def test_answer_with_missing_or_unknown_answers_sends_nothing(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    """Every question needs an answer and every choice must exist."""
    daemon = asking()
    assert await command(daemon, "answer", *argv) == 1
    assert error in capsys.readouterr().err
    assert not daemon.sent("POST", f"{WS}/questions/answer")


async def test_answer_with_nothing_pending_waits_briefly_then_says_so(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quiet stream with no replayed batch: after the short wait, exit 1."""
    daemon = AgentDaemon([])
    assert await command(daemon, "answer", "--yes") == 1
    assert capsys.readouterr().err == "crushctl: no question is pending\n"
    assert trio.current_time() >= 1.0


async def shell(daemon: AgentDaemon, *argv: str, json_: bool = False) -> int:
    """``crushctl shell --cwd /proj ARGV`` (the command words come last)."""
    transport = httpx.MockTransport(daemon)
    top = ["--host", HOST, *(["--json"] if json_ else [])]
    return await main_async([*top, "shell", "--cwd", "/", *argv], transport=transport)


def shell_daemon(output: str, exit_code: int = 0) -> AgentDaemon:
    daemon = AgentDaemon()
    sessions = [{"id": "s2", "title": "new"}, {"id": "s1", "title": "old"}]
    daemon.routes["GET", f"{WS}/sessions"] = answer(body=sessions)
    daemon.routes["GET", f"{WS}/sessions/s1"] = answer(body={"id": "s1", "title": "o"})
    for sid in ("s1", "s2"):
        daemon.routes["POST", f"{WS}/agent/sessions/{sid}/shell"] = answer(
            body={"output": output, "exit_code": exit_code}
        )
    return daemon


async def test_shell_runs_in_the_latest_session_and_prints_masked_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The words after ``shell`` (options included) are the command; the
    latest session keeps it; a secret in the output is masked."""
    daemon = shell_daemon(f"TOKEN: x\nhttps://u:{SECRET}@h/\n")
    assert await shell(daemon, "ls", "-la") == 0
    (sent,) = daemon.sent("POST", f"{WS}/agent/sessions/s2/shell")
    assert body(sent) == {"command": "ls -la"}  # no terminal: no width
    out = capsys.readouterr().out
    assert SECRET not in out
    assert out == "TOKEN: x\nhttps://u:••••9876@h/\n"


async def test_shell_session_option_json_and_failures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--session picks the session; --json prints output and exit code; a
    non-zero exit code is exit 1 with the status."""
    daemon = shell_daemon("boom", exit_code=3)
    assert await shell(daemon, "--session", "s1", "false", json_=True) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "session_id": "s1",
        "output": "boom",
        "exit_code": 3,
    }
    assert captured.err == "crushctl: the command exited with status 3\n"


async def test_shell_creates_a_session_when_none_exists_and_needs_a_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No session yet: one is created for the result; no command: exit 1."""
    daemon = AgentDaemon()
    daemon.routes["POST", f"{WS}/agent/sessions/s1/shell"] = answer(
        body={"output": "", "exit_code": 0}
    )
    assert await shell(daemon, "true") == 0
    assert body(daemon.sent("POST", f"{WS}/sessions")[0])["title"] == "shell"
    assert await shell(AgentDaemon()) == 1
    assert capsys.readouterr().err == "crushctl: no command given\n"
