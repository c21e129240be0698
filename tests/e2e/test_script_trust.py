"""A real daemon runs a project's crushrc only after ``crushctl trust``.

Each step opens a new workspace in a fresh folder of the same repository, so
the repository's ``.crushrc`` is loaded again as a project layer each time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from .conftest import Daemon, DaemonFactory

#: The script leaves a line in ``ran`` (in its folder) each time it runs.
SCRIPT = 'echo run >> ran\nprintf \'{"options":{"initialize_as":"from-script"}}\'\n'


async def crushctl(daemons: DaemonFactory, *argv: str) -> str:
    command = [sys.executable, "-m", "crushctl", "--no-spawn", *argv]
    with trio.fail_after(30):
        result = await trio.run_process(command, env=daemons.env(), capture_stdout=True)
    return result.stdout.decode()


async def initialize_as(daemon: Daemon, folder: Path) -> object:
    """Open a workspace at ``folder``; return its ``options.initialize_as``."""
    await trio.Path(folder).mkdir()
    async with daemon.client() as client:
        workspace = await client.create_workspace(folder)
        options = (await client.config(workspace.id)).get("options", {})
        await client.delete_workspace(workspace.id)
    return options.get("initialize_as")


def runs(repo: Path) -> int:
    ran = repo / "ran"
    return len(ran.read_text().splitlines()) if ran.exists() else 0


async def test_project_script_runs_only_once_trusted(
    daemons: DaemonFactory, project: Path
) -> None:
    """Untrusted: skipped, create succeeds. Trusted: runs. Edited: skipped again."""
    (project / ".git").mkdir()
    script = project / ".crushrc"
    script.write_text(SCRIPT)
    daemon = await daemons.start()

    assert await initialize_as(daemon, project / "a") is None
    assert runs(project) == 0
    log = daemon.log_text()
    assert f"skipping project script {script} (sha256 " in log
    assert f"crushctl trust --cwd {project}" in log

    out = await crushctl(daemons, "trust", "--cwd", str(project / "a"))
    assert f"trusted 1 script(s) in {daemons.root}" in out
    assert await initialize_as(daemon, project / "b") == "from-script"
    assert runs(project) == 1

    script.write_text(SCRIPT + "# edited\n")
    assert await initialize_as(daemon, project / "c") is None
    assert runs(project) == 1
