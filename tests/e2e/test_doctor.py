"""``crushctl doctor`` against a real daemon: all ok, and it starts nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trio

from .conftest import DaemonFactory

NOBODY = 65534


async def test_doctor_reports_a_healthy_daemon(daemons: DaemonFactory) -> None:
    """With a live daemon of the same build every check is ok and the exit is 0."""
    daemon = await daemons.start()
    result = await trio.run_process(
        [sys.executable, "-m", "crushctl", "--host", daemon.host.url, "doctor"],
        env=daemons.env(),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    assert "healthy, 0 live workspace(s)" in out
    assert "accepts connections (mode 600)" in out
    assert "FAIL" not in out
    assert "warn" not in out


async def test_doctor_never_starts_a_daemon(daemons: DaemonFactory) -> None:
    """Without a daemon, doctor reports it unreachable and leaves no socket behind."""
    socket_path = daemons.root / "none.sock"
    result = await trio.run_process(
        [sys.executable, "-m", "crushctl", "--host", f"unix://{socket_path}", "doctor"],
        env=daemons.env(),
        stdin=subprocess.DEVNULL,
        capture_stdout=True,
        check=False,
    )
    assert result.returncode == 0
    assert "not reachable" in result.stdout.decode()
    assert not socket_path.exists()


async def test_doctor_cwd_shows_what_the_project_skips(
    daemons: DaemonFactory, project: Path
) -> None:
    """--cwd adds a warning per untrusted project script and per foreign file."""
    daemon = await daemons.start()
    script = project / ".crushrc"
    script.write_text("echo '{}'\n")
    foreign = project / "crush.json"
    foreign.write_text("{}")
    if os.geteuid() == 0:
        os.chown(foreign, NOBODY, NOBODY)
    else:
        foreign.chmod(0o666)  # group/other-writable: untrusted for any user
    argv = ["--host", daemon.host.url, "doctor", "--cwd", str(project)]
    result = await trio.run_process(
        [sys.executable, "-m", "crushctl", *argv],
        env=daemons.env(),
        capture_stdout=True,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, out
    assert f"warn  project script  {script} is skipped (not in your trust list" in out
    assert f"crushctl trust --cwd {project}`" in out
    assert f"warn  skipped         {foreign} is not used: " in out
