"""The bang shell: a user's own command, run for ``POST .../shell``.

The command runs with ``bash -c`` in the workspace folder, as a new process
group with stdin ``/dev/null``; its environment is the daemon's, then the
workspace's ``K=V`` list, then colour settings and ``COLUMNS`` from the
client's ``term_width`` (upstream runs it on a PTY; crushd pipes stdout and
stderr together and asks programs for colour instead). Output past
``MAX_SHELL_OUTPUT_BYTES`` stops the command. When the request is cancelled the
whole group gets SIGINT, then SIGKILL two seconds later. The result is stored
as a user message with one ``shell_command`` part; a session deleted meanwhile
is skipped silently.

Source: Crush ``internal/backend`` shell route, ``internal/shell/pty.go``
(colour variables) and ``persist_message.go``; docs/protocol.md 2.8 and 4.2.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import trio

from crushd.errors import SessionNotFound
from crushd.proto import Message, Part

if TYPE_CHECKING:
    from ._messages import MessageService

log = logging.getLogger("crushd.workspace")

#: Most bytes of output kept; a command printing more is stopped.
MAX_SHELL_OUTPUT_BYTES = 1024 * 1024
#: Seconds between SIGINT and SIGKILL when the request is cancelled.
SHELL_KILL_GRACE_SECONDS = 2.0
#: Seconds the output of a finished shell is still read.
DRAIN_SECONDS = 1.0
#: Appended to the output of a command stopped at the cap.
TRUNCATED_NOTE = "\n[output truncated]"

#: Settings that make programs colour their output without a terminal.
COLOUR_ENV = {
    "TERM": "xterm-256color",
    "COLORTERM": "truecolor",
    "CLICOLOR_FORCE": "1",
    "FORCE_COLOR": "1",
}


@attrs.frozen
class ShellOutcome:
    """What a bang command produced (the route's answer, the stored part).

    Attributes:
        command: the command as sent.
        output: stdout and stderr as one text (UTF-8, bad bytes replaced).
        exit_code: the exit status; ``128 + N`` when signal ``N`` ended it.
        truncated: True when the output cap stopped the command.
    """

    command: str
    output: str
    exit_code: int
    truncated: bool = False

    def part(self) -> Part:
        """Return the ``shell_command`` part (docs/protocol.md 4.2)."""
        data: dict[str, object] = {
            "command": self.command,
            "output": self.output,
            "exit_code": self.exit_code,
        }
        return Part(type="shell_command", data=data)

    def message(self, session_id: str) -> Message:
        """Return the user message that stores this outcome in ``session_id``."""
        return Message(
            id=str(uuid.uuid4()),
            role="user",
            session_id=session_id,
            parts=[self.part()],
        )


def shell_env(
    extra: Sequence[str], term_width: int = 0, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the bang command's environment.

    Args:
        extra: the workspace's ``K=V`` list, appended (later wins).
        term_width: the client's terminal columns; ``COLUMNS`` when > 0.
        base: the starting environment; the daemon's when None.
    """
    env = dict(os.environ if base is None else base)
    for item in extra:
        key, sep, value = item.partition("=")
        if sep and key:
            env[key] = value
    env |= COLOUR_ENV
    if term_width > 0:
        env["COLUMNS"] = str(term_width)
    return env


async def run_shell_command(
    command: str,
    cwd: Path,
    env: Mapping[str, str],
    *,
    max_bytes: int = MAX_SHELL_OUTPUT_BYTES,
    grace: float = SHELL_KILL_GRACE_SECONDS,
) -> ShellOutcome:
    """Run ``command`` and collect its output.

    Args:
        command: the shell source (run by ``bash -c``).
        cwd: the workspace folder.
        env: the whole environment (see ``shell_env``).
        max_bytes: output cap; the group is killed past it.
        grace: seconds from SIGINT to SIGKILL on cancellation.

    Raises:
        OSError: bash could not be started (the route answers 500).
        ValueError: ``command`` holds a NUL character or a lone surrogate.

    Cancellation:
        The process group is stopped and reaped before it propagates.
    """
    if "\x00" in command or not _encodable(command):
        raise ValueError("the command must be text without NUL characters")
    process = await trio.lowlevel.open_process(
        [shutil.which("bash") or "/bin/bash", "-c", command],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, truncated = await _collect(process, max_bytes)
    finally:
        await _stop(process, grace)
    text = output.decode("utf-8", "replace") + (TRUNCATED_NOTE if truncated else "")
    code = process.returncode or 0
    return ShellOutcome(command, text, code if code >= 0 else 128 - code, truncated)


async def _collect(process: trio.Process, max_bytes: int) -> tuple[bytes, bool]:
    """Read the output until the shell ends (or the cap), then kill leftovers."""
    output = bytearray()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read, process, output, max_bytes)
        await process.wait()
        _signal(process.pid, signal.SIGKILL)  # what the shell left behind
        # Something that left the group (setsid) may still hold the pipe.
        nursery.cancel_scope.deadline = trio.current_time() + DRAIN_SECONDS
    return bytes(output[:max_bytes]), len(output) > max_bytes


async def _read(process: trio.Process, output: bytearray, max_bytes: int) -> None:
    assert process.stdout is not None
    async with process.stdout:
        while chunk := await process.stdout.receive_some(65536):
            output += chunk
            if len(output) > max_bytes:
                _signal(process.pid, signal.SIGKILL)
                return


async def _stop(process: trio.Process, grace: float) -> None:
    """SIGINT the group, SIGKILL it after ``grace`` s, reap the shell."""
    with trio.CancelScope(shield=True):
        if process.returncode is None:
            _signal(process.pid, signal.SIGINT)
            with trio.move_on_after(grace):
                await process.wait()
        _signal(process.pid, signal.SIGKILL)
        await process.wait()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _signal(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


async def store_shell_outcome(
    messages: MessageService, session_id: str, outcome: ShellOutcome
) -> Message | None:
    """Store ``outcome`` as a user message of ``session_id``.

    Returns:
        The stored message; None when the session is gone (skipped
        silently, as upstream) or the write failed (logged only).
    """
    try:
        return await messages.create(outcome.message(session_id))
    except SessionNotFound:
        return None
    except Exception:
        log.exception("storing the shell command of session %s failed", session_id)
        return None
