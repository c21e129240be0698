"""The bang shell runner: environment, output, cap, cancel, the stored message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import pytest
import trio
import trio.testing

from crushd.errors import SessionNotFound
from crushd.proto import Message, Part
from crushd.workspace._messages import MessageService
from crushd.workspace._shell import (
    COLOUR_ENV,
    TRUNCATED_NOTE,
    ShellOutcome,
    run_shell_command,
    shell_env,
    store_shell_outcome,
)
from tests.agent.tools._procs import no_live_members


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (real processes)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


def test_env_appends_the_workspace_list_then_colour_and_columns() -> None:
    env = shell_env(
        ["A=1", "TERM=dumb", "bad"], term_width=120, base={"A": "0", "HOME": "/h"}
    )
    assert env["A"] == "1"
    assert env["HOME"] == "/h"
    assert env["COLUMNS"] == "120"
    assert COLOUR_ENV.items() <= env.items()
    assert "bad" not in env
    assert "COLUMNS" not in shell_env([], base={})
    assert shell_env([])["PATH"] == os.environ["PATH"]


async def test_output_is_stdout_and_stderr_together(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    env = shell_env(["WS=yes"], term_width=99)
    script = 'echo "$WS $COLUMNS $FORCE_COLOR"; echo err >&2; pwd; read x; exit 7'
    outcome = await run_shell_command(script, tmp_path, env)
    assert outcome == ShellOutcome(script, f"yes 99 1\nerr\n{tmp_path}\n", 7)


async def test_output_is_capped_and_the_command_stopped(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    outcome = await run_shell_command("yes", tmp_path, {}, max_bytes=1000)
    assert outcome.truncated
    assert outcome.output == "y\n" * 500 + TRUNCATED_NOTE
    assert outcome.exit_code == 128 + 9


async def test_a_signal_gives_128_plus_its_number(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    outcome = await run_shell_command("kill -TERM $$", tmp_path, {})
    assert outcome.exit_code == 128 + 15


async def test_leftovers_are_killed_and_do_not_hold_the_answer(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    pid_file = tmp_path / "pid"
    outcome = await run_shell_command(
        f"echo $$ > {pid_file}; sleep 60 & echo done", tmp_path, {}
    )
    assert outcome.output == "done\n"
    assert await no_live_members(int(pid_file.read_text()))


async def test_cancel_kills_the_whole_group(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    pid_file = tmp_path / "pid"
    command = f"echo $$ > {pid_file}; sleep 60 & wait"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_shell_command, command, tmp_path, {})
        while not pid_file.exists() or not pid_file.read_text().strip():
            await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert await no_live_members(int(pid_file.read_text()))


async def test_a_missing_folder_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        await run_shell_command("true", tmp_path / "gone", {})


@pytest.mark.parametrize("command", ["ls\x00", "ls \ud800"])
async def test_untransmittable_commands_raise_valueerror(
    tmp_path: Path, command: str
) -> None:
    with pytest.raises(ValueError, match="without NUL"):
        await run_shell_command(command, tmp_path, {})


def test_the_stored_message_has_one_shell_command_part() -> None:
    message = ShellOutcome("ls", "a\n", 0).message("s1")
    assert message.role == "user"
    assert message.session_id == "s1"
    assert len(message.id) == 36
    assert message.parts == [
        Part("shell_command", {"command": "ls", "output": "a\n", "exit_code": 0})
    ]


class FakeMessages:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.created: list[Message] = []

    async def create(self, message: Message) -> Message:
        if self.error is not None:
            raise self.error
        self.created.append(message)
        return message


async def test_store_creates_the_message() -> None:
    messages = FakeMessages()
    stored = await store_shell_outcome(
        cast("MessageService", messages), "s1", ShellOutcome("ls", "", 0)
    )
    assert stored is not None
    assert messages.created == [stored]


@pytest.mark.parametrize("error", [SessionNotFound(), RuntimeError("disk full")])
async def test_store_skips_a_vanished_session_and_only_logs_failures(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    messages = cast("MessageService", FakeMessages(error))
    assert await store_shell_outcome(messages, "s1", ShellOutcome("ls", "", 0)) is None
    logged = "storing the shell command" in caplog.text
    assert logged == isinstance(error, RuntimeError)
