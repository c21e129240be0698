"""The soak's daemon: a ``crushd serve`` subprocess, its resources, its files.

Started with short graces on a unix socket in the soak's temp folder and an
isolated environment (as tests/e2e/conftest.py does). Besides starting,
SIGKILLing and stopping it, this module measures what the soak checks: the
process's RSS and open descriptors, ``PRAGMA integrity_check`` of each
project database, whether a ``crush.lock`` is free.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import attrs
import trio

from crushctl import Client, CrushctlError
from crushd.proto import Host, parse_host

from .._env import isolated_env

#: Daemon timings (seconds) used by the soak.
CREATE_GRACE = 1.0
DETACH_GRACE = 0.5
IDLE_TIMEOUT = 600.0  # the soak ends the daemon itself
HEARTBEAT = 1.0
SEND_TIMEOUT = 1.0
READY_SECONDS = 20.0


@attrs.define
class Daemon:
    """One ``crushd serve`` process at a time on ``root/d.sock``."""

    root: Path
    host: Host = attrs.field(init=False)
    tcp_port: int = attrs.field(init=False)
    process: trio.Process | None = None
    starts: int = 0

    def __attrs_post_init__(self) -> None:
        self.host = parse_host(f"unix://{self.root / 'd.sock'}")
        self.tcp_port = _free_port()

    @property
    def token(self) -> str:
        """The bearer token the daemon created for its tcp listener."""
        path = self.root / "xdg-state" / "crushd" / "token"
        return path.read_text(encoding="utf-8").strip()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "crushd", "serve", "--host", self.host.url,
            "--host", f"tcp://127.0.0.1:{self.tcp_port}",
            "--create-grace", str(CREATE_GRACE),
            "--detach-grace", str(DETACH_GRACE),
            "--idle-timeout", str(IDLE_TIMEOUT),
            "--heartbeat", str(HEARTBEAT),
            "--send-timeout", str(SEND_TIMEOUT),
            "--log-level", "info",
        ]  # fmt: skip

    async def start(self) -> None:
        """Start the daemon and wait until ``/v1/health`` answers."""
        stderr = (self.root / f"daemon-{self.starts}.stderr").open("wb")
        with stderr:
            self.process = await trio.lowlevel.open_process(
                self.command(),
                env=isolated_env(self.root),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.starts += 1
        with trio.fail_after(READY_SECONDS):
            while not await self.healthy():
                if self.process.returncode is not None:
                    raise RuntimeError(f"daemon exited with {self.process.returncode}")
                await trio.sleep(0.05)

    async def healthy(self) -> bool:
        """Whether the daemon answers ``GET /v1/health``."""
        try:
            async with Client(self.host) as client:
                await client.health()
        except CrushctlError:
            return False
        return True

    async def kill(self) -> None:
        """SIGKILL the daemon and reap it."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self, seconds: float = 10.0) -> int | None:
        """SIGTERM and wait; the exit status, or ``None`` if it had to be killed."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        with trio.move_on_after(seconds):
            return await self.process.wait()
        await self.kill()
        return None

    async def wait_exit(self, seconds: float) -> int | None:
        """Wait for the daemon to exit by itself; its status, or ``None``."""
        assert self.process is not None
        with trio.move_on_after(seconds):
            return await self.process.wait()
        return None

    def rss_kib(self) -> int:
        """The daemon's resident set size in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])

    def fds(self) -> int:
        """How many descriptors the daemon has open."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def socket_exists(self) -> bool:
        return Path(self.host.address).exists()

    def log_count(self, text: str) -> int:
        """How often ``text`` appears in the daemon's log files (all runs)."""
        logs = (self.root / "cache").rglob("*.log")
        return sum(path.read_text(errors="replace").count(text) for path in logs)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def integrity(database: Path) -> str:
    """``PRAGMA integrity_check`` of ``database`` (``ok`` when sound or absent)."""
    if not database.exists():
        return "ok"
    connection = sqlite3.connect(database, timeout=10)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    return "; ".join(str(row[0]) for row in rows)
