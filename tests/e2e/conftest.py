"""A real ``crushd serve`` subprocess on a unix socket in a temp dir, for e2e tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import attrs
import pytest
import trio

from crushctl import Client, ServerUnavailable
from crushd.proto import Host, parse_host

from ..replay import ReplayServer

#: How long a daemon may take to answer /v1/health after spawn, seconds.
READY_SECONDS = 15.0


@attrs.define
class Daemon:
    """One daemon process and where it lives."""

    host: Host
    process: trio.Process
    log_dir: Path
    stderr_path: Path

    @property
    def socket_path(self) -> Path:
        return Path(self.host.address)

    def client(self, client_id: str | None = None) -> Client:
        """A client with its own id (each stands for a separate process)."""
        return Client(self.host, client_id=client_id or str(uuid.uuid4()))

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def wait_exit(self, seconds: float) -> int:
        with trio.fail_after(seconds):
            return await self.process.wait()

    def log_text(self) -> str:
        return "\n".join(p.read_text() for p in self.log_dir.rglob("*.log"))


@attrs.define
class DaemonFactory:
    """Starts daemons with an isolated environment; stops them at teardown."""

    root: Path
    nursery: trio.Nursery
    started: list[Daemon] = attrs.field(factory=list)

    def env(self, *, traced: bool = False) -> dict[str, str]:
        """The isolated environment for a process of this test.

        Only daemons started by ``start`` are traced by coverage (``traced``):
        coverage's start-up and data file add about 0.3 s to each process,
        and the clients' code is measured by the in-process tests.
        """
        env = {k: v for k, v in os.environ.items() if traced or not _coverage(k)}
        env.update(
            CRUSH_CACHE_DIR=str(self.root / "cache"),
            # The only global skills folder: the real ~/.claude/skills etc.
            # are never scanned.
            CRUSH_SKILLS_DIR=str(self.root / "global-skills"),
            # Config layers: never the real user files (scope 0 writes land
            # in global-data/crush.json).
            CRUSH_GLOBAL_CONFIG=str(self.root / "global-config"),
            CRUSH_GLOBAL_DATA=str(self.root / "global-data"),
            XDG_CACHE_HOME=str(self.root / "xdg-cache"),
            XDG_CONFIG_HOME=str(self.root / "xdg-config"),
            XDG_DATA_HOME=str(self.root / "xdg-data"),
            XDG_RUNTIME_DIR=str(self.root),
        )
        return env

    async def start(
        self, *args: str, socket_name: str = "d.sock", wait: bool = True
    ) -> Daemon:
        host = parse_host(f"unix://{self.root / socket_name}")
        command = [sys.executable, "-m", "crushd", "serve", "--host", host.url, *args]
        stderr_path = self.root / f"{socket_name}.stderr"
        with stderr_path.open("wb") as stderr:
            process = await trio.lowlevel.open_process(
                command,
                env=self.env(traced=True),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        daemon = Daemon(host, process, self.root / "cache", stderr_path)
        self.started.append(daemon)
        if wait:
            await wait_ready(daemon)
        return daemon

    async def stop_all(self) -> None:
        for daemon in self.started:
            if daemon.process.returncode is None:
                daemon.process.kill()
                await daemon.process.wait()


def _coverage(name: str) -> bool:
    return name.startswith("COVERAGE_PROCESS_")


async def wait_ready(daemon: Daemon) -> None:
    """Poll /v1/health until the daemon answers (startup, not a timing check)."""
    with trio.fail_after(READY_SECONDS):
        while True:
            if daemon.process.returncode is not None:
                raise RuntimeError(f"daemon exited with {daemon.process.returncode}")
            try:
                async with daemon.client() as client:
                    await client.health()
                    return
            except ServerUnavailable:
                await trio.sleep(0.05)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp dir with a path short enough for a unix socket (104 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="crushd-e2e-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def daemons(
    short_tmp: Path, nursery: trio.Nursery
) -> AsyncIterator[DaemonFactory]:
    factory = DaemonFactory(short_tmp, nursery)
    yield factory
    await factory.stop_all()


@pytest.fixture
def project(short_tmp: Path) -> Path:
    path = short_tmp / "project"
    path.mkdir()
    return path


@pytest.fixture
async def replay(nursery: trio.Nursery) -> ReplayServer:
    """The replay model server, serving the recordings (tests/replay)."""
    server = ReplayServer()
    await nursery.start(server.serve)
    return server
