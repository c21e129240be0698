"""The issue's demo through the real CLI: two `crushctl watch`, one `sessions new`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import trio

from .conftest import Daemon, DaemonFactory
from .test_multiclient import PROMPT


async def start_watch(
    daemon: Daemon, project: Path, env: dict[str, str]
) -> trio.Process:
    command = [sys.executable, "-m", "crushctl", "--host", daemon.host.url, "--json"]
    return await trio.lowlevel.open_process(
        [*command, "watch", "--cwd", str(project)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


async def read_until(process: trio.Process, wanted: str) -> list[dict[str, object]]:
    """Read JSON lines from ``process`` until one has ``"type": wanted``."""
    assert process.stdout is not None
    buffer = b""
    lines: list[dict[str, object]] = []
    with trio.fail_after(PROMPT):
        while not any(line.get("type") == wanted for line in lines):
            chunk = await process.stdout.receive_some()
            assert chunk, "watch exited early"
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            lines.extend(json.loads(raw) for raw in complete if raw.strip())
    return lines


async def test_cli_watchers_see_a_session_made_by_a_third_cli(
    daemons: DaemonFactory, project: Path
) -> None:
    """Two `crushctl watch` see `crushctl sessions new`; Ctrl-C retires both."""
    daemon = await daemons.start()
    env = daemons.env()
    watchers = [await start_watch(daemon, project, env) for _ in range(2)]
    for watcher in watchers:
        await read_until(watcher, "connected")
    new = [sys.executable, "-m", "crushctl", "--host", daemon.host.url]
    result = await trio.run_process(
        [*new, "sessions", "new", "--cwd", str(project), "hello"],
        env=env,
        capture_stdout=True,
    )
    assert b"hello" in result.stdout
    for watcher in watchers:
        lines = await read_until(watcher, "session")
        (event,) = [line for line in lines if line.get("type") == "session"]
        assert event["event_type"] == "created"
        assert isinstance(event["payload"], dict)
        assert event["payload"]["title"] == "hello"
    for watcher in watchers:
        watcher.send_signal(signal.SIGINT)
        with trio.fail_after(PROMPT):
            assert await watcher.wait() == 130
    async with daemon.client() as client:
        # Both watchers retired on Ctrl-C and `sessions new` released its hold,
        # so nothing keeps the workspace: it is gone without any grace period.
        assert await client.workspaces() == []
