"""The process side of ensure_server: ready timeout, spawn lock, detached child."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

import crushctl._launch as launch
from crushctl import (
    DEFAULT_READY_TIMEOUT_SECONDS,
    READY_TIMEOUT_ENV,
    Client,
    ServerStartError,
    ready_timeout_seconds,
)
from crushctl._launch import health_error, server_command, spawn_lock, start_server
from crushd.proto import default_host, parse_host

#: A stand-in daemon that reports how it was started, then fails.
REPORTING_CHILD = """
import json, os, sys
print(json.dumps({
    "pid": os.getpid(),
    "sid": os.getsid(0),
    "stdin": sys.stdin.read(),
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
}))
sys.stderr.write("boom\\n")
sys.exit(3)
"""


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="crushctl-launch-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10.0),
        ("500ms", 0.5),
        ("1m", 60.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("250000us", 0.25),
        ("2.5", 2.5),
        ("3", 3.0),
        (" 4s ", 4.0),
    ],
)
def test_ready_timeout_seconds_parses_durations(text: str, seconds: float) -> None:
    """Go durations (``10s``, ``500ms``, ``1m30s``) and plain seconds are read."""
    assert ready_timeout_seconds({READY_TIMEOUT_ENV: text}) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "soon", "0", "0s", "-1s", "1e3", "inf", "nan", "10 s", "5x", "s"]
)
def test_ready_timeout_seconds_invalid_or_not_positive_is_default(text: str) -> None:
    """Anything unparsable, zero or negative falls back to 10 s."""
    assert ready_timeout_seconds({READY_TIMEOUT_ENV: text}) == 10.0
    assert DEFAULT_READY_TIMEOUT_SECONDS == 10.0


def test_ready_timeout_seconds_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a mapping it reads os.environ; unset means the default."""
    monkeypatch.delenv(READY_TIMEOUT_ENV, raising=False)
    assert ready_timeout_seconds() == DEFAULT_READY_TIMEOUT_SECONDS
    monkeypatch.setenv(READY_TIMEOUT_ENV, "750ms")
    assert ready_timeout_seconds() == pytest.approx(0.75)


def test_server_command_adds_host_only_when_not_default(
    monkeypatch: pytest.MonkeyPatch, short_dir: Path
) -> None:
    """The daemon runs under our interpreter; ``--host`` only for other hosts."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    serve = [sys.executable, "-P", "-m", "crushd", "serve"]
    assert server_command(default_host()) == serve
    same = parse_host(f"unix://{short_dir}/crush-{os.getuid()}.sock")
    assert server_command(same) == serve
    other = parse_host(f"unix://{short_dir}/d.sock")
    assert server_command(other) == [*serve, "--host", other.url]


def locked_elsewhere(path: Path) -> bool:
    """Whether another open file description holds the flock on ``path``."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


async def test_spawn_lock_excludes_others_until_released(short_dir: Path) -> None:
    """Inside the block no one else can take the lock; after it anyone can."""
    lock = short_dir / "start.lock"
    async with spawn_lock(lock):
        assert locked_elsewhere(lock)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert not locked_elsewhere(lock)


async def test_spawn_lock_waits_for_the_holder(short_dir: Path) -> None:
    """A second spawner blocks until the holder lets go (single-flight)."""
    lock = short_dir / "start.lock"
    holder = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    entered = trio.Event()

    async def take() -> None:
        async with spawn_lock(lock):
            entered.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(take)
        with trio.move_on_after(0.2):
            await entered.wait()
        assert not entered.is_set()
        os.close(holder)
        with trio.fail_after(5):
            await entered.wait()


async def test_spawn_lock_cancelled_waiter_never_enters(short_dir: Path) -> None:
    """Cancelling a blocked waiter ends the wait without running the block."""
    lock = short_dir / "start.lock"
    holder = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    entered = False
    try:
        with trio.move_on_after(0.1) as scope:
            async with spawn_lock(lock):
                entered = True
    finally:
        os.close(holder)
    assert scope.cancelled_caught
    assert not entered


