"""Permission prompts through the real CLI, against a real daemon and the replay model.

``crushctl run`` on the ``write_tool`` recording without yolo: the write asks
permission. Without a terminal the run prints how to answer and waits;
``crushctl grant`` from another process approves it, the run's prompt closes
with who approved, a second grant hears "already resolved", and the file is
written once. With a terminal (a pty) the run asks ``[y]es / [s]ession / [n]o``
and the answer typed there decides. ``--yolo`` approves its own session only
(docs/agent.md 3.4; docs/protocol.md 2.6, 6.5, C.4).
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from crushctl import Client, EventStream, open_event_stream

from ..replay import ReplayServer, fixture_problems, load_scenario
from ._agent_helpers import start_scenario
from .conftest import Daemon, DaemonFactory
from .test_multiclient import PROMPT

pytestmark = [pytest.mark.e2e]

SCENARIO = "write_tool"


@attrs.frozen
class Keeper:
    """A client that holds the workspace (no yolo) and records its events."""

    client: Client
    workspace_id: str
    stream: EventStream


@contextlib.asynccontextmanager
async def keeper(daemon: Daemon, project: Path) -> AsyncIterator[Keeper]:
    async with daemon.client() as client:
        workspace = await client.create_workspace(project)
        async with open_event_stream(client, workspace.id) as stream:
            yield Keeper(client, workspace.id, stream)


def crushctl(daemon: Daemon, *argv: str) -> list[str]:
    """A crushctl command line for ``daemon``; it never starts another daemon."""
    host = ["--host", daemon.host.url, "--no-spawn"]
    return [sys.executable, "-m", "crushctl", *host, *argv]


@contextlib.asynccontextmanager
async def started(
    daemons: DaemonFactory, command: list[str], stdin: int = subprocess.DEVNULL
) -> AsyncIterator[trio.Process]:
    """Run ``command`` with pipes for stdout and stderr; kill it if still running."""
    process = await trio.lowlevel.open_process(
        command,
        env=daemons.env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


async def read_until(stream: trio.abc.ReceiveStream | None, wanted: str) -> str:
    """Read ``stream`` until its text so far contains ``wanted``; return it."""
    assert stream is not None
    text = b""
    with trio.fail_after(PROMPT):
        while wanted.encode() not in text:
            chunk = await stream.receive_some()
            assert chunk, f"ended before {wanted!r}: {text.decode()}"
            text += chunk
    return text.decode()


async def finish(process: trio.Process) -> tuple[int, str, str]:
    """Wait for ``process``; return its status, the rest of stdout and stderr."""
    out, err = b"", b""
    with trio.fail_after(PROMPT):
        async with trio.open_nursery() as nursery:

            async def drain(stream: trio.abc.ReceiveStream | None, key: str) -> None:
                nonlocal out, err
                assert stream is not None
                while chunk := await stream.receive_some():
                    if key == "out":
                        out += chunk
                    else:
                        err += chunk

            nursery.start_soon(drain, process.stdout, "out")
            nursery.start_soon(drain, process.stderr, "err")
        status = await process.wait()
    return status, out.decode(), err.decode()


async def check_fixture(k: Keeper, replay: ReplayServer, project: Path) -> None:
    sessions = await k.client.sessions(k.workspace_id)
    messages = await k.client.messages(k.workspace_id, sessions[0].id)
    scenario = load_scenario(SCENARIO)
    requests = replay.requests(SCENARIO)
    assert fixture_problems(scenario, messages, requests, project) == []


async def test_run_without_a_tty_waits_for_crushctl_grant(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """The run prints the request and the grant command; `crushctl
    permissions` lists it; `crushctl grant` wins, a second grant is "already
    resolved" (exit 1), the run's prompt closes with who approved, watch shows
    the request and its resolution, the file is written."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    cwd = ["--cwd", str(project)]
    env = daemons.env()
    async with (
        keeper(daemon, project) as k,
        started(daemons, crushctl(daemon, "watch", *cwd)) as watch,
    ):
        await read_until(watch.stderr, "watching workspace")
        command = crushctl(daemon, "run", *cwd, scenario.prompt)
        async with started(daemons, command) as run:
            said = await read_until(run.stderr, "| crushctl deny ")
            assert "permission requested: write" in said
            request_id = re.findall(r"crushctl grant (\S+) \[--session\]", said)[0]
            listing = crushctl(daemon, "--json", "permissions", *cwd)
            listed = await trio.run_process(listing, env=env, capture_stdout=True)
            assert [r["id"] for r in json.loads(listed.stdout)] == [request_id]
            grant = crushctl(daemon, "grant", *cwd, request_id)
            first = await trio.run_process(grant, env=env, capture_stdout=True)
            assert first.stdout.decode().startswith("approved: write")
            status, out, err = await finish(run)
        assert status == 0, err
        assert "Done." in out
        assert "crushctl: permission approved by " in err
        second = await trio.run_process(
            grant, env=env, capture_stderr=True, check=False
        )
        assert second.returncode == 1
        assert b"already resolved" in second.stderr
        lines = await read_until(watch.stdout, "approved by ")
        assert f"permission_request created {request_id} write" in lines
        await check_fixture(k, replay, project)


