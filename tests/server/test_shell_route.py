"""The bang shell route: ``POST .../agent/sessions/{sid}/shell``.

Real ``bash`` in the workspace folder through the route of
``crushd/server/routes/_shell.py``: the answer, the stored ``shell_command``
message, the environment (the workspace's ``env`` list, ``COLUMNS`` from
``term_width``) and the 400s (docs/protocol.md 2.8, 4.2). The runner's own
rules (output cap, cancellation) are tested in tests/workspace/test_shell.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio.testing

from crushd.workspace._shell import MAX_SHELL_OUTPUT_BYTES

from .conftest import Harness

WORKSPACE_ENV = ["CRUSHD_SHELL_T=from-the-workspace", "CRUSHD_SHELL_U=a=b"]


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 0.5 s of real idleness.

    Real processes: on a loaded machine a shell's exit can be seen 20 ms
    before its last output is read, and a jump would end the route's
    one-second drain early.
    """
    return trio.testing.MockClock(autojump_threshold=0.5)


@attrs.frozen
class Session:
    """A session of a held workspace, and its shell route."""

    base: str
    id: str

    @property
    def shell(self) -> str:
        return f"{self.base}/agent/sessions/{self.id}/shell"

    async def run(self, harness: Harness, body: Any) -> tuple[int, Any]:
        return await harness.json("POST", self.shell, body)

    async def messages(self, harness: Harness) -> list[dict[str, Any]]:
        path = f"{self.base}/sessions/{self.id}/messages"
        status, messages = await harness.json("GET", path)
        assert status == 200, messages
        assert isinstance(messages, list)
        return messages


@pytest.fixture
async def session(
    harness: Harness, project: Path, idle_clock: trio.testing.MockClock
) -> Session:
    client_id = new_id()
    body = {"path": str(project), "client_id": client_id, "env": WORKSPACE_ENV}
    status, created = await harness.json("POST", "/v1/workspaces", body)
    assert status == 200, created
    # A stream claim: the workspace stays without a grace timer to jump to.
    harness.registry.attach(created["id"], client_id)
    base = f"/v1/workspaces/{created['id']}"
    status, made = await harness.json("POST", f"{base}/sessions", {"title": "t"})
    assert status == 200, made
    return Session(base, made["id"])


async def test_the_answer_is_the_output_and_exit_code(
    harness: Harness, session: Session
) -> None:
    """stdout and stderr together, in order; the exit code as the shell ended."""
    ok = await session.run(harness, {"command": "echo hello; echo more"})
    assert ok == (200, {"output": "hello\nmore\n", "exit_code": 0})
    failed = await session.run(harness, {"command": "echo out; echo err >&2; exit 3"})
    assert failed == (200, {"output": "out\nerr\n", "exit_code": 3})
    missing = await session.run(harness, {"command": "no-such-command-here"})
    assert missing[0] == 200
    assert missing[1]["exit_code"] == 127


async def test_it_runs_in_the_workspace_folder(
    harness: Harness, session: Session, project: Path
) -> None:
    answer = await session.run(harness, {"command": "pwd; cat ./marker"})
    assert answer[1]["output"].splitlines()[0] == str(project)
    (project / "marker").write_text("here\n")
    answer = await session.run(harness, {"command": "cat marker"})
    assert answer == (200, {"output": "here\n", "exit_code": 0})


async def test_the_result_is_stored_as_a_shell_command_user_message(
    harness: Harness, session: Session
) -> None:
    """One user message per command: a shell_command part with its fields."""
    assert await session.messages(harness) == []
    # A session_id in the body is ignored: the path names the session.
    body = {"command": "echo stored; exit 2", "session_id": new_id()}
    await session.run(harness, body)
    (message,) = await session.messages(harness)
    assert (message["role"], message["session_id"]) == ("user", session.id)
    # The message service ends every non-assistant message with a finish part.
    assert [p["type"] for p in message["parts"]] == ["shell_command", "finish"]
    part = message["parts"][0]
    data = {"command": "echo stored; exit 2", "output": "stored\n", "exit_code": 2}
    assert part["data"] == data


async def test_an_unknown_session_still_answers_and_stores_nothing(
    harness: Harness, session: Session
) -> None:
    """The session is gone: the command runs, its result is skipped silently."""
    gone = Session(session.base, new_id())
    assert await gone.run(harness, {"command": "echo hi"}) == (
        200,
        {"output": "hi\n", "exit_code": 0},
    )
    assert await session.messages(harness) == []
    path = f"{session.base}/messages/user"
    assert await harness.json("GET", path) == (200, [])


async def test_columns_come_from_term_width(
    harness: Harness, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """term_width > 0 sets COLUMNS (clamped); without it the daemon's is kept."""
    monkeypatch.delenv("COLUMNS", raising=False)
    command = 'echo "${COLUMNS-unset} $FORCE_COLOR"'
    cases = [
        (132, "132 1\n"),
        (0, "unset 1\n"),
        (-5, "unset 1\n"),
        (10**9, "10000 1\n"),
    ]
    for width, output in cases:
        answer = await session.run(harness, {"command": command, "term_width": width})
        assert answer == (200, {"output": output, "exit_code": 0}), width
    answer = await session.run(harness, {"command": command})
    assert answer[1]["output"] == "unset 1\n"


async def test_the_workspace_env_list_is_applied_over_the_daemons(
    harness: Harness, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create request's env (K=V) is appended; the daemon's own stays."""
    monkeypatch.setenv("CRUSHD_SHELL_T", "from-the-daemon")
    monkeypatch.setenv("CRUSHD_SHELL_D", "daemon-only")
    command = 'echo "$CRUSHD_SHELL_T|$CRUSHD_SHELL_U|$CRUSHD_SHELL_D"'
    answer = await session.run(harness, {"command": command})
    output = "from-the-workspace|a=b|daemon-only\n"
    assert answer == (200, {"output": output, "exit_code": 0})


async def test_bad_commands_are_400_and_store_nothing(
    harness: Harness, session: Session
) -> None:
    """Empty or blank commands, a NUL, a lone surrogate, malformed bodies."""
    cases: list[tuple[Any, str]] = [
        ({"command": ""}, "command is required"),
        ({"command": "  \n\t"}, "command is required"),
        ({}, "command is required"),
        ({"command": "echo a\x00b"}, "without NUL characters"),
        ('{"command": "echo \\ud800"}', "failed to decode request"),
        ({"command": 5}, "failed to decode request"),
        ({"command": "echo", "term_width": "80"}, "failed to decode request"),
        ("", "failed to decode request"),
        ("{", "failed to decode request"),
    ]
    for body, text in cases:
        status, answer = await session.run(harness, body)
        assert status == 400, body
        assert text in answer["message"], body
    assert await session.messages(harness) == []


async def test_an_unknown_workspace_is_404(harness: Harness) -> None:
    gone = Session(f"/v1/workspaces/{new_id()}", new_id())
    assert await gone.run(harness, {"command": "echo hi"}) == (
        404,
        {"message": "workspace not found"},
    )


async def test_output_past_the_cap_is_cut_and_noted(
    harness: Harness, session: Session
) -> None:
    """A command printing without end is stopped at the cap; the answer says so."""
    answer = await session.run(harness, {"command": "yes"})
    assert answer[0] == 200
    output = answer[1]["output"]
    assert output.startswith("y\ny\n")
    assert output.endswith("[output truncated]")
    assert len(output.encode()) < MAX_SHELL_OUTPUT_BYTES + 100
