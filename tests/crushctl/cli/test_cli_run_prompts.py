"""``crushctl run`` with prompts: answer on a tty, wait without one, close on
someone else's decision, questions, --yolo for its own session only."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from crushctl import CLIENT_ID
from crushctl.cli import main_async
from tests.crushctl._agent_fakes import (
    HOST,
    PROMPT,
    WS,
    AgentDaemon,
    Frames,
    answer,
    finish,
    frame,
    message,
    run_complete,
    text,
)

SECRET = "sk-abcdefghijklmnop1234"
REQUEST: dict[str, Any] = {
    "id": "p1",
    "session_id": "s1",
    "tool_call_id": "c1",
    "tool_name": "write",
    "description": "Create hello.txt",
    "action": "write",
    "params": {"file_path": "/proj/hello.txt", "new_content": "hi"},
    "path": "/proj",
}
BATCH: dict[str, Any] = {
    "id": "b1",
    "session_id": "s1",
    "tool_call_id": "c2",
    "questions": [
        {"id": "q1", "type": "yes_no", "question": "Proceed?"},
        {
            "id": "q2",
            "type": "single_choice",
            "question": "Which colour?",
            "choices": [{"id": "r", "label": "Red"}, {"id": "g", "label": "Green"}],
        },
        {"id": "q3", "type": "free_text", "question": "Anything else?"},
    ],
}
GRANT = f"{WS}/permissions/grant"


class Terminal(io.StringIO):
    """A tty on stdin with the given lines typed."""

    def isatty(self) -> bool:
        return True


class SilentTerminal:
    """A tty where nobody types until the test ends (``release``)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self.release.wait(10)
        return ""


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def turn(*middle: bytes | trio.Event) -> Any:
    """A run: its user message, ``middle``, then its run_complete."""

    def script(body: dict[str, Any]) -> Frames:
        user = message("u1", "user", text(PROMPT))
        done = run_complete(body, message_id="a1", text="Done.")
        return [
            frame(1, "message", "created", user),
            *middle,
            frame(90, "message", "updated", message("a1", "assistant", text("Done."))),
            frame(91, "run_complete", "updated", done),
        ]

    return script


def asked(payload: dict[str, Any] = REQUEST, seq: int = 2) -> bytes:
    return frame(seq, "permission_request", "created", payload)


def decided(seq: int = 3, **fields: object) -> bytes:
    payload = {"tool_call_id": "c1", "granted": False, "denied": False, **fields}
    return frame(seq, "permission_notification", "created", payload)


def grant_route(daemon: AgentDaemon, resolved: bool = True) -> trio.Event:
    """Answer grants with ``resolved``; the returned event is set on the first."""
    granted = trio.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        granted.set()
        return httpx.Response(200, json={"resolved": resolved})

    daemon.routes["POST", GRANT] = handle
    return granted


async def run(daemon: AgentDaemon, *argv: str) -> int:
    transport = httpx.MockTransport(daemon)
    return await main_async(
        ["--host", HOST, "run", "--cwd", "/", *argv], transport=transport
    )


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.mark.parametrize(
    ("typed", "action", "said"),
    [
        ("y\n", "allow", "approved"),
        ("session\n", "allow_session", "approved for this session"),
        ("what?\nN\n", "deny", "denied"),
    ],
)
async def test_tty_answers_the_permission_prompt(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    typed: str,
    action: str,
    said: str,
) -> None:
    """On a tty the request is shown, [y]es / [s]ession / [n]o is asked (again
    after a word it does not know), the grant carries the whole request, the
    action and this client's id; its own notification adds nothing."""
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    daemon = AgentDaemon()
    granted = grant_route(daemon)
    mine = {"granted": action != "deny", "denied": action == "deny"}
    daemon.streams = [turn(asked(), granted, decided(resolved_by=CLIENT_ID, **mine))]
    assert await run(daemon, PROMPT) == 0
    (grant,) = daemon.sent("POST", GRANT)
    assert body(grant) == {"permission": REQUEST, "action": action}
    assert grant.url.params["client_id"] == CLIENT_ID
    assert body(daemon.sent("POST", f"{WS}/agent/init")[0]) == {"interactive": True}
    err = capsys.readouterr().err
    assert "permission requested: write /proj/hello.txt (write in /proj)" in err
    assert "Create hello.txt" in err
    assert err.count("[y]es / [s]ession / [n]o: ") == (2 if "what" in typed else 1)
    assert err.endswith(f"crushctl: {said}\n")
    assert "by you" not in err


