"""``crushctl run``: live text, tool lines, exit codes, Ctrl-C, stdin, --json."""

from __future__ import annotations

import functools
import io
import json
import signal
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from crushctl.cli import _main, main, main_async
from tests.crushctl._agent_fakes import (
    HOST,
    PROMPT,
    WS,
    AgentDaemon,
    answer,
    finish,
    frame,
    message,
    run_complete,
    text,
    tool_turn,
)

ANSWER = "Let me look.\nThere are two files.\n"


async def run(daemon: AgentDaemon, *argv: str) -> int:
    transport = httpx.MockTransport(daemon)
    return await main_async(
        ["--host", HOST, "run", "--cwd", "/", *argv], transport=transport
    )


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_run_streams_the_answer_and_tool_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The run's text goes to stdout as it arrives (each step on its line), one
    ``→ tool argument`` line per call to stderr; exit 0 at its run_complete."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, "list", "the", "files") == 0
    captured = capsys.readouterr()
    assert captured.out == ANSWER
    assert captured.err == "→ ls /proj\n"


async def test_run_opens_the_stream_before_sending_a_fresh_run_id() -> None:
    """Join, init, create the session, attach, then POST /agent with a uuid
    run_id; the workspace is released at the end and nothing is cancelled."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, PROMPT) == 0
    order = daemon.order()
    assert order[:4] == [
        "POST /v1/workspaces",
        f"POST {WS}/agent/init",
        f"POST {WS}/sessions",
        f"GET {WS}/events",
    ]
    assert order.index(f"POST {WS}/agent") > order.index(f"GET {WS}/events")
    prompt = body(daemon.sent("POST", f"{WS}/agent")[0])
    assert prompt["session_id"] == "s1"
    assert prompt["prompt"] == PROMPT
    assert len(prompt["run_id"]) == 36
    assert body(daemon.sent("POST", f"{WS}/sessions")[0])["title"] == PROMPT
    assert daemon.sent("DELETE", WS)
    assert not daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")


async def test_run_json_prints_the_runs_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--json: one JSON line per event of the run (not another session's),
    ending with its run_complete; no text, no tool lines."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, "--json", PROMPT) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["type"] for line in lines] == ["message"] * 9 + [
        "session",
        "agent_event",
        "run_complete",
    ]
    assert lines[0]["payload"]["role"] == "user"
    assert lines[-1]["payload"]["run_id"] == daemon.prompt["run_id"]
    assert captured.err == ""


async def test_run_quiet_prints_only_the_final_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--quiet: nothing while running, then the final answer alone."""
    assert await run(AgentDaemon(tool_turn), "--quiet", PROMPT) == 0
    captured = capsys.readouterr()
    assert captured.out == "There are two files.\n"
    assert captured.err == ""


def failing(**fields: object) -> Any:
    def script(prompt: dict[str, Any]) -> list[bytes]:
        user = message("u1", "user", text(PROMPT))
        return [
            frame(1, "message", "created", user),
            frame(2, "message", "updated", message("a1", "assistant", text("Hal"))),
            frame(
                3,
                "run_complete",
                "updated",
                run_complete(prompt, message_id="a1", **fields),
            ),
        ]

    return script


async def test_run_error_exits_1_with_the_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An errored run_complete: the text stays, the error goes to stderr, exit 1."""
    daemon = AgentDaemon(failing(error="Provider error: 401 unauthorized"))
    assert await run(daemon, PROMPT) == 1
    captured = capsys.readouterr()
    assert captured.out == "Hal\n"
    assert captured.err == "crushctl: Provider error: 401 unauthorized\n"


async def test_run_cancelled_elsewhere_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A cancel from another client ends the run: exit 1, said so."""
    assert await run(AgentDaemon(failing(cancelled=True)), PROMPT) == 1
    assert capsys.readouterr().err == "crushctl: the run was cancelled\n"


def retried(prompt: dict[str, Any]) -> list[bytes]:
    """A model call fails after "Hal", is reset, retried and answers "Hello"."""
    notice = {"session_id": "s1", "run_id": prompt["run_id"], "retry": 1}
    notice |= {"retries": 3, "delay_seconds": 5.0, "error": "Overloaded: busy"}
    return [
        frame(1, "message", "created", message("u1", "user", text(PROMPT))),
        frame(2, "message", "updated", message("a1", "assistant", text("Hal"))),
        frame(3, "message", "updated", message("a1", "assistant")),
        frame(4, "run_retry", "created", notice),
        frame(5, "message", "updated", message("a1", "assistant", text("Hello"))),
        frame(6, "run_complete", "updated", run_complete(prompt, message_id="a1")),
    ]


