"""``crushctl doctor`` against a real daemon: all ok, and it starts nothing."""

from __future__ import annotations

import subprocess
import sys

import trio

from .conftest import DaemonFactory


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