async def test_tty_prompt_closes_when_someone_else_decides(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nobody types; another client approves: the prompt closes with "approved
    by <client>", nothing is granted from here, the run finishes."""
    terminal = SilentTerminal()
    monkeypatch.setattr("sys.stdin", terminal)
    daemon = AgentDaemon(turn(asked(), decided(granted=True, resolved_by="client-b")))
    try:
        assert await run(daemon, PROMPT) == 0
    finally:
        terminal.release.set()
    assert not daemon.sent("POST", GRANT)
    err = capsys.readouterr().err
    assert "crushctl: permission approved by client-b\n" in err
    assert "crushctl grant" not in err


async def test_tty_answer_that_loses_says_already_resolved(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The person answers, but another client won first (resolved:false):
    "already resolved", and who decided."""
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    daemon = AgentDaemon()
    granted = grant_route(daemon, resolved=False)
    daemon.streams = [turn(asked(), granted, decided(denied=True, resolved_by="cb"))]
    assert await run(daemon, PROMPT) == 0
    err = capsys.readouterr().err
    assert "crushctl: already resolved\n" in err
    assert "crushctl: permission denied by cb\n" in err


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"denied": True, "resolved_by": "client-b"}, "permission denied by client-b"),
        ({"granted": True}, "permission approved elsewhere"),
        ({"denied": True, "cancelled": True}, "permission cancelled (the run ended)"),
    ],
)
async def test_without_a_tty_it_says_how_to_answer_and_waits(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fields: dict[str, Any],
    said: str,
) -> None:
    """stdin is no tty: the request and the grant/deny commands are printed,
    nothing is read or granted, and the run waits until someone decides."""
    monkeypatch.setattr("sys.stdin", Pipe("y\n"))
    daemon = AgentDaemon(turn(asked(), decided(**fields)))
    assert await run(daemon, PROMPT) == 0
    assert not daemon.sent("POST", GRANT)
    assert body(daemon.sent("POST", f"{WS}/agent/init")[0]) == {"interactive": False}
    err = capsys.readouterr().err
    assert (
        "waiting; answer from another terminal:"
        " crushctl grant p1 [--session] | crushctl deny p1\n"
    ) in err
    assert err.endswith(f"crushctl: {said}\n")


async def test_other_sessions_requests_are_not_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request of another session of the workspace is not this run's."""
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    other = {**REQUEST, "session_id": "s2"}
    assert await run(AgentDaemon(turn(asked(other))), PROMPT) == 0
    assert "permission" not in capsys.readouterr().err


async def test_secrets_in_a_request_stay_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token in the command or the description is shown masked."""
    monkeypatch.setattr("sys.stdin", Pipe())
    command = f"curl -H 'Authorization: Bearer {SECRET}' https://x/?api_key={SECRET}"
    request = {
        **REQUEST,
        "tool_name": "bash",
        "action": "execute",
        "description": f"fetch https://me:{SECRET}@host/",
        "params": {"command": command},
    }
    daemon = AgentDaemon(turn(asked(request), decided(granted=True)))
    assert await run(daemon, PROMPT) == 0
    err = capsys.readouterr().err
    assert "permission requested: bash curl" in err
    assert SECRET not in err
    assert "••••1234" in err


async def test_tty_answers_a_question_batch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each question is asked in turn (again after an answer it cannot use):
    yes/no, a choice by number, free text; one answer goes with the batch id."""
    monkeypatch.setattr("sys.stdin", Terminal("maybe\ny\n2\nblue\n"))
    daemon = AgentDaemon()
    answered = trio.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        answered.set()
        return httpx.Response(200, json={"resolved": True})

    daemon.routes["POST", f"{WS}/questions/answer"] = handle
    closed = frame(4, "question_batch_notification", "created", {"batch_id": "b1"})
    batch = frame(3, "question_batch_request", "created", BATCH)
    daemon.streams = [turn(batch, answered, closed)]
    assert await run(daemon, PROMPT) == 0
    (sent,) = daemon.sent("POST", f"{WS}/questions/answer")
    assert body(sent) == {
        "batch_request_id": "b1",
        "responses": [
            {"request_id": "q1", "yes": True},
            {"request_id": "q2", "selected_ids": ["g"]},
            {"request_id": "q3", "fill_in_text": "blue"},
        ],
    }
    err = capsys.readouterr().err
    assert 'the agent asks 3 questions: "Proceed?"' in err
    assert "g: Green" in err
    assert err.count("q1: [y]es / [n]o: ") == 2
    assert err.endswith("crushctl: answered\n")


async def test_question_batch_without_a_tty_waits_for_another_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No tty: the questions and the answer command are printed; the batch
    answered elsewhere closes."""
    monkeypatch.setattr("sys.stdin", Pipe())
    batch = frame(3, "question_batch_request", "created", BATCH)
    by_b = {"batch_id": "b1", "resolved_by": "client-b"}
    closed = frame(4, "question_batch_notification", "created", by_b)
    daemon = AgentDaemon(turn(batch, closed))
    assert await run(daemon, PROMPT) == 0
    err = capsys.readouterr().err
    assert "answer from another terminal: crushctl answer" in err
    assert err.endswith("crushctl: questions answered by client-b\n")
    assert not [r for r in daemon.requests if "questions" in r.url.path]


async def test_yolo_skips_for_its_own_session_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--yolo: permissions/skip with the run's session before the prompt, off
    again at the end; never the workspace-wide toggle."""
    monkeypatch.setattr("sys.stdin", Pipe())
    daemon = AgentDaemon(turn())
    skips: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        skips.append(body(request))
        return httpx.Response(200)

    daemon.routes["POST", f"{WS}/permissions/skip"] = handle
    assert await run(daemon, "--yolo", PROMPT) == 0
    assert skips == [
        {"skip": True, "session_id": "s1"},
        {"skip": False, "session_id": "s1"},
    ]
    order = daemon.order()
    assert order.index(f"POST {WS}/permissions/skip") < order.index(f"POST {WS}/agent")
    without = AgentDaemon(turn())
    assert await run(without, PROMPT) == 0
    assert not without.sent("POST", f"{WS}/permissions/skip")


async def test_json_includes_the_runs_prompts_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: the session's request and its resolution are JSON lines too,
    with secrets masked; another session's request is not."""
    monkeypatch.setattr("sys.stdin", Pipe())
    secret = {**REQUEST, "params": {"file_path": "/p/.env", "new_content": "x"}}
    secret["params"]["api_key"] = SECRET
    other = {**REQUEST, "id": "p2", "session_id": "s2", "tool_call_id": "c9"}
    daemon = AgentDaemon(
        turn(asked(other), asked(secret, seq=3), decided(4, denied=True))
    )
    assert await run(daemon, "--json", PROMPT) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types == [
        "message",
        "permission_request",
        "permission_notification",
        "message",
        "run_complete",
    ]
    request = json.loads(out.splitlines()[1])["payload"]
    assert request["params"]["api_key"] == "••••1234"


async def test_tty_question_form_closes_when_cancelled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nobody answers on the tty; the batch is cancelled (the run's cancel or
    another client): the form closes, nothing is sent."""
    terminal = SilentTerminal()
    monkeypatch.setattr("sys.stdin", terminal)
    batch = frame(3, "question_batch_request", "created", BATCH)
    gone = {"batch_id": "b1", "cancelled": True}
    closed = frame(4, "question_batch_notification", "created", gone)
    daemon = AgentDaemon(turn(batch, closed))
    try:
        assert await run(daemon, PROMPT) == 0
    finally:
        terminal.release.set()
    assert not [r for r in daemon.requests if "questions" in r.url.path]
    assert "crushctl: questions cancelled\n" in capsys.readouterr().err


async def test_a_resync_refreshes_the_open_prompts(
    autojump_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Events were missed (resync) while a request waited: the pending list
    no longer has it, so its prompt closes; the run then settles as usual."""
    monkeypatch.setattr("sys.stdin", Pipe())
    resync = frame(50, "resync", "updated", {"workspace_id": "w1", "oldest_id": 40})
    first = turn(asked())

    def broken(body: dict[str, Any]) -> Frames:
        return list(first(body))[:2]  # the user message and the request

    daemon = AgentDaemon(broken, [resync])
    daemon.hang = False
    daemon.routes["GET", f"{WS}/permissions"] = answer(body=[])
    daemon.routes["GET", f"{WS}/agent/sessions/s1"] = answer(
        body={"id": "s1", "title": "t"}
    )
    stored = [
        message("u1", "user", text(PROMPT)),
        message("a1", "assistant", text("Ok"), finish("end_turn")),
    ]
    daemon.routes["GET", f"{WS}/sessions/s1/messages"] = answer(body=stored)
    assert await run(daemon, PROMPT) == 0
    err = capsys.readouterr().err
    assert "crushctl: permission resolved while events were missed\n" in err