async def test_run_says_when_a_model_call_is_retried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run_retry: a notice on stderr with the error, which retry and the wait;
    the answer goes on and the run exits 0."""
    assert await run(AgentDaemon(retried), PROMPT) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "crushctl: model call failed (Overloaded: busy); retry 1 of 3 in 5 s\n"
        "crushctl: the model call was retried; its answer starts again\n"
    )
    assert captured.out == "Hal\nHello\n"


def hanging(prompt: dict[str, Any]) -> list[bytes]:
    user = message("u1", "user", text(PROMPT))
    return [
        frame(1, "message", "created", user),
        frame(2, "message", "updated", message("a1", "assistant", text("Work"))),
    ]


async def test_run_interrupted_cancels_the_run_in_the_daemon(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Leaving before run_complete (Ctrl-C cancels the command's task) first
    cancels the session's run in the daemon, then releases the workspace."""
    daemon = AgentDaemon(hanging)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, daemon, PROMPT)
        await daemon.prompted.wait()
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    order = daemon.order()
    assert order[-2:] == [f"POST {WS}/agent/sessions/s1/cancel", f"DELETE {WS}"]
    captured = capsys.readouterr()
    assert captured.out == "Work"
    assert captured.err == "crushctl: cancelled the run\n"


def test_run_ctrl_c_exits_130_after_cancelling(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real SIGINT while the run streams: the run is cancelled, exit 130."""
    daemon = AgentDaemon(hanging)

    def interrupt_after(prompt: dict[str, Any]) -> list[bytes]:
        token = trio.lowlevel.current_trio_token()
        token.run_sync_soon(signal.raise_signal, signal.SIGINT)
        return hanging(prompt)

    daemon.streams = [interrupt_after]
    transport = httpx.MockTransport(daemon)
    monkeypatch.setattr(
        _main, "main_async", functools.partial(main_async, transport=transport)
    )
    assert main(["--host", HOST, "run", "--cwd", "/", PROMPT]) == 130
    assert daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")


async def test_run_refused_prompt_cancels_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 400 from POST /agent: its text, exit 1, and no cancel (nothing runs)."""
    daemon = AgentDaemon(hanging)
    daemon.routes["POST", f"{WS}/agent"] = answer(400, {"message": "prompt is empty"})
    assert await run(daemon, PROMPT) == 1
    assert capsys.readouterr().err == "crushctl: prompt is empty\n"
    assert not daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")


async def test_run_init_failure_stops_before_any_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """agent/init's 500 (no model configured) is printed; nothing else is sent."""
    daemon = AgentDaemon(tool_turn)
    daemon.routes["POST", f"{WS}/agent/init"] = answer(
        500, {"message": "large model not selected"}
    )
    assert await run(daemon, PROMPT) == 1
    assert capsys.readouterr().err == "crushctl: large model not selected\n"
    assert daemon.order() == [
        "POST /v1/workspaces",
        f"POST {WS}/agent/init",
        f"DELETE {WS}",
    ]


async def test_run_reads_the_prompt_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without PROMPT words, a piped stdin is the prompt (trimmed); a new
    session is titled with its first line."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"  {PROMPT}\nin detail\n"))
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon) == 0
    assert daemon.prompt["prompt"] == f"{PROMPT}\nin detail"
    assert body(daemon.sent("POST", f"{WS}/sessions")[0])["title"] == PROMPT
    assert capsys.readouterr().out == ANSWER


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (Terminal(), "no prompt: give it as arguments or on stdin"),
        (io.StringIO(" \n"), "prompt is empty"),
    ],
)
async def test_run_without_a_prompt_exits_1(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: io.StringIO,
    message: str,
) -> None:
    """No words and a terminal (or an empty pipe): an error before any request."""
    monkeypatch.setattr("sys.stdin", stdin)
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon) == 1
    assert capsys.readouterr().err == f"crushctl: {message}\n"
    assert daemon.requests == []