async def test_run_on_a_tty_answers_from_its_terminal(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """stdin is a pty: the run asks [y]es / [s]ession / [n]o, "y" approves,
    the write happens and the run ends as recorded."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    main, terminal = pty.openpty()
    try:
        command = crushctl(daemon, "run", "--cwd", str(project), scenario.prompt)
        async with (
            keeper(daemon, project) as k,
            started(daemons, command, stdin=terminal) as run,
        ):
            await read_until(run.stderr, "[y]es / [s]ession / [n]o: ")
            os.write(main, b"y\n")
            status, out, err = await finish(run)
            assert status == 0, err
            assert "crushctl: approved\n" in err
            assert "Done." in out
            await check_fixture(k, replay, project)
    finally:
        os.close(main)
        os.close(terminal)


async def test_run_yolo_approves_its_own_session_only(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """--yolo runs the write without a prompt; the workspace toggle stays off
    and the session's own skip is off again afterwards."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    command = crushctl(daemon, "run", "--yolo", "--cwd", str(project), scenario.prompt)
    async with keeper(daemon, project) as k, started(daemons, command) as run:
        status, out, err = await finish(run)
        assert status == 0, err
        assert "Done." in out
        assert "permission" not in err
        assert not await k.client.permission_skip(k.workspace_id)
        sessions = await k.client.sessions(k.workspace_id)
        assert not await k.client.permission_skip(k.workspace_id, sessions[0].id)
        await check_fixture(k, replay, project)


async def test_shell_runs_in_the_workspace_and_is_stored(
    daemons: DaemonFactory, project: Path
) -> None:
    """`crushctl shell` runs in the project folder with the workspace's env,
    prints the output (secrets masked), stores it in the session, and exits 1
    with the status of a failing command."""
    daemon = await daemons.start()
    env = daemons.env()
    secret = "https://me:hunter2hunter2hunter2@db/"
    (project / "marker.txt").write_text("here\n")
    async with keeper(daemon, project) as k:
        shell = crushctl(daemon, "shell", "--cwd", str(project))
        command = [*shell, "cat", "marker.txt", "&&", "echo", secret]
        result = await trio.run_process(command, env=env, capture_stdout=True)
        out = result.stdout.decode()
        assert out.startswith("here\n")
        assert "hunter2" not in out
        failing = await trio.run_process(
            [*shell, "exit", "3"], env=env, capture_stderr=True, check=False
        )
        assert failing.returncode == 1
        assert b"exited with status 3" in failing.stderr
        (session,) = await k.client.sessions(k.workspace_id)
        messages = await k.client.messages(k.workspace_id, session.id)
    stored = [[p for p in m.parts if p.type == "shell_command"] for m in messages]
    assert [
        (m.role, len(parts)) for m, parts in zip(messages, stored, strict=True)
    ] == [
        ("user", 1),
        ("user", 1),
    ]


@pytest.mark.parametrize("how", ["deny", "cancel"])
async def test_a_denied_or_cancelled_request_closes_the_runs_prompt(
    daemons: DaemonFactory, project: Path, replay: ReplayServer, how: str
) -> None:
    """`crushctl deny` ends the turn without writing (the run's prompt says who
    denied); `crushctl cancel` while pending closes it as cancelled and the
    run exits 1. No file either way."""
    daemon, scenario = await start_scenario(daemons, project, replay, SCENARIO)
    cwd = ["--cwd", str(project)]
    command = crushctl(daemon, "run", *cwd, scenario.prompt)
    async with keeper(daemon, project), started(daemons, command) as run:
        said = await read_until(run.stderr, "| crushctl deny ")
        request_id = re.findall(r"crushctl deny (\S+)", said)[0]
        other = [how, *cwd, request_id] if how == "deny" else [how, *cwd]
        await trio.run_process(crushctl(daemon, *other), env=daemons.env())
        status, _out, err = await finish(run)
    if how == "deny":
        assert status == 0, err
        assert "crushctl: permission denied by " in err
    else:
        assert status == 1
        assert "crushctl: permission cancelled (the run ended)\n" in err
        assert err.endswith("crushctl: the run was cancelled\n")
    assert not (project / "config.json").exists()
