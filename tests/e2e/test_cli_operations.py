"""Operating crushd from the CLI against real processes (issue 15).

``crushctl shutdown --force`` stops a daemon in the middle of a run (streams
end, the run is cancelled and recorded, exit 0); ``crushctl status`` names the
daemon's real pid and files; auto-start works from a folder that holds a
folder named ``crushd``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from ..replay import ReplayServer
from ._agent_helpers import start_scenario
from .conftest import DaemonFactory
from .test_cli_permissions import crushctl, keeper, read_until, started
from .test_spawn import daemon_pids, host_in, kill_daemons, wait_no_daemons

pytestmark = [pytest.mark.e2e]

#: Bounds, not timing checks.
EXIT_SECONDS = 5.0


@pytest.fixture
async def replay(nursery: trio.Nursery) -> ReplayServer:
    server = ReplayServer()
    await nursery.start(server.serve)
    return server


async def test_shutdown_force_stops_a_daemon_mid_run(
    daemons: DaemonFactory, project: Path, replay: ReplayServer
) -> None:
    """A run waits for a permission; shutdown --force exits 0, the keeper's
    stream ends, the daemon exits 0, and the turn is recorded as canceled."""
    daemon, scenario = await start_scenario(daemons, project, replay, "write_tool")
    env = daemons.env()
    async with keeper(daemon, project) as k:
        command = crushctl(daemon, "run", "--cwd", str(project), scenario.prompt)
        async with started(daemons, command) as run:
            await read_until(run.stderr, "| crushctl deny ")
            forced = await trio.run_process(
                crushctl(daemon, "shutdown", "--force"), env=env, capture_stdout=True
            )
            assert forced.stdout == b"crushd is shutting down\n"
            with trio.fail_after(EXIT_SECONDS):
                seen = [event async for event in k.stream]  # until it ends
            assert await daemon.wait_exit(EXIT_SECONDS) == 0
            # The run saw the shutdown marker (docs/protocol.md C.11): it says
            # its run was cancelled and exits 1, starting no daemon.
            await read_until(run.stderr, "the daemon was stopped; the run was")
            with trio.fail_after(EXIT_SECONDS):
                assert await run.wait() == 1
    assert seen  # it delivered the run's events, then ended
    # The turn was recorded (read back from a new daemon): finish canceled,
    # and the pending write call got its "cancelled" result.
    again = await daemons.start(socket_name="again.sock")
    async with again.client() as client:
        workspace = await client.create_workspace(project)
        [session] = await client.sessions(workspace.id)
        messages = await client.messages(workspace.id, session.id)
    [answer] = [m for m in messages if m.role == "assistant"]
    [finished] = [part.data for part in answer.parts if part.type == "finish"]
    assert (finished["reason"], finished["message"]) == (
        "canceled",
        "User canceled request",
    )
    assert "user cancelled" in str(messages[-1].parts)


async def test_status_shows_the_daemons_pid_and_files(
    daemons: DaemonFactory,
) -> None:
    """status --json and the text output name the real pid, socket and log file."""
    daemon = await daemons.start()
    argv = crushctl(daemon, "--json", "status")
    done = await trio.run_process(argv, env=daemons.env(), capture_stdout=True)
    facts = json.loads(done.stdout)["daemon"]
    assert facts["pid"] == daemon.process.pid
    assert facts["socket"] == str(daemon.socket_path)
    assert await trio.Path(facts["log_file"]).is_file()
    assert facts["uptime_seconds"] >= 0
    assert set(facts["data_dirs"]) == {"config", "data", "state", "logs"}


async def test_autostart_from_a_folder_holding_a_crushd_folder(
    daemons: DaemonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``crushd`` folder in the caller's cwd never reaches the spawned daemon."""
    here = daemons.root / "work"
    (here / "crushd").mkdir(parents=True)
    (here / "crushd" / "__init__.py").write_text("raise ImportError('shadowed')\n")
    host = host_in(daemons.root)
    # -P: like the crushctl console script, crushctl itself never imports
    # from the cwd; the daemon it spawns must not either.
    command = [sys.executable, "-P", "-m", "crushctl", "--host", host.url, "status"]
    try:
        done = await trio.run_process(
            command,
            cwd=here,
            env=daemons.env(),
            stdin=subprocess.DEVNULL,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert b"status:      healthy" in done.stdout
        assert daemon_pids(daemons.root)
    finally:
        kill_daemons(daemons.root)
        await wait_no_daemons(daemons.root)