async def test_run_continue_prompts_the_latest_session() -> None:
    """--continue uses the most recently updated session; none is created."""
    daemon = AgentDaemon(tool_turn)
    latest = [{"id": "s1", "title": "new"}, {"id": "s0", "title": "old"}]
    daemon.routes["GET", f"{WS}/sessions"] = answer(body=latest)
    assert await run(daemon, "--continue", PROMPT) == 0
    assert daemon.prompt["session_id"] == "s1"
    assert not daemon.sent("POST", f"{WS}/sessions")


async def test_run_continue_without_sessions_creates_one() -> None:
    """--continue in a workspace without sessions starts a new one."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, "--continue", PROMPT) == 0
    assert daemon.sent("POST", f"{WS}/sessions")


async def test_run_session_must_exist(capsys: pytest.CaptureFixture[str]) -> None:
    """--session ID is looked up first; an unknown one is the daemon's 404 text."""
    daemon = AgentDaemon(tool_turn)
    daemon.routes["GET", f"{WS}/sessions/s1"] = answer(body={"id": "s1", "title": "t"})
    assert await run(daemon, "--session", "s1", PROMPT) == 0
    assert daemon.prompt["session_id"] == "s1"
    daemon = AgentDaemon(tool_turn)
    daemon.routes["GET", f"{WS}/sessions/s9"] = answer(
        404, {"message": "session not found"}
    )
    assert await run(daemon, "--session", "s9", PROMPT) == 1
    assert capsys.readouterr().err.endswith("crushctl: session not found\n")


async def test_run_session_and_continue_exclude_each_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--session and --continue together are a usage error (2)."""
    assert await run(AgentDaemon(), "--session", "s1", "--continue", PROMPT) == 2
    assert "not allowed with argument" in capsys.readouterr().err


async def test_run_model_selects_the_large_model_first() -> None:
    """--model PROVIDER/MODEL: config/model (large, the model id keeps its
    slashes), agent/init, then agent/update, before the prompt."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, "--model", "openrouter/anthropic/claude-x", PROMPT) == 0
    order = daemon.order()
    assert order[1:4] == [
        f"POST {WS}/config/model",
        f"POST {WS}/agent/init",
        f"POST {WS}/agent/update",
    ]
    assert body(daemon.sent("POST", f"{WS}/config/model")[0]) == {
        "scope": 1,
        "model_type": "large",
        "model": {"provider": "openrouter", "model": "anthropic/claude-x"},
    }


async def test_run_bad_model_is_refused_before_joining(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--model without a provider part: exit 1, nothing sent."""
    daemon = AgentDaemon(tool_turn)
    assert await run(daemon, "--model", "gpt-x", PROMPT) == 1
    assert "--model takes PROVIDER/MODEL" in capsys.readouterr().err
    assert daemon.requests == []


async def test_run_after_a_resync_settles_from_the_stored_messages(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stream breaks and the resume missed events (resync): an idle
    session means the run ended; its stored messages give the rest and the
    outcome."""
    daemon = AgentDaemon(
        hanging,
        [frame(9, "resync", "updated", {"workspace_id": "w1", "oldest_id": 10})],
    )
    daemon.hang = False
    stored = [
        message("u1", "user", text(PROMPT)),
        message("a1", "assistant", text("Work done."), finish("end_turn")),
    ]
    daemon.routes["GET", f"{WS}/agent/sessions/s1"] = answer(
        body={"id": "s1", "title": "t"}
    )
    daemon.routes["GET", f"{WS}/sessions/s1/messages"] = answer(body=stored)
    assert await run(daemon, PROMPT) == 0
    captured = capsys.readouterr()
    assert captured.out == "Work done.\n"
    assert "resync: events before #10 were missed" in captured.err
    assert not daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")


async def test_run_lost_with_the_workspace_exits_1(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The daemon forgot the workspace (404 on resume): the run is lost; exit 1
    without cancelling in a workspace that no longer exists."""
    daemon = AgentDaemon(hanging, 404, [])
    daemon.hang = False
    assert await run(daemon, PROMPT) == 1
    assert capsys.readouterr().err.endswith("the run is lost\n")
    assert not daemon.sent("POST", f"{WS}/agent/sessions/s1/cancel")
