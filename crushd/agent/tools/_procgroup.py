"""Running ``bash -c COMMAND`` as its own process group, and killing that group.

Every command the agent runs is a new session (so a new process group whose id
is the shell's pid), with stdin ``/dev/null`` and the workspace's environment
plus upstream's agent markers and non-interactive settings. Stopping it sends
SIGINT to the whole group, then SIGKILL two seconds later; when the shell ends
by itself, whatever it left behind in its group is killed at once. So no
process a command started outlives it, its cancellation or its workspace.

Source: Crush ``internal/shell/exec_unix.go`` (group signals, 2 s),
``shell.go`` (``CrushEnvMarkers``) and ``run.go`` (``withNonInteractiveEnv``);
docs/agent.md 2.3.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import trio

#: Seconds between SIGINT and SIGKILL when a command is stopped.
KILL_GRACE_SECONDS = 2.0

#: Seconds the output of a finished shell is still read (something outside its
#: group may hold the pipes open).
DRAIN_SECONDS = 1.0

#: Variables that tell a program an agent runs it (upstream's markers).
AGENT_MARKERS = {"CRUSH": "1", "AGENT": "crush", "AI_AGENT": "crush"}

#: Settings that keep programs from waiting for a terminal that is not there.
NON_INTERACTIVE_ENV = {
    "TERM": "xterm-256color",
    "GIT_EDITOR": "false",
    "EDITOR": "false",
    "VISUAL": "false",
    "JJ_EDITOR": "false",
    "JJ_PAGER": "cat",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
}

#: Receives each chunk of output as it arrives.
Sink = Callable[[bytes], None]


def shell_env(
    extra: Sequence[str] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment a command runs with.

    Args:
        extra: the workspace's ``K=V`` list, appended (later wins); entries
            without ``=`` are ignored.
        base: the starting environment; the daemon's when None.

    Returns:
        ``base`` + ``extra`` + ``AGENT_MARKERS`` + ``NON_INTERACTIVE_ENV``.
    """
    env = dict(os.environ if base is None else base)
    for item in extra:
        key, sep, value = item.partition("=")
        if sep and key:
            env[key] = value
    return env | AGENT_MARKERS | NON_INTERACTIVE_ENV


def bash_path() -> str:
    """Return the ``bash`` program to run (``/bin/bash`` when not on PATH)."""
    return shutil.which("bash") or "/bin/bash"


async def open_group(
    command: str, cwd: Path, env: Mapping[str, str], *, merge_stderr: bool = False
) -> trio.Process:
    """Start ``bash -c command`` as a new process group with piped output.

    Args:
        command: the shell source.
        cwd: the folder it runs in.
        env: its whole environment (see ``shell_env``).
        merge_stderr: send stderr into stdout (one stream, as a terminal).

    Raises:
        OSError: bash could not be started (``cwd`` missing, ...).
    """
    return await trio.lowlevel.open_process(
        [bash_path(), "-c", command],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=True,
    )


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to process group ``pgid``; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


async def stop_group(process: trio.Process, grace: float = KILL_GRACE_SECONDS) -> None:
    """Stop ``process``'s group: SIGINT, SIGKILL after ``grace`` s; reap it.

    Usable as ``deliver_cancel`` for ``trio.run_process`` (with ``functools.
    partial`` for another grace). Shielded: it finishes even when called
    from a cancelled scope.
    """
    with trio.CancelScope(shield=True):
        if process.returncode is None:
            signal_group(process.pid, signal.SIGINT)
            with trio.move_on_after(grace):
                await process.wait()
        signal_group(process.pid, signal.SIGKILL)
        await process.wait()


async def pump(stream: trio.abc.ReceiveStream | None, sink: Sink) -> None:
    """Read ``stream`` to its end, handing every chunk to ``sink``."""
    if stream is None:
        return
    async with stream:
        while chunk := await stream.receive_some(65536):
            sink(bytes(chunk))


async def run_group(
    process: trio.Process,
    on_stdout: Sink,
    on_stderr: Sink,
    grace: float = KILL_GRACE_SECONDS,
) -> int:
    """Collect ``process``'s output until it ends; return its exit status.

    When the shell exits, what it left running in its group is killed so the
    pipes close; output is read for at most ``DRAIN_SECONDS`` more. On
    cancellation the group is stopped (``stop_group``) before the
    cancellation propagates.

    Returns:
        The shell's exit status (negative: killed by that signal).
    """
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pump, process.stdout, on_stdout)
            nursery.start_soon(pump, process.stderr, on_stderr)
            status = await process.wait()
            signal_group(process.pid, signal.SIGKILL)
            # A process that left the group (setsid) may still hold a pipe.
            nursery.cancel_scope.deadline = trio.current_time() + DRAIN_SECONDS
        return status
    finally:
        await stop_group(process, grace)