async def test_spawn_lock_unavailable_runs_unsynchronised(
    short_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock file that cannot be opened: the block still runs, with a warning."""
    lock = short_dir / "start.lock"
    lock.mkdir()  # a directory cannot be opened for writing
    entered = False
    async with spawn_lock(lock):
        entered = True
    assert entered
    assert "starting unsynchronised" in caplog.text


def test_flock_handoff_abandoned_waiter_drops_the_lock(short_dir: Path) -> None:
    """A worker thread that gets the lock after its waiter gave up releases it."""
    lock = short_dir / "start.lock"
    handoff = launch._FlockHandoff(lock)
    handoff.release()  # what a cancelled spawn_lock does first
    handoff.acquire_blocking()  # the abandoned thread finally gets the lock
    assert not locked_elsewhere(lock)


def test_flock_handoff_keeps_the_lock_until_released(short_dir: Path) -> None:
    """A lock handed over is held until ``release``."""
    lock = short_dir / "start.lock"
    handoff = launch._FlockHandoff(lock)
    handoff.acquire_blocking()
    assert locked_elsewhere(lock)
    handoff.release()
    assert not locked_elsewhere(lock)


async def test_start_server_detaches_the_child(
    monkeypatch: pytest.MonkeyPatch, short_dir: Path
) -> None:
    """New session, stdin /dev/null, output in the logs, no inherited fds, reaped."""
    monkeypatch.setattr(
        launch, "server_command", lambda host: [sys.executable, "-c", REPORTING_CHILD]
    )
    leak = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leak, True)
    try:
        process = start_server(parse_host(f"unix://{short_dir}/d.sock"), short_dir)
    finally:
        os.close(leak)
    with trio.fail_after(10):
        while process.returncode is None:  # set by the reaper thread
            await trio.sleep(0.01)
    facts = json.loads((short_dir / "stdout.log").read_text())
    assert facts["pid"] == facts["sid"] == process.pid
    assert facts["stdin"] == ""
    assert facts["fds"][:3] == [0, 1, 2]
    assert len(facts["fds"]) == 4  # 0-2 plus the listdir's own descriptor
    assert (short_dir / "stderr.log").read_text() == "boom\n"
    assert process.returncode == 3
    assert not await trio.Path(f"/proc/{process.pid}").exists()  # reaped, no zombie


def test_start_server_exec_failure_names_the_logs(
    monkeypatch: pytest.MonkeyPatch, short_dir: Path
) -> None:
    """A command that cannot be executed is a ServerStartError naming the logs."""
    missing = str(short_dir / "no-such-python")
    monkeypatch.setattr(launch, "server_command", lambda host: [missing])
    with pytest.raises(ServerStartError) as caught:
        start_server(parse_host(f"unix://{short_dir}/d.sock"), short_dir)
    message = str(caught.value)
    assert message.startswith(
        f"failed to initialize crush server: cannot start {missing}"
    )
    assert str(short_dir / "stderr.log") in message
    assert caught.value.log_dir == short_dir


async def test_health_error_reports_a_silent_daemon(
    short_dir: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """An attempt that gets no answer in time says so, with the budget."""

    async def silent(request: httpx.Request) -> httpx.Response:
        await trio.sleep_forever()
        raise AssertionError("not reached")

    host = parse_host(f"unix://{short_dir}/d.sock")
    async with Client(host, transport=httpx.MockTransport(silent)) as client:
        reason = await health_error(client, 0.1)
    assert reason == "GET /v1/health: no answer within 0.1 s"


async def test_health_error_reports_an_error_status(short_dir: Path) -> None:
    """A non-2xx answer is a failure carrying the daemon's message; 2xx is None."""

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"message": "server is shutting down"})

    host = parse_host(f"unix://{short_dir}/d.sock")
    async with Client(host, transport=httpx.MockTransport(failing)) as client:
        assert await health_error(client, 0.1) == "server is shutting down"
    healthy = httpx.MockTransport(lambda request: httpx.Response(200))
    async with Client(host, transport=healthy) as client:
        assert await health_error(client, 0.1) is None


def test_server_command_ignores_a_crushd_folder_in_the_cwd(
    monkeypatch: pytest.MonkeyPatch, short_dir: Path
) -> None:
    """A folder named ``crushd`` where crushctl runs never shadows the package."""
    shadow = short_dir / "crushd"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('shadowed')\n")
    monkeypatch.chdir(short_dir)
    command = server_command(default_host())
    command[command.index("serve")] = "--version"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("crushd ")


def test_last_line_skips_blank_lines_and_missing_files(short_dir: Path) -> None:
    """The last non-blank line of the file's tail; "" when there is none."""
    log = short_dir / "stderr.log"
    assert launch.last_line(log) == ""
    log.write_bytes(b"x" * 10_000 + b"\nTraceback\n  ...\nImportError: bad \xff\n\n")
    assert launch.last_line(log) == "ImportError: bad \ufffd"
    log.write_text("\n \n")
    assert launch.last_line(log) == ""
